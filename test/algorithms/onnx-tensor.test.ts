import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { loadModel } from '../../lib/model/index.ts';
import { imageLayout, imageToTensor, iou, postprocessDetections } from '../../lib/vision/index.ts';
import { parseTensorJson } from '../../lib/wire/index.ts';
import { onnxCheck } from './onnx-helpers.ts';
import { convClassifier, detectorHead, importTensorModel, weights } from './onnx-tensor-models.ts';

async function scratch(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mw-onnx-tensor-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-6) => {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol, `element ${i}: ${got[i]} vs ${want[i]}`);
};

test('a convolution model on a [N, 3, H, W] input: real signature, outputs equal onnxruntime run directly', async (t) => {
  const dir = await scratch(t);
  const { modelDir, file } = await importTensorModel(dir, 'conv', convClassifier({ h: 8, w: 8 }));
  const check = onnxCheck(file);
  assert.ok(check.ok, check.output);
  const model = await loadModel(modelDir);
  assert.deepEqual(model.tensors?.inputs, [{ name: 'image', type: 'float32', shape: [-1, 3, 8, 8] }]);
  assert.deepEqual(model.tensors?.outputs, [
    { name: 'features', type: 'float32', shape: [-1, 4, 8, 8] },
    { name: 'logits', type: 'float32', shape: [-1, 4] },
  ]);
  const x = Float32Array.from(weights(2 * 3 * 64, 3));
  const out = await model.predictTensors!({ image: { type: 'float32', dims: [2, 3, 8, 8], data: x } });
  const direct = await ort.InferenceSession.create(file);
  const ref = await direct.run({ image: new ort.Tensor('float32', x, [2, 3, 8, 8]) });
  assert.deepEqual(out.features!.dims, [2, 4, 8, 8]);
  assert.deepEqual(out.logits!.dims, [2, 4]);
  close(out.features!.data as Float32Array, ref.features!.data as Float32Array, 0);
  close(out.logits!.data as Float32Array, ref.logits!.data as Float32Array, 0);
  // the tabular path names what the model takes instead
  await assert.rejects(model.predict((await import('arquero')).table({ image: [1] })), /takes tensors \(image \[-1, 3, 8, 8\] float32\)/);
  await direct.release();
});

test('JSON instances and inputs nested arrays become batch tensors checked against the input shape', () => {
  const inputs = [{ name: 'image', type: 'float32' as const, shape: [-1, 1, 2, 2] }];
  const a = parseTensorJson('{"instances": [[[[1, 2], [3, 4]]], [[[5, 6], [7, 8]]]]}', inputs).image!;
  assert.deepEqual(a.dims, [2, 1, 2, 2]);
  assert.deepEqual(Array.from(a.data as Float32Array), [1, 2, 3, 4, 5, 6, 7, 8]);
  const b = parseTensorJson('{"inputs": [[[[1, 2], [3, 4]]]]}', inputs).image!;
  assert.deepEqual(b.dims, [1, 1, 2, 2]);
  assert.throws(() => parseTensorJson('{"instances": [[[1, 2], [3, 4]]]}', inputs), /has 3 dimension\(s\); input "image" is \[\?, 1, 2, 2\]/);
  assert.throws(() => parseTensorJson('{"instances": [[[[1, 2], [3]]]]}', inputs), /not rectangular/);
  assert.throws(() => parseTensorJson('{"instances": [[[[1, 2], [3, "x"]]]]}', inputs), /element 3 is .*float32 expects a finite number/);
  assert.throws(() => parseTensorJson('{"rows": []}', inputs), /neither "instances" nor "inputs"/);
});

test('IoU and detection post-processing on a hand-computed case', () => {
  assert.equal(iou([0, 0, 2, 2], [1, 1, 3, 3]), 1 / 7);
  assert.equal(iou([0, 0, 1, 1], [2, 2, 3, 3]), 0);
  // 5 boxes, 2 classes (scores per box: [class 0, class 1]).
  // A [0,0,10,10] 0.9 c0; B [1,1,11,11] 0.8 c0: IoU(A,B) = 81/119 = 0.68 > 0.5 -> suppressed;
  // C [20,20,30,30] 0.7 c0 kept; A also scores 0.6 for c1: another class, kept; E 0.3 < threshold.
  const boxes = { data: [0, 0, 10, 10, 1, 1, 11, 11, 20, 20, 30, 30, 40, 40, 50, 50, 5, 5, 6, 6], dims: [1, 5, 4] };
  const scores = { data: [0.9, 0.6, 0.8, 0.1, 0.7, 0.2, 0.3, 0.3, 0.05, 0.55], dims: [1, 5, 2] };
  const got = postprocessDetections(boxes, scores, { boxes: 'boxes', scores: 'scores', labels: ['scratch', 'dent'], scoreThreshold: 0.5, iouThreshold: 0.5 });
  assert.deepEqual(got, [
    [
      { label: 'scratch', score: 0.9, box: [0, 0, 10, 10] },
      { label: 'scratch', score: 0.7, box: [20, 20, 30, 30] },
      { label: 'dent', score: 0.6, box: [0, 0, 10, 10] },
      { label: 'dent', score: 0.55, box: [5, 5, 6, 6] },
    ],
  ]);
  // a looser IoU keeps B; maxDetections cuts the list
  assert.equal(postprocessDetections(boxes, scores, { boxes: 'b', scores: 's', iouThreshold: 0.7 })[0]!.length, 5);
  assert.deepEqual(postprocessDetections(boxes, scores, { boxes: 'b', scores: 's', maxDetections: 1 })[0], [{ label: '0', score: 0.9, box: [0, 0, 10, 10] }]);
});

test('a toy detector head imported with a detection step; its raw outputs equal onnxruntime run directly', async (t) => {
  const dir = await scratch(t);
  const { modelDir, file } = await importTensorModel(dir, 'det', detectorHead({ boxes: 3, classes: 2 }), { detection: { boxes: 'boxes', scores: 'scores', labels: ['ok', 'defect'] } });
  const check = onnxCheck(file);
  assert.ok(check.ok, check.output);
  const model = await loadModel(modelDir);
  assert.deepEqual(model.tensors?.detection, { boxes: 'boxes', scores: 'scores', labels: ['ok', 'defect'] });
  const raw = Float32Array.from([0, 0, 4, 4, 3, -3, 1, 1, 5, 5, 2, -2, 10, 10, 12, 12, -3, 4]);
  const out = await model.predictTensors!({ raw: { type: 'float32', dims: [1, 3, 6], data: raw } });
  const direct = await ort.InferenceSession.create(file);
  const ref = await direct.run({ raw: new ort.Tensor('float32', raw, [1, 3, 6]) });
  close(out.boxes!.data as Float32Array, ref.boxes!.data as Float32Array, 0);
  close(out.scores!.data as Float32Array, ref.scores!.data as Float32Array, 0);
  await direct.release();
  await assert.rejects(importTensorModel(join(dir, 'bad'), 'det', detectorHead({ boxes: 3, classes: 2 }), { detection: { boxes: 'nope', scores: 'scores' } }), /"boxes" must name one of the model's outputs \(boxes, scores\)/);
});

/** A PNG of known pixels (lossless), w x h RGB. */
async function png(w: number, h: number, channels: 1 | 3 | 4, f: (x: number, y: number, c: number) => number): Promise<{ bytes: Buffer; px: Uint8Array }> {
  const px = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) px[(y * w + x) * channels + c] = f(x, y, c);
  const img = sharp(px, { raw: { width: w, height: h, channels } });
  const bytes = await (channels === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
  return { bytes, px };
}

test('image decoding: NCHW and NHWC layouts, channel order, mean/std, and the errors', async () => {
  const { bytes, px } = await png(4, 2, 3, (x, y, c) => (x * 40 + y * 100 + c * 7) % 256);
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const nchw = await imageToTensor(bytes, { name: 'x', type: 'float32', shape: [1, 3, 2, 4] }, { mean, std });
  assert.deepEqual(nchw.dims, [1, 3, 2, 4]);
  const want = new Float32Array(24);
  for (let p = 0; p < 8; p++) for (let c = 0; c < 3; c++) want[c * 8 + p] = (px[p * 3 + c]! / 255 - mean[c]!) / std[c]!;
  close(nchw.data as Float32Array, want, 1e-6);
  const nhwcBgr = await imageToTensor(bytes, { name: 'x', type: 'uint8', shape: [-1, 2, 4, 3] }, { channels: 'BGR' });
  assert.deepEqual(nhwcBgr.dims, [1, 2, 4, 3]);
  for (let p = 0; p < 8; p++) for (let c = 0; c < 3; c++) assert.equal((nhwcBgr.data as Uint8Array)[p * 3 + c], px[p * 3 + (2 - c)]);
  // every layout x channel order x type: exactly (px * scale - mean) / std, each value put where the layout says
  for (const [type, shape, channels] of [['float64', [1, 2, 4, 3], 'BGR'], ['float32', [1, 2, 4, 3], 'RGB'], ['float64', [1, 3, 2, 4], 'BGR'], ['uint8', [1, 3, 2, 4], 'BGR'], ['uint8', [1, 2, 4, 3], 'RGB']] as const) {
    const t = await imageToTensor(bytes, { name: 'x', type, shape: [...shape] }, { mean, std, channels, scale: 1 / 250 });
    const nhwc = shape[3] === 3;
    const exact = Array.from({ length: 24 }, (_, i) => {
      const [p, c] = nhwc ? [Math.floor(i / 3), i % 3] : [i % 8, Math.floor(i / 8)];
      const v = px[p * 3 + (channels === 'BGR' ? 2 - c : c)]!;
      return type === 'uint8' ? v : type === 'float32' ? Math.fround((v * (1 / 250) - mean[c]!) / std[c]!) : (v * (1 / 250) - mean[c]!) / std[c]!;
    });
    assert.deepEqual(Array.from(t.data as Float64Array), exact, `${type} [${shape.join(', ')}] ${channels}`);
  }
  assert.deepEqual(imageLayout({ name: 'x', type: 'float32', shape: [-1, 224, 224, 3] }), { layout: 'NHWC', channels: 3, height: 224, width: 224 });
  // resized: 4x2 -> 2x1 gives one value per channel per output pixel
  const small = await imageToTensor(bytes, { name: 'x', type: 'float32', shape: [1, 3, 1, 2] });
  assert.deepEqual(small.dims, [1, 3, 1, 2]);
  // errors
  await assert.rejects(imageToTensor(Buffer.from('not an image at all'), { name: 'x', type: 'float32', shape: [1, 3, 2, 4] }), (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /not a decodable image/.test(e.message));
  await assert.rejects(imageToTensor(bytes, { name: 'x', type: 'float32', shape: [1, 3, 2, 4] }, { maxPixels: 7 }), (e: Error & { code?: string }) => e.code === 'PAYLOAD_TOO_LARGE' && /4x2 = 8 pixels; the limit is 7/.test(e.message));
  const grey = await png(4, 2, 1, (x) => x * 60);
  await assert.rejects(imageToTensor(grey.bytes, { name: 'x', type: 'float32', shape: [1, 3, 2, 4] }), /image has 1 colour channel\(s\).*takes 3/);
  // a grey image into a one-channel (GRAY) input: one value per pixel, as stored, in both layouts
  for (const shape of [[1, 1, 2, 4], [1, 2, 4, 1]]) {
    const g = await imageToTensor(grey.bytes, { name: 'x', type: 'uint8', shape });
    assert.deepEqual(g.dims, shape);
    assert.deepEqual(Array.from(g.data as Uint8Array), Array.from(grey.px), `grey [${shape.join(', ')}]`);
  }
  const greyHalf = await imageToTensor(grey.bytes, { name: 'x', type: 'float32', shape: [1, 1, 1, 2] });
  assert.equal((greyHalf.data as Float32Array).length, 2);
  // an alpha channel is dropped
  const rgba = await png(4, 2, 4, (x, y, c) => (c === 3 ? 255 : (x * 40 + y * 100 + c * 7) % 256));
  const fromRgba = await imageToTensor(rgba.bytes, { name: 'x', type: 'float32', shape: [1, 3, 2, 4] }, { mean, std });
  close(fromRgba.data as Float32Array, want, 1e-6);
});
