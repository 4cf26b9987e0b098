import type { Worker } from 'node:worker_threads';
import { MillwrightError, type MillwrightErrorJSON } from '../lib/errors/index.ts';
import type { FeatureSpec, ModelManifest, TensorSignature } from '../lib/model/contract.ts';
import { invocations, invocationsNow, type InvocationResult } from './invocations.ts';
import { loadInlineModel, loadInlineTensorModel, type InlineDecision, type InlineModel } from './inline-model.ts';
import { inferV2 } from './v2/infer.ts';
import { InlineLimitExceeded } from './inline-limit.ts';
import { mergeResults, splitCsvBody } from './shard.ts';
import { startWorker } from '../lib/workers/index.ts';

/** Shared buffers kept for split batches between requests (one per pair of workers splitting at once). */
const SHARED_KEEP = 2;

/** What a worker is started with. */
export interface WorkerInit {
  modelDir: string;
  /** Module URL exporting `loadModel(dir) => Promise<LoadedModel>`. */
  loader: string;
  maxBodyBytes: number;
}

export interface WorkerRequest {
  id: number;
  /** The body; for a part of a split batch, a view of a SharedArrayBuffer the pool reuses once it is answered. */
  body: Uint8Array;
  contentType?: string;
  accept?: string;
  /**
   * `v2`: an Open Inference Protocol request for this model (serve/v2), answered under
   * `v2.modelName`/`modelVersion`; `headerLength` is its `Inference-Header-Content-Length` (binary tensors).
   */
  v2?: { modelName: string; modelVersion: string; headerLength?: string };
  /** Answer TreeSHAP attributions with the predictions (`?explain=true`). */
  explain?: boolean;
}

/** The part of the manifest the HTTP layer needs (metrics, logs, capture paths, /health/ready). */
export type ModelInfo = Pick<ModelManifest, 'name' | 'version' | 'algorithm' | 'task' | 'target'> & {
  features: FeatureSpec[];
  dir: string;
  /** What the model's package reported at load in the first worker (e.g. the forest engine it chose). */
  notes?: Record<string, unknown>;
  /** Tensor models: inputs, outputs (real shapes, -1 dynamic) and the image/detection steps. */
  tensors?: TensorSignature;
  /** Whether small requests are answered on the HTTP thread (serve/inline-model.ts), and why (not). */
  inline?: InlineDecision;
};

export type WorkerReply =
  | { type: 'ready'; manifest: Omit<ModelInfo, 'dir'> }
  | { type: 'failed'; error: MillwrightErrorJSON }
  | ({ type: 'result'; id: number } & PoolResult);

/** A worker's answer; V2 answers may carry binary outputs after the JSON body and the request's inference id. */
export type PoolResult = InvocationResult & { binary?: Uint8Array; inferenceId?: string };

interface Job {
  id: number;
  msg: WorkerRequest;
  resolve: (r: PoolResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  slot?: Slot;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  job?: Job;
}

export interface PoolOptions {
  modelDir: string;
  loader: string;
  /** Worker threads, each holding its own copy of the model. */
  size: number;
  maxBodyBytes: number;
  /** How long loading + health check may take before the version is rejected (default 120 s). */
  loadTimeoutMs?: number;
  /** Called with operational events (worker crashed, replaced). */
  onEvent?: (event: string, fields: Record<string, unknown>) => void;
  /**
   * Bodies up to this many bytes are answered on the calling (HTTP) thread by a copy of the
   * model, when the model qualifies (serve/inline-model.ts); 0 or absent = always the workers.
   */
  inlineMaxBytes?: number;
  /**
   * V2 and `/invocations` bodies up to this many bytes for a tensor model are answered on the
   * calling (HTTP) thread by a copy of the model, when it qualifies (serve/inline-model.ts
   * `loadInlineTensorModel`); 0 or absent = always the workers.
   */
  tensorInlineMaxBytes?: number;
}

/**
 * A set of worker threads serving ONE model version. Requests queue here and go to the next
 * idle worker; a request still unanswered at its deadline is rejected with DEADLINE_EXCEEDED
 * and, if a worker was running it, that worker is terminated and replaced, so a runaway
 * predict cannot hold later callers. Blue/green reload = start a new pool, swap, drain the old.
 */
export class ModelPool {
  readonly options: PoolOptions;
  info?: ModelInfo;
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private inFlight = 0;
  private closed = false;
  private terminated = false;
  private drainWaiters: (() => void)[] = [];
  private inline?: InlineModel;
  private tensorInline?: InlineModel;
  /** Shared buffers of finished split batches, for the next ones (`sharedParts`). */
  private sharedFree: SharedArrayBuffer[] = [];

  constructor(options: PoolOptions) {
    this.options = options;
  }

  /** Starts every worker; resolves once all loaded and passed the health check, rejects (and cleans up) otherwise. */
  async start(): Promise<ModelInfo> {
    try {
      const infos = await Promise.all(Array.from({ length: this.options.size }, () => this.spawn()));
      const { inline, decision } = await loadInlineModel(this.options.modelDir, this.options.loader, { maxBytes: this.options.inlineMaxBytes ?? 0, maxBodyBytes: this.options.maxBodyBytes });
      this.inline = inline;
      let tensorDecision: InlineDecision | undefined;
      if (infos[0]!.tensors && this.options.tensorInlineMaxBytes !== undefined) {
        const t = await loadInlineTensorModel(this.options.modelDir, this.options.loader, { maxBytes: this.options.tensorInlineMaxBytes });
        this.tensorInline = t.inline;
        tensorDecision = t.decision;
      }
      const decided = tensorDecision ?? (this.options.inlineMaxBytes !== undefined ? decision : undefined);
      this.info = { ...infos[0]!, dir: this.options.modelDir, ...(decided ? { inline: decided } : {}) };
      return this.info;
    } catch (err) {
      await this.terminate();
      throw err;
    }
  }

  /** True when at least one worker is ready to predict. */
  get healthy(): boolean {
    return !this.closed && this.slots.some((s) => s.ready);
  }

  /** Requests queued or running. */
  get pending(): number {
    return this.inFlight;
  }

  /** Runs one invocation; rejects with DEADLINE_EXCEEDED at `deadlineAt` (epoch ms). */
  run(req: Omit<WorkerRequest, 'id'>, deadlineAt: number, opts: { continuation?: boolean } = {}): Promise<PoolResult> {
    // A draining pool still finishes what it accepted, including the second step of a split request.
    if (this.terminated || (this.closed && !opts.continuation)) return Promise.reject(new MillwrightError('UNAVAILABLE', 'model is being replaced or shut down; retry'));
    const id = this.nextId++;
    this.inFlight++;
    return new Promise<PoolResult>((resolve, reject) => {
      const budget = Math.max(0, deadlineAt - Date.now());
      const job: Job = {
        id,
        msg: { ...req, id },
        resolve: (r) => {
          clearTimeout(job.timer);
          this.finish();
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(job.timer);
          this.finish();
          reject(e);
        },
        timer: setTimeout(() => this.expire(job, budget), budget),
      };
      this.queue.push(job);
      this.dispatch();
    });
  }

  /**
   * Runs one V2 request (`req.v2` set): a small body for a tensor model with an HTTP-thread copy
   * is answered here by the same `inferV2` the workers run (no hop, no copy of the body into a
   * worker); everything else goes to the workers through `run`. Same answers either way.
   */
  runV2(req: Omit<WorkerRequest, 'id'> & { v2: NonNullable<WorkerRequest['v2']> }, deadlineAt: number): Promise<PoolResult> {
    const inline = this.tensorInline;
    if (!inline || this.closed || req.body.byteLength > inline.maxBytes) return this.run(req, deadlineAt);
    this.inFlight++;
    const answer = inferV2(inline.model, { body: req.body, contentType: req.contentType, ...req.v2, ...(inline.maxExamples !== undefined ? { maxExamples: inline.maxExamples } : {}) });
    return this.settleInline(answer, () => this.run(req, deadlineAt, { continuation: true }));
  }

  /**
   * An answer made on this thread: counted out of `inFlight` when it settles, marked inline. A
   * request with more examples than this thread may run (InlineLimitExceeded, before any was decoded
   * or run) is answered by `handBack` (the workers) instead, still counted in, so a drain waits for it.
   */
  private settleInline<T extends object>(answer: Promise<T>, handBack?: () => Promise<T>): Promise<T | (T & { inline: true })> {
    return answer.then(
      (r) => {
        this.finish();
        return { ...r, inline: true as const };
      },
      (err: unknown) => {
        if (handBack && err instanceof InlineLimitExceeded) return handBack().finally(() => this.finish());
        this.finish();
        throw err;
      },
    );
  }

  /**
   * Runs one invocation, splitting a large CSV batch across the idle workers so it is predicted in
   * parallel (same answer, same order; not split when fewer than two workers are idle); a small body on a model that qualifies is answered on
   * this thread instead (`inlineMaxBytes`). Falls back to one worker when a part fails, so errors
   * name the right row.
   */
  async invoke(req: Omit<WorkerRequest, 'id'>, deadlineAt: number): Promise<InvocationResult> {
    return this.invokeNow(req, deadlineAt);
  }

  /**
   * `invoke`, answered synchronously when the inline copy can (serve/invocations.ts
   * `invocationsNow`): no promise for a single numeric row on the HTTP thread. Same answers.
   */
  invokeNow(req: Omit<WorkerRequest, 'id'>, deadlineAt: number): InvocationResult | Promise<InvocationResult> {
    // a small body on a cheap, bounded model: answered here, without the hop to a worker and back
    const inline = this.inline;
    if (inline && !this.closed && req.explain !== true && req.v2 === undefined && req.body.byteLength <= inline.maxBytes) {
      this.inFlight++;
      let answer: InvocationResult | Promise<InvocationResult>;
      try {
        answer = invocationsNow(inline.model, req, { maxBodyBytes: this.options.maxBodyBytes });
      } catch (err) {
        this.finish();
        throw err;
      }
      if (answer instanceof Promise) return this.settleInline(answer);
      this.finish();
      answer.inline = true;
      return answer;
    }
    // a small body for a tensor model (JSON tensors or one image): its HTTP-thread copy, as runV2 does
    const tensor = this.tensorInline;
    if (tensor && !this.closed && req.explain !== true && req.v2 === undefined && req.body.byteLength <= tensor.maxBytes) {
      this.inFlight++;
      const answer = invocations(tensor.model, req, { maxBodyBytes: this.options.maxBodyBytes, ...(tensor.maxExamples !== undefined ? { maxExamples: tensor.maxExamples } : {}) });
      return this.settleInline(answer, () => this.run(req, deadlineAt, { continuation: true }));
    }
    return this.invokeOnWorkers(req, deadlineAt);
  }

  private async invokeOnWorkers(req: Omit<WorkerRequest, 'id'>, deadlineAt: number): Promise<InvocationResult> {
    // explained answers are not split: their JSON is not a plain list of predictions to concatenate
    // Split only onto idle workers: under concurrent load every worker is already busy with a
    // request of its own, and splitting would only add messages, a repeated header and a merge.
    const idle = this.queue.length === 0 ? this.idleWorkers() : 0;
    const parts = this.info && req.explain !== true && idle >= 2 ? splitCsvBody(req.body, req.contentType, this.info.features, Math.min(idle, this.options.size)) : undefined;
    if (!parts) return this.run(req, deadlineAt);
    if (this.closed) throw new MillwrightError('UNAVAILABLE', 'model is being replaced or shut down; retry');
    this.inFlight++; // held across both steps, so a drain waits for the fallback too
    // The parts go to the workers as views of one shared buffer (no copy and no transfer per part);
    // it is reused once every part has settled, whatever the outcome.
    const shared = this.info?.tensors === undefined ? this.sharedParts(parts) : undefined;
    try {
      const runs = (shared?.views ?? parts).map((body) => this.run({ ...req, body }, deadlineAt, { continuation: true }));
      if (shared) void Promise.allSettled(runs).then(() => this.releaseShared(shared.buffer));
      const results = await Promise.all(runs);
      return mergeResults(results) ?? (await this.run(req, deadlineAt, { continuation: true }));
    } finally {
      this.finish();
    }
  }

  /**
   * The parts of a split body copied into one SharedArrayBuffer (a free one reused, else a new
   * one), with a view per part. Measured for the two ~790 KB halves of a 10,000-row batch: copying
   * each into a fresh buffer to transfer it cost the HTTP thread 0.3-0.5 ms per request, a fresh
   * shared buffer ~1 ms (its pages are new), a reused one 0.14 ms; the workers read it in place.
   */
  private sharedParts(parts: Uint8Array[]): { buffer: SharedArrayBuffer; views: Uint8Array[] } {
    let size = 0;
    for (const p of parts) size += p.byteLength;
    const i = this.sharedFree.findIndex((b) => b.byteLength >= size);
    const buffer = i >= 0 ? this.sharedFree.splice(i, 1)[0]! : new SharedArrayBuffer(size);
    const all = new Uint8Array(buffer);
    const views: Uint8Array[] = [];
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      views.push(new Uint8Array(buffer, at, p.byteLength));
      at += p.byteLength;
    }
    return { buffer, views };
  }

  /** Keeps a few shared buffers (the largest) for the next split batches. */
  private releaseShared(buffer: SharedArrayBuffer): void {
    if (this.terminated) return;
    this.sharedFree.push(buffer);
    this.sharedFree.sort((a, b) => b.byteLength - a.byteLength);
    this.sharedFree.length = Math.min(this.sharedFree.length, SHARED_KEEP);
  }

  /** Workers ready and not running a request now. */
  private idleWorkers(): number {
    let n = 0;
    for (const s of this.slots) if (s.ready && s.job === undefined) n++;
    return n;
  }

  /** Stops taking work, waits for queued and running requests, then ends the workers. */
  async drain(): Promise<void> {
    this.closed = true;
    if (this.inFlight > 0) await new Promise<void>((r) => this.drainWaiters.push(r));
    await this.terminate();
  }

  /** Ends all workers now. */
  async terminate(): Promise<void> {
    this.closed = true;
    this.terminated = true;
    this.inline = undefined;
    this.tensorInline = undefined;
    this.sharedFree = [];
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => 0)));
  }

  private finish(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const w of this.drainWaiters.splice(0)) w();
  }

  private expire(job: Job, budget: number): void {
    const err = new MillwrightError('DEADLINE_EXCEEDED', `prediction did not finish within the ${budget} ms deadline; retry later or send fewer rows`);
    const qi = this.queue.indexOf(job);
    if (qi >= 0) this.queue.splice(qi, 1);
    const slot = job.slot;
    if (slot && slot.job === job) {
      // The worker is stuck in this job: replace it rather than let it delay later requests.
      slot.job = undefined;
      this.replace(slot, 'deadline exceeded');
    }
    job.reject(err);
  }

  private replace(slot: Slot, reason: string): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.ready = false;
    void slot.worker.terminate().catch(() => 0);
    this.options.onEvent?.('worker replaced', { reason, modelDir: this.options.modelDir });
    if (this.closed) return;
    this.spawn().catch((err: Error) => {
      this.options.onEvent?.('worker restart failed', { reason: err.message, modelDir: this.options.modelDir });
      // Try again later; the other workers keep serving meanwhile.
      const t = setTimeout(() => !this.closed && this.replaceMissing(), 2000);
      t.unref();
    });
  }

  private replaceMissing(): void {
    if (this.slots.length < this.options.size) {
      this.spawn().catch(() => {
        const t = setTimeout(() => !this.closed && this.replaceMissing(), 2000);
        t.unref();
      });
    }
  }

  private spawn(): Promise<Omit<ModelInfo, 'dir'>> {
    const init: WorkerInit = { modelDir: this.options.modelDir, loader: this.options.loader, maxBodyBytes: this.options.maxBodyBytes };
    const worker = startWorker(new URL('./predict-worker.ts', import.meta.url), init);
    const slot: Slot = { worker, ready: false };
    this.slots.push(slot);
    return new Promise((resolve, reject) => {
      let settled = false;
      const loadTimer = setTimeout(() => fail(new MillwrightError('UNAVAILABLE', `model at ${this.options.modelDir} did not load within ${this.options.loadTimeoutMs ?? 120000} ms`)), this.options.loadTimeoutMs ?? 120000);
      const fail = (err: Error) => {
        clearTimeout(loadTimer);
        if (!settled) {
          settled = true;
          const i = this.slots.indexOf(slot);
          if (i >= 0) this.slots.splice(i, 1);
          void worker.terminate().catch(() => 0);
          reject(err);
        }
      };
      worker.on('message', (reply: WorkerReply) => {
        if (reply.type === 'ready') {
          clearTimeout(loadTimer);
          settled = true;
          slot.ready = true;
          resolve(reply.manifest);
          this.dispatch();
        } else if (reply.type === 'failed') {
          const e = MillwrightError.fromJSON(reply.error);
          fail(new MillwrightError(e.code, `model at ${this.options.modelDir} was rejected: ${e.message}`, { details: e.details, cause: e }));
        } else {
          const job = slot.job;
          if (job && job.id === reply.id) {
            slot.job = undefined;
            const { type: _t, id: _i, ...result } = reply;
            job.resolve(result);
          }
          this.dispatch();
        }
      });
      worker.on('error', (err) => {
        if (!settled) return fail(err);
        this.crashed(slot, err.message);
      });
      worker.on('exit', (code) => {
        if (!settled) return fail(new MillwrightError('UNAVAILABLE', `model worker exited with code ${code} while loading ${this.options.modelDir}`));
        if (this.slots.includes(slot)) this.crashed(slot, `exit code ${code}`);
      });
    });
  }

  private crashed(slot: Slot, reason: string): void {
    const job = slot.job;
    slot.job = undefined;
    if (!this.slots.includes(slot)) return;
    this.replace(slot, `worker crashed: ${reason}`);
    job?.reject(new MillwrightError('INTERNAL', 'the model crashed while predicting this request'));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => s.ready && s.job === undefined);
      if (!slot) return;
      const job = this.queue.shift()!;
      job.slot = slot;
      slot.job = job;
      // A part of a split batch is a view of a shared buffer: posted as it is, read in place.
      if (job.msg.body.buffer instanceof SharedArrayBuffer) {
        slot.worker.postMessage(job.msg);
        continue;
      }
      // The HTTP thread keeps the body (data capture, the fallback of a split batch): the worker
      // gets its own copy, a plain Uint8Array whose buffer is moved. Measured on the V2 binary
      // route (12 KiB body): 0.15-0.2 ms p50 less per request than letting postMessage clone the Buffer.
      const body = new Uint8Array(job.msg.body);
      slot.worker.postMessage({ ...job.msg, body }, [body.buffer]);
    }
  }
}
