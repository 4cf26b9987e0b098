// Worker thread: loads one model, health-checks it, then answers invocations one at a time.
// Running predict here (not on the HTTP thread) is what lets the server abandon a slow or
// CPU-bound prediction at its deadline by terminating this thread.
import { parentPort, workerData } from 'node:worker_threads';
import { MillwrightError } from '../lib/errors/index.ts';
import type { LoadedModel } from '../lib/model/contract.ts';
import { healthCheck } from './health-check.ts';
import { invocations } from './invocations.ts';
import { inferV2 } from './v2/infer.ts';
import type { WorkerInit, WorkerReply, WorkerRequest } from './pool.ts';

const init = workerData as WorkerInit;
const port = parentPort!;

async function start(): Promise<void> {
  let model: LoadedModel;
  try {
    const mod = (await import(init.loader)) as { loadModel: (dir: string) => Promise<LoadedModel> };
    model = await mod.loadModel(init.modelDir);
    await healthCheck(model);
  } catch (err) {
    const reply: WorkerReply = { type: 'failed', error: MillwrightError.from(err).toJSON() };
    port.postMessage(reply);
    return;
  }
  const m = model.manifest;
  port.on('message', (msg: WorkerRequest) => {
    const answer = msg.v2 ? inferV2(model, { body: msg.body, contentType: msg.contentType, ...msg.v2 }) : invocations(model, msg, { maxBodyBytes: init.maxBodyBytes });
    void answer.then((res) => {
      const reply: WorkerReply = { type: 'result', id: msg.id, ...res };
      // Binary V2 outputs are a fresh buffer of their own: moved to the HTTP thread, not copied.
      const binary = (res as { binary?: Uint8Array }).binary;
      port.postMessage(reply, binary ? [binary.buffer as ArrayBuffer] : []);
    });
  });
  const ready: WorkerReply = { type: 'ready', manifest: { name: m.name, version: m.version, algorithm: m.algorithm, task: m.task, features: m.features, target: m.target, ...(model.notes ? { notes: model.notes } : {}), ...(model.tensors ? { tensors: model.tensors } : {}) } };
  port.postMessage(ready);
}

void start();
