// V2 requests for a small tensor model answered on the HTTP thread (serve/inline-model.ts
// loadInlineTensorModel, ModelPool.runV2) against the same model served by the workers only
// (inlineMaxBytes: 0): the same bytes back, status and headers for varied tensors, requested
// outputs, the binary extension and every error case (shape/data mismatch, wrong datatype,
// invalid JSON, unknown input/output), and bodies over the limit still go to the workers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { convClassifier, importTensorModel, weights } from '../algorithms/onnx-tensor-models.ts';
import { REAL_LOADER, scratch } from './helpers.ts';

const H = 8;
const W = 8;
let inline: RunningServer;
let workersOnly: RunningServer;
let cleanup: () => Promise<void>;
const logs: Record<string, unknown>[] = [];

before(async () => {
  const s = await scratch('mw-v2-tensor-inline-');
  cleanup = s.cleanup;
  const conv = await importTensorModel(join(s.dir, 'conv'), 'conv', convClassifier({ h: H, w: W, classes: 4 }));
  inline = await startServer({ modelDir: conv.modelDir, loader: REAL_LOADER, port: 0, workers: 1, tensorInlineMaxBytes: 16 * 1024, log: (l) => logs.push(l) });
  workersOnly = await startServer({ modelDir: conv.modelDir, loader: REAL_LOADER, port: 0, workers: 1, inlineMaxBytes: 0, log: () => {} });
});

after(async () => {
  await inline?.close();
  await workersOnly?.close();
  await cleanup?.();
});

async function post(srv: RunningServer, body: string | Uint8Array, headers: Record<string, string>): Promise<{ status: number; type: string | null; hcl: string | null; bytes: Buffer }> {
  const r = await fetch(`${srv.url}/v2/models/conv/infer`, { method: 'POST', body, headers });
  return { status: r.status, type: r.headers.get('content-type'), hcl: r.headers.get('inference-header-content-length'), bytes: Buffer.from(await r.arrayBuffer()) };
}

/** Same answer from both servers; returns the inline one. */
async function same(body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const a = await post(inline, body, headers);
  const b = await post(workersOnly, body, headers);
  assert.equal(a.status, b.status);
  assert.equal(a.type, b.type);
  assert.equal(a.hcl, b.hcl);
  assert.equal(a.bytes.toString('hex'), b.bytes.toString('hex'), a.bytes.subarray(0, 200).toString());
  return a;
}

const json = (v: unknown) => JSON.stringify(v);
const image = (n: number, seed: number, extra: Record<string, unknown> = {}) => ({ name: 'image', datatype: 'FP32', shape: [n, 3, H, W], data: weights(n * 3 * H * W, seed), ...extra });

test('the tensor model is answered on the HTTP thread (logged decision)', () => {
  const loaded = logs.find((l) => l.msg === 'model loaded') as { inline?: { inline: boolean; reason: string } } | undefined;
  assert.equal(loaded?.inline?.inline, true, JSON.stringify(loaded?.inline));
});

test('varied tensors, nested and flat data, requested outputs, id: byte-identical answers', async () => {
  for (const [i, n] of [1, 2, 3].entries()) {
    assert.equal((await same(json({ inputs: [image(n, 20 + i)] }))).status, 200);
    assert.equal((await same(json({ id: `r-${i}`, inputs: [image(n, 30 + i)], outputs: [{ name: 'logits' }] }))).status, 200);
  }
  // nested data (the spec's other form), integers, negative zero, exponents
  const flat = weights(3 * H * W, 7).map((v, k) => (k % 5 === 0 ? Math.round(v * 10) : k % 7 === 0 ? v * 1e-12 : v));
  flat[1] = -0;
  const nested = Array.from({ length: 3 }, (_, c) => Array.from({ length: H }, (_, y) => flat.slice((c * H + y) * W, (c * H + y + 1) * W)));
  assert.equal((await same(json({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, H, W], data: [nested] }] }))).status, 200);
  const text = json({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, H, W], data: flat }] }).replace(/,/g, ', ');
  assert.equal((await same(text)).status, 200);
});

test('binary tensor extension in and out: byte-identical', async () => {
  const x = Float32Array.from(weights(2 * 3 * H * W, 9));
  const head = Buffer.from(json({ inputs: [{ name: 'image', datatype: 'FP32', shape: [2, 3, H, W], parameters: { binary_data_size: x.byteLength } }], outputs: [{ name: 'logits', parameters: { binary_data: true } }, { name: 'features' }] }));
  const r = await same(Buffer.concat([head, new Uint8Array(x.buffer)]), { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.byteLength) });
  assert.equal(r.status, 200);
  assert.ok(r.hcl !== null);
});

test('errors: same protocol error and status on both paths', async () => {
  const cases: [string, string | Uint8Array, number][] = [
    ['shape/data mismatch', json({ inputs: [{ ...image(1, 1), shape: [2, 3, H, W] }] }), 400],
    ['wrong datatype', json({ inputs: [{ ...image(1, 2), datatype: 'FP64' }] }), 400],
    ['INT32 with fractions', json({ inputs: [{ ...image(1, 3), datatype: 'INT32' }] }), 400],
    ['invalid JSON', '{"inputs": [', 400],
    ['not an object', '[1, 2]', 400],
    ['unknown input', json({ inputs: [{ ...image(1, 4), name: 'pixels' }] }), 400],
    ['unknown output', json({ inputs: [image(1, 5)], outputs: [{ name: 'nope' }] }), 400],
    ['wrong spatial size', json({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, H, H + 1], data: weights(3 * H * (H + 1), 6) }] }), 400],
    ['non-numeric data', json({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, H, W], data: weights(3 * H * W, 8).map((v, k) => (k === 3 ? 'x' : v)) }] }), 400],
  ];
  for (const [what, body, status] of cases) {
    const r = await same(body);
    assert.equal(r.status, status, `${what}: ${r.bytes.toString()}`);
    assert.ok(typeof (JSON.parse(r.bytes.toString()) as { error?: unknown }).error === 'string', what);
  }
});

test('a body over the HTTP-thread limit goes to the workers with the same answer', async () => {
  const big = json({ inputs: [image(8, 40)] });
  assert.ok(Buffer.byteLength(big) > 16 * 1024);
  assert.equal((await same(big)).status, 200);
});
