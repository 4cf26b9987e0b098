// `millwright serve` as a real process (the container's `serve` entry point): settings from
// SageMaker environment variables, graceful SIGTERM with requests in flight, usage errors.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main } from '../../cli/main.ts';
import { sql } from '../../lib/store/index.ts';
import { repoRoot } from '../helpers/data.ts';
import { captureIO } from '../helpers/io.ts';
import { writeLinearModel } from './fixtures/linear-model.ts';
import { http, invoke, LINEAR_LOADER, scratch, waitReady } from './helpers.ts';
import { sourceCliArgs } from '../helpers/cli.ts';

let dir: string;
let cleanup: () => Promise<void>;
const SLOW = 999;

before(async () => {
  const s = await scratch();
  dir = s.dir;
  cleanup = s.cleanup;
  await writeLinearModel(join(dir, 'model'), { name: 'press', version: 'v7', weights: { a: 2, b: 3 }, busyMs: 1500, busyMarker: SLOW });
});
after(async () => cleanup?.());

function cli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null>; url: Promise<string> } {
  const child = spawn(process.execPath, sourceCliArgs(...args), {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let resolveUrl!: (u: string) => void;
  const url = new Promise<string>((r) => (resolveUrl = r));
  child.stdout!.on('data', (d) => {
    out += d.toString();
    const m = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(out);
    if (m) resolveUrl(m[1]!);
  });
  child.stderr!.on('data', (d) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stdout: () => out, stderr: () => err, exit, url };
}

test('serve honours SageMaker env settings, answers, and on SIGTERM finishes in-flight requests then exits 0', async () => {
  const p = cli(['serve', '--model', join(dir, 'model'), '--loader', LINEAR_LOADER], {
    SAGEMAKER_BIND_TO_PORT: '0',
    SAGEMAKER_MODEL_SERVER_WORKERS: '2',
    SAGEMAKER_MODEL_SERVER_TIMEOUT: '4',
    SAGEMAKER_MAX_PAYLOAD_IN_MB: '1',
  });
  try {
    const url = await Promise.race([p.url, p.exit.then((c) => Promise.reject(new Error(`exited ${c}: ${p.stderr()}`)))]);
    await waitReady(url, p.stderr);
    assert.equal((await http(`${url}/ping`)).status, 200);
    assert.deepEqual((await http(`${url}/execution-parameters`)).json(), { MaxConcurrentTransforms: 2, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 1 });
    assert.deepEqual((await invoke(url, '1,1\n', 'text/csv')).json(), { predictions: [5] });

    // Three requests that each take 1.5 s of CPU (two workers: two run, one queues), then SIGTERM while they are in flight.
    const inflight = [invoke(url, `${SLOW},0\n`, 'text/csv'), invoke(url, `${SLOW},1\n`, 'text/csv'), invoke(url, `${SLOW},2\n`, 'text/csv')];
    let inFlight = false;
    for (let i = 0; i < 100 && !inFlight; i++) {
      inFlight = /^millwright_invocations_in_flight 3$/m.test((await http(`${url}/metrics`)).text);
      if (!inFlight) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(inFlight, 'three requests in flight before SIGTERM');
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const replies = await Promise.all(inflight);
    assert.deepEqual(
      replies.map((r) => r.json()),
      [{ predictions: [SLOW * 2] }, { predictions: [SLOW * 2 + 3] }, { predictions: [SLOW * 2 + 6] }],
    );
    assert.equal(await p.exit, 0);
    assert.ok(Date.now() - t0 < 30_000);
    await assert.rejects(fetch(`${url}/ping`), 'no longer accepting connections');
    const logs = p.stdout().trim().split('\n').map((l) => JSON.parse(l) as { msg: string; status?: number });
    assert.ok(logs.some((l) => l.msg === 'shutting down'));
    assert.equal(logs.at(-1)!.msg, 'stopped');
    assert.equal(logs.filter((l) => l.msg === 'request' && l.status === 200).length >= 4, true);
  } finally {
    p.child.kill('SIGKILL');
  }
});

test('usage errors exit 2; a model that fails verification exits 1 with the reason (in-process)', async () => {
  const bad = captureIO();
  assert.equal(await main(['serve', '--model', join(dir, 'model'), '--timeout', 'soon'], bad), 2);
  assert.match(bad.stderr, /timeout: "soon" is not a duration/);
  assert.equal(await main(['serve', '--model', join(dir, 'model'), '--group', 'g'], captureIO()), 2);
  assert.equal(await main(['serve', '--capture-sample', '2', '--model', join(dir, 'model')], captureIO()), 2);
  const missing = captureIO();
  assert.equal(await main(['serve', '--model', join(dir, 'nope'), '--port', '0', '--loader', LINEAR_LOADER], missing), 1);
  assert.match(missing.stderr, /rejected/);
  const keyless = captureIO();
  assert.equal(await main(['serve', '--model', join(dir, 'model'), '--ground-truth-lot', 'lot'], keyless), 2);
  assert.match(keyless.stderr, /--ground-truth-lot needs --ground-truth-dir/);
  const timeOnly = captureIO();
  assert.equal(await main(['serve', '--model', join(dir, 'model'), '--ground-truth-dir', join(dir, 'l'), '--ground-truth-tolerance', '5s'], timeOnly), 2);
  assert.match(timeOnly.stderr, /--ground-truth-tolerance applies to asset \+ time labels: give --ground-truth-asset COL too/);
  const help = captureIO();
  assert.equal(await main(['serve', '--help'], help), 0);
  assert.match(help.stdout, /--capture-sample P/);
});

test('serve --ground-truth-dir and --monitoring-store: labels by inference id, lot and asset + time, by HTTP and by file, reach the scheduled run, whose rows land in the store', async () => {
  const token = 'cli-gt-token';
  const gt = join(dir, 'labels');
  const store = join(dir, 'store');
  const p = cli([
    'serve', '--model', join(dir, 'model'), '--loader', LINEAR_LOADER, '--port', '0', '--workers', '1',
    '--capture', join(dir, 'capture'), '--capture-sample', '1', '--reports', join(dir, 'reports'), '--reports-every', '0',
    '--ground-truth-dir', gt, '--monitoring-store', store,
    '--ground-truth-lot', 'lot', '--ground-truth-asset', 'machine', '--ground-truth-time', 'ts', '--ground-truth-tolerance', '1s',
  ], { MILLWRIGHT_ADMIN_TOKEN: token });
  try {
    const url = await Promise.race([p.url, p.exit.then((c) => Promise.reject(new Error(`exited ${c}: ${p.stderr()}`)))]);
    await waitReady(url, p.stderr);
    const auth = { authorization: `Bearer ${token}` };
    for (let i = 0; i < 4; i++) {
      const r = await http(`${url}/invocations`, { body: `${i},1\n`, headers: { 'content-type': 'text/csv', accept: 'application/json', 'x-amzn-sagemaker-inference-id': `cli-${i}` } });
      assert.equal(r.headers.get('x-amzn-sagemaker-inference-id'), `cli-${i}`);
    }
    // Business keys the model does not use, kept in the capture: a lot (JSON) and a machine + time (CSV with a header).
    assert.equal((await http(`${url}/invocations`, { body: JSON.stringify({ instances: [{ a: 5, b: 1, lot: 'L5' }] }), headers: { 'content-type': 'application/json' } })).text, '{"predictions":[13]}');
    assert.equal((await http(`${url}/invocations`, { body: 'a,b,machine,ts\n6,1,m1,2026-12-02T10:00:00Z\n', headers: { 'content-type': 'text/csv', accept: 'application/json' } })).text, '{"predictions":[15]}');
    // predictions 2i + 3; labels 2i + 4 (error 1 each): by id over HTTP and in a file, by lot and by machine + time (0.5 s off, within 1 s)
    assert.equal((await http(`${url}/ground-truth`, { body: 'inference_id,label\ncli-0,4\ncli-1,6\n', headers: { ...auth, 'content-type': 'text/csv' } })).status, 201);
    assert.equal((await http(`${url}/ground-truth`, { body: 'lot,label\nL5,14\n', headers: { ...auth, 'content-type': 'text/csv' } })).status, 201);
    assert.equal((await http(`${url}/ground-truth`, { body: 'asset,time,label\nm1,2026-12-02T10:00:00.500Z,16\nm1,2026-12-02T10:00:05Z,99\n', headers: { ...auth, 'content-type': 'text/csv' } })).status, 201);
    await mkdir(gt, { recursive: true });
    await writeFile(join(gt, 'more.csv'), 'inference_id,label\ncli-2,8\ncli-3,10\n');
    await new Promise((r) => setTimeout(r, 2500)); // the folder's 2 s stability rule
    const run = await http(`${url}/admin/reports/regenerate`, { method: 'POST', headers: auth });
    assert.equal(run.status, 200, run.text);
    assert.deepEqual(run.json<{ groundTruth: { pairs: number; unmatched: number } }>().groundTruth, { ...run.json<{ groundTruth: object }>().groundTruth, pairs: 6, unmatched: 1 });
    assert.deepEqual(await readdir(join(gt, 'done')), ['more.csv']);
    const mae = (await sql("SELECT value FROM monitoring WHERE kind = 'model_quality' AND metric = 'mae'", { root: store })).rows;
    assert.deepEqual(mae.map((r) => r.value), [1]);
    assert.match((await http(`${url}/metrics`)).text, /^millwright_model_quality\{metric="mae"\} 1$/m);
    p.child.kill('SIGTERM');
    assert.equal(await p.exit, 0);
  } finally {
    p.child.kill('SIGKILL');
  }
});
