// The Open Inference Protocol's binary tensor data extension over real HTTP on 127.0.0.1: a
// fixed-weight convolution (the `onnx` built-in) answers the same outputs, bit for bit, to a JSON
// request, to a binary request and with binary outputs, and they equal onnxruntime run directly
// in the test. Malformed binary requests get a 400 {"error"} naming the problem and the server
// still answers. V2 requests are data-captured like /invocations, keyed by the request's `id`.
// Spec: https://github.com/kserve/kserve/blob/master/docs/predict-api/v2/binary_data.md
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { captureBody, listCaptureFiles, type CaptureRecord } from '../../lib/capture/index.ts';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { onnxCheck } from '../algorithms/onnx-helpers.ts';
import { convClassifier, importTensorModel, weights } from '../algorithms/onnx-tensor-models.ts';
import { REAL_LOADER, scratch } from './helpers.ts';

const H = 8;
const W = 8;
const K = 4;
let srv: RunningServer;
let cleanup: () => Promise<void>;
let session: ort.InferenceSession;
let captureDir: string;
const x = Float32Array.from(weights(2 * 3 * H * W, 5)); // a batch of 2
let direct: { logits: Float32Array; features: Float32Array };

before(async () => {
  const s = await scratch('mw-v2-binary-');
  cleanup = s.cleanup;
  const conv = await importTensorModel(join(s.dir, 'conv'), 'conv', convClassifier({ h: H, w: W, classes: K }), { image: { scale: 1 } });
  const c = onnxCheck(conv.file);
  assert.ok(c.ok, c.output);
  session = await ort.InferenceSession.create(conv.file);
  const r = await session.run({ image: new ort.Tensor('float32', x, [2, 3, H, W]) });
  direct = { logits: r.logits!.data as Float32Array, features: r.features!.data as Float32Array };
  captureDir = join(s.dir, 'capture');
  srv = await startServer({ modelDir: conv.modelDir, loader: REAL_LOADER, port: 0, workers: 1, capture: { dir: captureDir, sampleRate: 1, flushIntervalMs: 50 }, log: () => {} });
});

after(async () => {
  await srv?.close();
  await session?.release();
  await cleanup?.();
});

interface BinaryReply {
  status: number;
  headers: Headers;
  /** The JSON part (the whole body without Inference-Header-Content-Length). */
  json: Record<string, unknown>;
  /** The bytes after the JSON part. */
  binary: Buffer;
}

/** POSTs `header` (JSON) followed by `tensors` (raw bytes) with Inference-Header-Content-Length. */
async function postBinary(header: unknown, tensors: Uint8Array[], o: { headerLength?: string; contentType?: string } = {}): Promise<BinaryReply> {
  const head = Buffer.from(JSON.stringify(header));
  const body = Buffer.concat([head, ...tensors]);
  const headers: Record<string, string> = { 'content-type': o.contentType ?? 'application/octet-stream', 'inference-header-content-length': o.headerLength ?? String(head.byteLength) };
  return reply(await fetch(`${srv.url}/v2/models/conv/infer`, { method: 'POST', body, headers }));
}

async function postJson(doc: unknown): Promise<BinaryReply> {
  return reply(await fetch(`${srv.url}/v2/models/conv/infer`, { method: 'POST', body: JSON.stringify(doc), headers: { 'content-type': 'application/json' } }));
}

async function reply(r: Response): Promise<BinaryReply> {
  const bytes = Buffer.from(await r.arrayBuffer());
  const n = r.headers.get('inference-header-content-length');
  const cut = n === null ? bytes.byteLength : Number(n);
  return { status: r.status, headers: r.headers, json: JSON.parse(bytes.subarray(0, cut).toString('utf8')) as Record<string, unknown>, binary: bytes.subarray(cut) };
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
/** float32 values of raw bytes (copied: a Buffer's own slice() is a view, maybe unaligned). */
const f32 = (b: Uint8Array) => new Float32Array(new Uint8Array(b).buffer);
type Out = { name: string; datatype: string; shape: number[]; data?: number[]; parameters?: { binary_data_size?: number } };

/** Each output's values as float32: JSON `data`, or its slice of the binary part in output order. */
function outputValues(r: BinaryReply): Record<string, Float32Array> {
  let at = 0;
  const out: Record<string, Float32Array> = {};
  for (const o of r.json.outputs as Out[]) {
    const size = o.parameters?.binary_data_size;
    if (size === undefined) out[o.name] = Float32Array.from(o.data!);
    else {
      assert.equal(o.data, undefined, `${o.name}: binary output has no JSON data`);
      out[o.name] = f32(r.binary.subarray(at, at + size));
      at += size;
    }
  }
  assert.equal(at, r.binary.byteLength, 'the binary part is exactly the binary outputs');
  return out;
}

const input = { name: 'image', datatype: 'FP32', shape: [2, 3, H, W] };

test('/v2 lists the binary_tensor_data extension', async () => {
  const r = await fetch(`${srv.url}/v2`);
  assert.ok(((await r.json()) as { extensions: string[] }).extensions.includes('binary_tensor_data'));
});

test('JSON, binary input, binary output and both answer the same values, equal to onnxruntime run directly', async () => {
  const viaJson = await postJson({ inputs: [{ ...input, data: Array.from(x) }] });
  assert.equal(viaJson.status, 200, JSON.stringify(viaJson.json));
  assert.equal(viaJson.headers.get('inference-header-content-length'), null, 'a JSON answer has no binary part');
  const binIn = await postBinary({ inputs: [{ ...input, parameters: { binary_data_size: x.byteLength } }] }, [bytesOf(x)]);
  assert.equal(binIn.status, 200, JSON.stringify(binIn.json));
  // outputs requested in binary, in the order asked: features then logits
  const binBoth = await postBinary({ inputs: [{ ...input, parameters: { binary_data_size: x.byteLength } }], outputs: [{ name: 'features', parameters: { binary_data: true } }, { name: 'logits', parameters: { binary_data: true } }] }, [bytesOf(x)]);
  assert.equal(binBoth.status, 200, JSON.stringify(binBoth.json));
  assert.equal(binBoth.headers.get('content-type'), 'application/octet-stream');
  assert.deepEqual((binBoth.json.outputs as Out[]).map((o) => [o.name, o.datatype, o.shape, o.parameters?.binary_data_size]), [
    ['features', 'FP32', [2, K, H, W], 2 * K * H * W * 4],
    ['logits', 'FP32', [2, K], 2 * K * 4],
  ]);
  // binary_data_output for all, overridden by binary_data: false on logits; JSON input
  const mixed = await postJson({ inputs: [{ ...input, data: Array.from(x) }], parameters: { binary_data_output: true }, outputs: [{ name: 'logits', parameters: { binary_data: false } }, { name: 'features' }] });
  assert.equal(mixed.status, 200, JSON.stringify(mixed.json));
  assert.deepEqual((mixed.json.outputs as Out[]).map((o) => [o.name, o.data === undefined]), [
    ['logits', false],
    ['features', true],
  ]);
  for (const [name, r] of Object.entries({ viaJson, binIn, binBoth, mixed })) {
    const v = outputValues(r);
    assert.deepEqual(Array.from(v.logits!), Array.from(direct.logits), `${name}: logits equal onnxruntime's`);
    assert.deepEqual(Array.from(v.features!), Array.from(direct.features), `${name}: features equal onnxruntime's`);
  }
});

test('a binary BYTES input carries the image files themselves', async () => {
  const px = new Uint8Array(H * W * 3).map((_, i) => (i * 37) % 256);
  const png = await sharp(px, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
  const len = Buffer.alloc(4);
  len.writeUInt32LE(png.byteLength);
  const viaBinary = await postBinary({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 4 + png.byteLength } }], outputs: [{ name: 'logits' }] }, [len, png]);
  assert.equal(viaBinary.status, 200, JSON.stringify(viaBinary.json));
  const viaBase64 = await postJson({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [png.toString('base64')] }], outputs: [{ name: 'logits' }] });
  assert.equal(viaBase64.status, 200, JSON.stringify(viaBase64.json));
  assert.deepEqual(outputValues(viaBinary).logits, outputValues(viaBase64).logits);
  // scale 1, mean 0, std 1: the pixels themselves, NCHW
  const chw = new Float32Array(3 * H * W);
  for (let p = 0; p < H * W; p++) for (let c = 0; c < 3; c++) chw[c * H * W + p] = px[p * 3 + c]!;
  const r = await session.run({ image: new ort.Tensor('float32', chw, [1, 3, H, W]) });
  assert.deepEqual(Array.from(outputValues(viaBinary).logits!), Array.from(r.logits!.data as Float32Array));
});

test('malformed binary requests get a 400 {"error"} naming the problem, and the server still answers', async () => {
  const size = x.byteLength;
  const cases: { name: string; send: () => Promise<BinaryReply>; error: RegExp }[] = [
    { name: 'size short of the shape', send: () => postBinary({ inputs: [{ ...input, parameters: { binary_data_size: size - 4 } }] }, [bytesOf(x).subarray(0, size - 4)]), error: /binary_data_size 1532 does not match FP32 with 384 element\(s\) \(384 x 4 bytes = 1536\)/ },
    { name: 'size not a multiple of the datatype size', send: () => postBinary({ inputs: [{ ...input, shape: [1, 3, H, W], parameters: { binary_data_size: 770 } }] }, [bytesOf(x).subarray(0, 770)]), error: /binary_data_size 770 does not match FP32 with 192 element\(s\)/ },
    { name: 'wrong datatype size (FP64 bytes for an FP32 input)', send: () => postBinary({ inputs: [{ ...input, datatype: 'FP64', parameters: { binary_data_size: size * 2 } }] }, [new Uint8Array(Float64Array.from(x).buffer)]), error: /datatype FP64 does not match the model's FP32/ },
    { name: 'binary_data_size beyond the body', send: () => postBinary({ inputs: [{ ...input, parameters: { binary_data_size: size } }] }, [bytesOf(x).subarray(0, 100)]), error: /binary_data_size 1536 at offset 0 runs past the binary part of the body \(100 bytes/ },
    { name: 'bytes left over', send: () => postBinary({ inputs: [{ ...input, parameters: { binary_data_size: size } }] }, [bytesOf(x), new Uint8Array(8)]), error: /8 byte\(s\) after the binary inputs that no input's binary_data_size claims/ },
    { name: 'header length beyond the body', send: () => postBinary({ inputs: [{ ...input, parameters: { binary_data_size: size } }] }, [bytesOf(x)], { headerLength: '999999' }), error: /Inference-Header-Content-Length 999999 is beyond the body's \d+ bytes/ },
    { name: 'header length cutting the JSON', send: () => postBinary({ inputs: [{ ...input, parameters: { binary_data_size: size } }] }, [bytesOf(x)], { headerLength: '20' }), error: /body is not valid JSON/ },
    { name: 'header length not a number', send: () => postBinary({ inputs: [] }, [], { headerLength: '12abc' }), error: /Inference-Header-Content-Length must be the JSON header's length in bytes, got "12abc"/ },
    { name: 'negative binary_data_size', send: () => postBinary({ inputs: [{ ...input, parameters: { binary_data_size: -4 } }] }, [bytesOf(x)]), error: /"binary_data_size" must be a byte count \(an integer >= 0\), got -4/ },
    { name: 'both data and binary_data_size', send: () => postBinary({ inputs: [{ ...input, data: [1], parameters: { binary_data_size: size } }] }, [bytesOf(x)]), error: /has both "data" and "binary_data_size"/ },
    { name: 'BYTES framing overrun', send: () => postBinary({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 6 } }] }, [new Uint8Array([200, 0, 0, 0, 1, 2])]), error: /BYTES element 0 declares 200 bytes but only 2 remain/ },
    { name: 'binary_data not a boolean', send: () => postBinary({ inputs: [{ ...input, parameters: { binary_data_size: size } }], outputs: [{ name: 'logits', parameters: { binary_data: 'yes' } }] }, [bytesOf(x)]), error: /"binary_data" must be true or false, got "yes"/ },
  ];
  for (const c of cases) {
    const r = await c.send();
    assert.equal(r.status, 400, `${c.name}: ${JSON.stringify(r.json)}`);
    assert.deepEqual(Object.keys(r.json), ['error'], c.name);
    assert.match(r.json.error as string, c.error, c.name);
  }
  const again = await postBinary({ inputs: [{ ...input, parameters: { binary_data_size: size } }], outputs: [{ name: 'logits' }] }, [bytesOf(x)]);
  assert.equal(again.status, 200);
  assert.deepEqual(Array.from(outputValues(again).logits!), Array.from(direct.logits));
});

test('V2 requests are data-captured like /invocations; the request id is the event id and is echoed', async () => {
  const id = 'lot-42-camera-3';
  const r = await postBinary({ id, inputs: [{ ...input, parameters: { binary_data_size: x.byteLength } }], outputs: [{ name: 'logits', parameters: { binary_data: true } }] }, [bytesOf(x)]);
  assert.equal(r.status, 200);
  assert.equal(r.json.id, id, 'the response echoes the request id');
  const j = await postJson({ id: 'json-1', inputs: [{ ...input, data: Array.from(x) }], outputs: [{ name: 'logits' }] });
  assert.equal(j.json.id, 'json-1');
  await srv.capture!.flush();
  const files = await listCaptureFiles(join(captureDir, 'conv'));
  assert.ok(files.length > 0, 'capture files under <dir>/<model>/');
  assert.match(files[0]!.path, /conv[\\/]AllTraffic[\\/]\d{4}[\\/]\d{2}[\\/]\d{2}[\\/]\d{2}[\\/][^\\/]+\.jsonl$/);
  const records = (await Promise.all(files.map((f) => readFile(f.path, 'utf8')))).join('').trim().split('\n').map((l) => JSON.parse(l) as CaptureRecord);
  const bin = records.find((rec) => rec.eventMetadata.eventId === id);
  assert.ok(bin, 'the binary request is captured under its id');
  assert.equal(bin.eventMetadata.modelName, 'conv');
  assert.equal(bin.captureData.endpointInput.encoding, 'BASE64');
  const n = Number(/inference-header-content-length=(\d+)/.exec(bin.captureData.endpointInput.observedContentType)?.[1]);
  const sent = Buffer.from(bin.captureData.endpointInput.data, 'base64');
  assert.equal((JSON.parse(sent.subarray(0, n).toString()) as { id: string }).id, id);
  assert.deepEqual(f32(sent.subarray(n)), x, 'the captured input is the request as sent');
  const out = Buffer.from(bin.captureData.endpointOutput.data, 'base64');
  const m = Number(/inference-header-content-length=(\d+)/.exec(bin.captureData.endpointOutput.observedContentType)?.[1]);
  assert.deepEqual(f32(out.subarray(m)), direct.logits, 'the captured output is the response as sent');
  const js = records.find((rec) => rec.eventMetadata.eventId === 'json-1');
  assert.ok(js);
  assert.equal(js.captureData.endpointInput.encoding, 'JSON');
  assert.equal((JSON.parse(captureBody(js.captureData.endpointOutput)) as { id: string }).id, 'json-1');
});
