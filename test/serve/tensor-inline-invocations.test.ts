// Which tensor-model requests are answered on the HTTP thread (serve/inline-model.ts
// loadInlineTensorModel, ModelPool.invokeNow): the probe counts the time the run keeps the thread
// busy (serve/thread-busy.ts), not time spent waiting for other threads; an image model's
// /invocations bodies (one JPEG or PNG, JSON tensors) are then answered inline, byte for byte as
// the workers answer them, errors included; a model whose run costs the HTTP thread more than the
// budget still goes to the workers; a request with more examples (images, batch rows) than probe runs
// fit the budget is handed to the workers before anything is decoded or run.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { INLINE_TENSOR_BUDGET_MS } from '../../serve/inline-model.ts';
import { InlineLimitExceeded, inlineExamples } from '../../serve/inline-limit.ts';
import { checkTensorHeader } from '../../serve/v2/tensor.ts';
import { parseRequestEnvelope } from '../../serve/v2/infer.ts';
import { tensorsToInputs } from '../../serve/v2/infer-tensors.ts';
import type { TensorSignature } from '../../lib/model/contract.ts';
import { threadBusyMs } from '../../serve/thread-busy.ts';
import { convClassifier, importTensorModel, weights } from '../algorithms/onnx-tensor-models.ts';
import { http, REAL_LOADER, scratch } from './helpers.ts';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
let inline: RunningServer;
let workersOnly: RunningServer;
let heavy: RunningServer;
let cleanup: () => Promise<void>;
const inlineLogs: Record<string, unknown>[] = [];
const heavyLogs: Record<string, unknown>[] = [];
let jpeg: Buffer;
let png: Buffer;
let grey: Buffer;

before(async () => {
  const s = await scratch('mw-tensor-inline-inv-');
  cleanup = s.cleanup;
  const small = await importTensorModel(join(s.dir, 'small'), 'small', convClassifier({ h: 16, w: 16, classes: 4, logitsOnly: true }), { image: { mean: MEAN, std: STD, maxPixels: 1_000_000 } });
  // 3 -> 96 channels at 224x224: ~88M multiply-adds a run, tens of ms on the HTTP thread, far over the budget
  const big = await importTensorModel(join(s.dir, 'big'), 'big', convClassifier({ h: 224, w: 224, classes: 96, logitsOnly: true }), { image: { mean: MEAN, std: STD } });
  // a byte limit high enough that the example limit, not the bytes, decides for the large batch below
  inline = await startServer({ modelDir: small.modelDir, loader: REAL_LOADER, port: 0, workers: 1, tensorInlineMaxBytes: 4 << 20, log: (l) => inlineLogs.push(l) });
  workersOnly = await startServer({ modelDir: small.modelDir, loader: REAL_LOADER, port: 0, workers: 1, inlineMaxBytes: 0, log: () => {} });
  heavy = await startServer({ modelDir: big.modelDir, loader: REAL_LOADER, port: 0, workers: 1, log: (l) => heavyLogs.push(l) });
  const px = new Uint8Array(40 * 30 * 3);
  for (let y = 0; y < 30; y++) for (let x = 0; x < 40; x++) for (let c = 0; c < 3; c++) px[(y * 40 + x) * 3 + c] = (x * 6 + y * 3 * (c + 1) + ((x * y) % 17) * 5) % 256;
  jpeg = await sharp(px, { raw: { width: 40, height: 30, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
  png = await sharp(px, { raw: { width: 40, height: 30, channels: 3 } }).png().toBuffer();
  grey = await sharp(jpeg).toColourspace('b-w').png().toBuffer();
});

after(async () => {
  await inline?.close();
  await workersOnly?.close();
  await heavy?.close();
  await cleanup?.();
});

const decision = (logs: Record<string, unknown>[]) => (logs.find((l) => l.msg === 'model loaded') as { inline?: { inline: boolean; reason: string; probeMs?: number; maxExamples?: number } } | undefined)?.inline;
const inlineCount = async (srv: RunningServer) => Number(/^millwright_invocations_inline_total (\S+)/m.exec((await http(`${srv.url}/metrics`)).text)?.[1] ?? NaN);

async function post(srv: RunningServer, body: string | Uint8Array, contentType: string): Promise<{ status: number; type: string | null; bytes: string }> {
  const r = await fetch(`${srv.url}/invocations`, { method: 'POST', body, headers: { 'content-type': contentType, accept: 'application/json' } });
  return { status: r.status, type: r.headers.get('content-type'), bytes: Buffer.from(await r.arrayBuffer()).toString('hex') };
}

test('busy time counts computing on this thread, not waiting for another', async () => {
  const waited = await threadBusyMs(() => new Promise((r) => setTimeout(r, 40)));
  assert.ok(waited < 20, `a 40 ms timer wait counted ${waited} ms busy`);
  const spun = await threadBusyMs(async () => {
    const end = performance.now() + 40;
    while (performance.now() < end);
  });
  assert.ok(spun >= 40, `a 40 ms synchronous loop counted ${spun} ms busy`);
});

test('an image model small enough to run on the HTTP thread answers /invocations there, byte for byte as its workers do', async () => {
  const d = decision(inlineLogs);
  assert.equal(d?.inline, true, JSON.stringify(d));
  assert.match(d!.reason, /\/invocations/);
  assert.ok(typeof d!.probeMs === 'number' && d!.probeMs <= INLINE_TENSOR_BUDGET_MS);
  const before = await inlineCount(inline);
  const instances = JSON.stringify({ instances: [Array.from({ length: 3 }, (_, c) => Array.from({ length: 16 }, (_, y) => weights(16, 100 + c * 16 + y)))] });
  const cases: [string, string | Uint8Array, string, number][] = [
    ['jpeg', jpeg, 'image/jpeg', 200],
    ['png', png, 'image/png', 200],
    ['json instances', instances, 'application/json', 200],
    ['undecodable', Buffer.from('not an image at all'), 'image/jpeg', 400],
    ['grey image for an RGB model', grey, 'image/png', 400],
    ['truncated jpeg', jpeg.subarray(0, 200), 'image/jpeg', 400],
    ['over the pixel limit', await sharp({ create: { width: 1200, height: 1000, channels: 3, background: { r: 10, g: 20, b: 30 } } }).jpeg().toBuffer(), 'image/jpeg', 413],
    ['wrong media type', 'a,b\n', 'text/csv', 415],
  ];
  for (const [what, body, type, status] of cases) {
    const a = await post(inline, body, type);
    const b = await post(workersOnly, body, type);
    assert.equal(a.status, status, `${what}: ${Buffer.from(a.bytes, 'hex').toString()}`);
    assert.deepEqual(a, b, what);
  }
  assert.equal((await inlineCount(inline)) - before, cases.length, 'every small /invocations body answered on the HTTP thread');
  assert.equal(await inlineCount(workersOnly), 0);
});

test('a tensor model whose run keeps the HTTP thread busy over the budget is answered by its workers', async () => {
  const d = decision(heavyLogs);
  assert.equal(d?.inline, false, JSON.stringify(d));
  assert.match(d!.reason, /kept the HTTP thread busy .* ms \(budget 1 ms\)/);
  assert.ok(d!.probeMs! > INLINE_TENSOR_BUDGET_MS);
  const r = await post(heavy, jpeg, 'image/jpeg');
  assert.equal(r.status, 200, Buffer.from(r.bytes, 'hex').toString());
  assert.equal((JSON.parse(Buffer.from(r.bytes, 'hex').toString()) as { predictions: number[][] }).predictions[0]!.length, 96);
  assert.equal(await inlineCount(heavy), 0);
});

test('the example limit: as many probe runs as fit the budget, checked before images are decoded', async () => {
  assert.equal(inlineExamples(0.64, 1), 1);
  assert.equal(inlineExamples(1, 1), 1);
  assert.equal(inlineExamples(0.1, 1), 10);
  const sig: TensorSignature = { inputs: [{ name: 'image', type: 'float32', shape: [-1, 3, 16, 16] }], outputs: [{ name: 'logits', type: 'float32', shape: [-1, 4] }] };
  const heads = (inputs: unknown[]) => parseRequestEnvelope(JSON.stringify({ inputs })).inputs.map((t, i) => checkTensorHeader(t, i));
  // three base64 "images" that are not images: over the limit they are never decoded
  const junk = heads([{ name: 'image', datatype: 'BYTES', shape: [3], data: ['AAAA', 'AAAA', 'AAAA'] }]);
  await assert.rejects(tensorsToInputs(junk, sig, 2), InlineLimitExceeded);
  await assert.rejects(tensorsToInputs(junk, sig, 3), (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /not a decodable image/.test(e.message));
  const batch = heads([{ name: 'image', datatype: 'FP32', shape: [3, 3, 16, 16], data: new Array(3 * 768).fill(0) }]);
  await assert.rejects(tensorsToInputs(batch, sig, 2), InlineLimitExceeded);
  assert.deepEqual((await tensorsToInputs(batch, sig, 3)).image!.dims, [3, 3, 16, 16]);
});

test('a request with more examples than the HTTP thread may run is answered by the workers, the same bytes', async () => {
  const limit = decision(inlineLogs)!.maxExamples!;
  assert.ok(Number.isInteger(limit) && limit >= 1 && limit <= Math.floor(INLINE_TENSOR_BUDGET_MS / decision(inlineLogs)!.probeMs!) + 1, String(limit));
  const zeros = (n: number) => `{"instances":[${new Array(n).fill(`[${new Array(3).fill(`[${new Array(16).fill(`[${new Array(16).fill('0').join(',')}]`).join(',')}]`).join(',')}]`).join(',')}]}`;
  for (const [n, inlined] of [[limit, 1], [limit + 1, 0]] as const) {
    const before = await inlineCount(inline);
    const a = await post(inline, zeros(n), 'application/json');
    const b = await post(workersOnly, zeros(n), 'application/json');
    assert.equal(a.status, 200, Buffer.from(a.bytes, 'hex').toString().slice(0, 300));
    assert.deepEqual(a, b, `${n} examples`);
    assert.equal((await inlineCount(inline)) - before, inlined, `${n} examples (limit ${limit})`);
  }
  // V2: more JPEGs than the limit, binary BYTES, the same answer as the workers'
  const n = limit + 1;
  const len = Buffer.alloc(4);
  len.writeUInt32LE(jpeg.byteLength);
  const parts = Array.from({ length: n }, () => [len, jpeg]).flat();
  const head = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [n], parameters: { binary_data_size: n * (4 + jpeg.byteLength) } }] }));
  const v2 = async (srv: RunningServer) => {
    const r = await fetch(`${srv.url}/v2/models/small/infer`, { method: 'POST', body: Buffer.concat([head, ...parts]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.byteLength) } });
    return { status: r.status, bytes: Buffer.from(await r.arrayBuffer()).toString('hex') };
  };
  const a = await v2(inline);
  assert.equal(a.status, 200, Buffer.from(a.bytes, 'hex').toString().slice(0, 300));
  assert.deepEqual(a, await v2(workersOnly));
});
