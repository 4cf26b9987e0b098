// Tensor and image inputs through real HTTP: the `onnx` built-in serving a fixed-weight convolution
// (default model: /invocations and V2) and, from a model repository, the same convolution on an
// NHWC/BGR input and a toy detector head with detection post-processing. Every answer is compared
// with onnxruntime run directly in the test on the same tensors (and on the same decoded image
// pixels); then a V2 fuzz on tensor inputs, after which the server still answers as before.
import assert from 'node:assert/strict';
import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { onnxCheck } from '../algorithms/onnx-helpers.ts';
import { convClassifier, detectorHead, importTensorModel, weights } from '../algorithms/onnx-tensor-models.ts';
import { http, invoke, REAL_LOADER, scratch, type Reply } from './helpers.ts';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const H = 16;
const W = 16;

let srv: RunningServer;
let cleanup: () => Promise<void>;
const sessions: Record<string, ort.InferenceSession> = {};
let jpeg: Buffer;

before(async () => {
  const s = await scratch('mw-images-');
  cleanup = s.cleanup;
  const conv = await importTensorModel(join(s.dir, 'conv'), 'conv', convClassifier({ h: H, w: W }), { image: { mean: MEAN, std: STD, maxPixels: 1_000_000 } });
  const nhwc = await importTensorModel(join(s.dir, 'nhwc'), 'nhwc', convClassifier({ h: H, w: W, nhwc: true }), { image: { channels: 'BGR', scale: 1 } });
  const det = await importTensorModel(join(s.dir, 'det'), 'det', detectorHead({ boxes: 4, classes: 2 }), { detection: { boxes: 'boxes', scores: 'scores', labels: ['ok', 'defect'], scoreThreshold: 0.5, iouThreshold: 0.5 } });
  for (const [k, m] of Object.entries({ conv, nhwc, det })) {
    const c = onnxCheck(m.file);
    assert.ok(c.ok, `${k}: ${c.output}`);
    sessions[k] = await ort.InferenceSession.create(m.file);
  }
  const repo = join(s.dir, 'repo');
  await cp(nhwc.modelDir, join(repo, 'nhwc', '1'), { recursive: true });
  await cp(det.modelDir, join(repo, 'det', '1'), { recursive: true });
  srv = await startServer({ modelDir: conv.modelDir, loader: REAL_LOADER, port: 0, workers: 1, repository: { dir: repo }, log: () => {} });
  // a 40x30 photo-like JPEG: gradients plus texture
  const px = new Uint8Array(40 * 30 * 3);
  for (let y = 0; y < 30; y++) for (let x = 0; x < 40; x++) for (let c = 0; c < 3; c++) px[(y * 40 + x) * 3 + c] = (x * 6 + y * 3 * (c + 1) + ((x * y) % 17) * 5) % 256;
  jpeg = await sharp(px, { raw: { width: 40, height: 30, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
});

after(async () => {
  await srv?.close();
  for (const s of Object.values(sessions)) await s.release();
  await cleanup?.();
});

const post = (path: string, body: unknown): Promise<Reply> => http(`${srv.url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });

async function direct(name: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, number[]>> {
  const r = await sessions[name]!.run(feeds);
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
}

/** The test's own decode of the same JPEG: sharp resize to HxW (fill), then the normalisation by hand. */
async function decodedPixels(bytes: Buffer, layout: 'NCHW' | 'NHWC', o: { mean?: number[]; std?: number[]; scale?: number; bgr?: boolean }): Promise<Float32Array> {
  const raw = await sharp(bytes).resize(W, H, { fit: 'fill' }).raw().toBuffer();
  const out = new Float32Array(H * W * 3);
  const scale = o.scale ?? 1 / 255;
  for (let p = 0; p < H * W; p++) {
    for (let c = 0; c < 3; c++) {
      const v = (raw[p * 3 + (o.bgr ? 2 - c : c)]! * scale - (o.mean?.[c] ?? 0)) / (o.std?.[c] ?? 1);
      out[layout === 'NCHW' ? c * H * W + p : p * 3 + c] = v;
    }
  }
  return out;
}

test('V2 metadata reports the real input and output names, datatypes and shapes (dynamic as -1)', async () => {
  const r = await http(`${srv.url}/v2/models/conv`);
  assert.equal(r.status, 200, r.text);
  const m = r.json<{ inputs: unknown[]; outputs: unknown[]; platform: string }>();
  assert.equal(m.platform, 'millwright/onnx');
  assert.deepEqual(m.inputs, [{ name: 'image', datatype: 'FP32', shape: [-1, 3, H, W] }]);
  assert.deepEqual(m.outputs, [
    { name: 'features', datatype: 'FP32', shape: [-1, 4, H, W] },
    { name: 'logits', datatype: 'FP32', shape: [-1, 4] },
  ]);
  const d = (await http(`${srv.url}/v2/models/det`)).json<{ outputs: { name: string }[] }>();
  assert.deepEqual(d.outputs.map((o) => o.name), ['boxes', 'scores', 'detections']);
});

test('V2 tensors and /invocations nested arrays answer what onnxruntime answers directly', async () => {
  const x = Float32Array.from(weights(2 * 3 * H * W, 5));
  const ref = await direct('conv', { image: new ort.Tensor('float32', x, [2, 3, H, W]) });
  const r = await post('/v2/models/conv/infer', { id: 't1', inputs: [{ name: 'image', datatype: 'FP32', shape: [2, 3, H, W], data: Array.from(x) }] });
  assert.equal(r.status, 200, r.text);
  const v2 = r.json<{ id: string; outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] }>();
  assert.equal(v2.id, 't1');
  assert.deepEqual(v2.outputs.map((o) => [o.name, o.datatype, o.shape]), [['features', 'FP32', [2, 4, H, W]], ['logits', 'FP32', [2, 4]]]);
  assert.deepEqual(v2.outputs[0]!.data, ref.features);
  assert.deepEqual(v2.outputs[1]!.data, ref.logits);
  // requested outputs only
  const only = (await post('/v2/models/conv/infer', { inputs: [{ name: 'image', datatype: 'FP32', shape: [2, 3, H, W], data: Array.from(x) }], outputs: [{ name: 'logits' }] })).json<{ outputs: { name: string }[] }>();
  assert.deepEqual(only.outputs.map((o) => o.name), ['logits']);
  // /invocations: instances (one nested [3, H, W] array each) and inputs (the batch)
  const nested = (i: number) => Array.from({ length: 3 }, (_, c) => Array.from({ length: H }, (_, y) => Array.from(x.subarray(i * 3 * H * W + c * H * W + y * W, i * 3 * H * W + c * H * W + (y + 1) * W))));
  const inst = await invoke(srv.url, JSON.stringify({ instances: [nested(0), nested(1)] }), 'application/json');
  assert.equal(inst.status, 200, inst.text);
  const preds = inst.json<{ predictions: { features: number[][][]; logits: number[] }[] }>().predictions;
  assert.equal(preds.length, 2);
  assert.deepEqual([...preds[0]!.logits, ...preds[1]!.logits], ref.logits);
  assert.deepEqual(preds[1]!.features.flat(2), ref.features!.slice(4 * H * W));
  const batch = await invoke(srv.url, JSON.stringify({ inputs: [nested(0), nested(1)] }), 'application/json');
  assert.deepEqual(batch.json<{ predictions: { logits: number[] }[] }>().predictions.map((p) => p.logits).flat(), ref.logits);
  // CSV is not a tensor format
  const csv = await invoke(srv.url, '1,2,3\n', 'text/csv');
  assert.equal(csv.status, 415, csv.text);
});

test('a JPEG to /invocations and as a V2 BYTES input: decoded, resized and normalised as the model is configured', async () => {
  const pixels = await decodedPixels(jpeg, 'NCHW', { mean: MEAN, std: STD });
  const ref = await direct('conv', { image: new ort.Tensor('float32', pixels, [1, 3, H, W]) });
  const r = await invoke(srv.url, jpeg, 'image/jpeg');
  assert.equal(r.status, 200, r.text);
  const p = r.json<{ predictions: { logits: number[] }[] }>().predictions;
  assert.equal(p.length, 1);
  p[0]!.logits.forEach((v, i) => assert.ok(Math.abs(v - ref.logits![i]!) < 1e-5, `logit ${i}: ${v} vs ${ref.logits![i]}`));
  // PNG of the same pixels decodes to the same tensor path
  const png = await sharp(jpeg).png().toBuffer();
  assert.equal((await invoke(srv.url, png, 'image/png')).status, 200);
  // V2: two base64 images in one BYTES tensor -> a batch of 2
  const v2 = await post('/v2/models/conv/infer', { inputs: [{ name: 'image', datatype: 'BYTES', shape: [2], data: [jpeg.toString('base64'), jpeg.toString('base64')] }], outputs: [{ name: 'logits' }] });
  assert.equal(v2.status, 200, v2.text);
  const out = v2.json<{ outputs: { shape: number[]; data: number[] }[] }>().outputs[0]!;
  assert.deepEqual(out.shape, [2, 4]);
  out.data.forEach((v, i) => assert.ok(Math.abs(v - ref.logits![i % 4]!) < 1e-5));
  // NHWC input, BGR order, raw 0..255 scale (repository model)
  const bgr = await decodedPixels(jpeg, 'NHWC', { scale: 1, bgr: true });
  const refN = await direct('nhwc', { image: new ort.Tensor('float32', bgr, [1, H, W, 3]) });
  const n = await post('/v2/models/nhwc/infer', { inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [jpeg.toString('base64')] }], outputs: [{ name: 'logits' }] });
  assert.equal(n.status, 200, n.text);
  n.json<{ outputs: { data: number[] }[] }>().outputs[0]!.data.forEach((v, i) => assert.ok(Math.abs(v - refN.logits![i]!) < 1e-3 * Math.max(1, Math.abs(refN.logits![i]!)), `nhwc logit ${i}: ${v} vs ${refN.logits![i]}`));
});

test('image errors: undecodable, over the pixel limit, wrong channel count', async () => {
  const junk = await invoke(srv.url, Buffer.from('GIF89a this is not a jpeg'), 'image/jpeg');
  assert.equal(junk.status, 400, junk.text);
  assert.match(junk.json<{ message: string }>().message, /not a decodable image/);
  const big = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: { r: 10, g: 20, b: 30 } } }).jpeg().toBuffer();
  const tooBig = await invoke(srv.url, big, 'image/jpeg');
  assert.equal(tooBig.status, 413, tooBig.text);
  assert.match(tooBig.json<{ message: string }>().message, /1200x1000 = 1200000 pixels; the limit is 1000000/);
  const grey = await sharp(jpeg).toColourspace('b-w').png().toBuffer();
  const g = await invoke(srv.url, grey, 'image/png');
  assert.equal(g.status, 400, g.text);
  assert.match(g.json<{ message: string }>().message, /1 colour channel\(s\).*takes 3/);
  const b64 = await post('/v2/models/conv/infer', { inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: ['%%% not base64'] }] });
  assert.equal(b64.status, 400);
  assert.match(b64.json<{ error: string }>().error, /not base64/);
});

test('the detector: raw boxes and scores as onnxruntime gives them, plus detections after threshold and NMS', async () => {
  // 4 candidate rows [x1, y1, x2, y2, logit ok, logit defect]
  const raw = [0, 0, 10, 10, -4, 3, 1, 1, 11, 11, -4, 2, 30, 30, 40, 40, 2, -4, 50, 50, 60, 60, -1, -1];
  const ref = await direct('det', { raw: new ort.Tensor('float32', Float32Array.from(raw), [1, 4, 6]) });
  const r = await post('/v2/models/det/infer', { inputs: [{ name: 'raw', datatype: 'FP32', shape: [1, 4, 6], data: raw }] });
  assert.equal(r.status, 200, r.text);
  const outs = Object.fromEntries(r.json<{ outputs: { name: string; shape: number[]; data: unknown[] }[] }>().outputs.map((o) => [o.name, o]));
  assert.deepEqual(outs.boxes!.data, ref.boxes);
  assert.deepEqual(outs.scores!.data, ref.scores);
  assert.deepEqual(outs.detections!.shape, [1]);
  const s = ref.scores!;
  // box 1 (defect, sigmoid(3)) suppresses box 2 (defect, IoU 81/119); box 3 is "ok"; box 4 scores sigmoid(-1) < 0.5
  assert.deepEqual(JSON.parse(outs.detections!.data[0] as string), [
    { label: 'defect', score: s[1], box: [0, 0, 10, 10] },
    { label: 'ok', score: s[4], box: [30, 30, 40, 40] },
  ]);
});

test('V2 fuzz on tensor inputs: each bad request is a 4xx {"error"}, and the server still answers', async () => {
  const x = Array.from(weights(3 * H * W, 9));
  const good = { inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, H, W], data: x }], outputs: [{ name: 'logits' }] };
  const before = (await post('/v2/models/conv/infer', good)).text;
  const t = (over: Record<string, unknown>) => ({ inputs: [{ ...good.inputs[0], ...over }] });
  const cases: [string, unknown, RegExp][] = [
    ['wrong datatype', t({ datatype: 'FP64' }), /datatype FP64 does not match the model's FP32/],
    ['integer datatype', t({ datatype: 'INT32', data: x.map(() => 1) }), /datatype INT32 does not match/],
    ['shape/data mismatch', t({ data: x.slice(1) }), /has 767 element\(s\) but shape \[1, 3, 16, 16\] needs 768/],
    ['wrong rank', t({ shape: [3, H, W] }), /has 3 dimension\(s\); input "image" is \[\?, 3, 16, 16\]/],
    ['wrong fixed dimension', t({ shape: [1, 3, 8, 32] }), /does not match input "image" \[\?, 3, 16, 16\] at dimension 2/],
    ['huge shape', t({ shape: [100000, 3, 1000, 1000] }), /more than 10000000 elements/],
    ['negative dimension', t({ shape: [-1, 3, H, W] }), /shape\[0\] is -1; every dimension must be an integer >= 0/],
    ['zero batch', t({ shape: [0, 3, H, W], data: [] }), /has no elements/],
    ['NaN-like element', t({ data: [...x.slice(1), 'NaN'] }), /element 767 is .*FP32 expects a finite number/],
    ['unknown input', { inputs: [{ ...good.inputs[0], name: 'pixels' }] }, /unknown input\(s\) "pixels"/],
    ['unknown output', { ...good, outputs: [{ name: 'probs' }] }, /unknown output "probs"; this model produces features, logits/],
    ['BYTES not base64', t({ datatype: 'BYTES', shape: [1], data: ['\u00ff\u00fe'] }), /not base64/],
    ['BYTES lone surrogate', t({ datatype: 'BYTES', shape: [1], data: ['\ud800'] }), /well-formed \(UTF-8\) string/],
  ];
  for (const [what, body, want] of cases) {
    const r = await post('/v2/models/conv/infer', body);
    assert.ok(r.status >= 400 && r.status < 500, `${what}: ${r.status} ${r.text}`);
    assert.match(r.json<{ error: string }>().error, want, what);
  }
  // invalid UTF-8 bytes in the body
  const bin = await http(`${srv.url}/v2/models/conv/infer`, { method: 'POST', body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), headers: { 'content-type': 'application/json' } });
  assert.equal(bin.status, 400);
  const after = await post('/v2/models/conv/infer', good);
  assert.equal(after.status, 200);
  assert.equal(after.text, before);
  assert.equal((await http(`${srv.url}/v2/health/ready`)).status, 200);
});
