// Open Inference Protocol traffic in the capture, read back for the reports: a real server on
// 127.0.0.1 answers V2 JSON (one input per feature, one [N, F] tensor), V2 binary (FP32 in,
// binary FP64 out) and /invocations CSV for the same rows; readCapture gives one table whose
// feature values are what each request sent and whose predictions are what each response said.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readManifest } from '../../lib/model/index.ts';
import type { FeatureSpec } from '../../lib/model/contract.ts';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { readCapture } from '../../reports/capture.ts';
import { readV2Exchange } from '../../reports/capture-v2.ts';
import { RF_FEATURES, trainEnergyForest } from '../serve/fixtures/rf-model.ts';
import { http, REAL_LOADER, scratch } from '../serve/helpers.ts';

let srv: RunningServer;
let cleanup: () => Promise<void>;
let captureDir: string;
let rows: number[][];
let features: FeatureSpec[];

before(async () => {
  const s = await scratch('mw-capture-v2-');
  cleanup = s.cleanup;
  const t = await trainEnergyForest(join(s.dir, 'ml'), { trees: 6, maxDepth: 5, rows: 800 });
  rows = t.data.slice(0, 3).map((r) => r.slice(0, RF_FEATURES.length));
  features = (await readManifest(t.modelDir)).features;
  captureDir = join(s.dir, 'capture');
  srv = await startServer({ modelDir: t.modelDir, loader: REAL_LOADER, port: 0, workers: 1, capture: { dir: captureDir, sampleRate: 1, flushIntervalMs: 50 }, log: () => {} });
});

after(async () => {
  await srv?.close();
  await cleanup?.();
});

const F = RF_FEATURES.length;

test('V2 JSON, V2 binary and /invocations records read back as one table: sent features, answered predictions, V2 ids', async () => {
  const infer = (body: string | Uint8Array, headers: Record<string, string> = { 'content-type': 'application/json' }) => http(`${srv.url}/v2/models/steel-energy/infer`, { body, headers });
  const answered: number[] = [];
  // 1. one input per feature (FP64), with a V2 id
  const perFeature = await infer(JSON.stringify({ id: 'v2-json', inputs: RF_FEATURES.map((f, j) => ({ name: f, datatype: 'FP64', shape: [rows.length], data: rows.map((r) => r[j]) })) }));
  assert.equal(perFeature.status, 200, perFeature.text);
  answered.push(...(perFeature.json<{ outputs: { name: string; data: number[] }[] }>().outputs.find((o) => o.name === 'predict')!.data));
  // 2. one [N, F] tensor, nested data
  const matrix = await infer(JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP64', shape: [rows.length, F], data: rows }] }));
  assert.equal(matrix.status, 200, matrix.text);
  answered.push(...(matrix.json<{ outputs: { name: string; data: number[] }[] }>().outputs.find((o) => o.name === 'predict')!.data));
  // 3. binary extension: FP32 [N, F] in, binary output out
  const x32 = Float32Array.from(rows.flat());
  const head = Buffer.from(JSON.stringify({ id: 'v2-bin', inputs: [{ name: 'input-0', datatype: 'FP32', shape: [rows.length, F], parameters: { binary_data_size: x32.byteLength } }], parameters: { binary_data_output: true } }));
  const bin = await fetch(`${srv.url}/v2/models/steel-energy/infer`, { method: 'POST', body: Buffer.concat([head, Buffer.from(x32.buffer)]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.length) } });
  assert.equal(bin.status, 200);
  const binBody = Buffer.from(await bin.arrayBuffer());
  const jsonLength = Number(bin.headers.get('inference-header-content-length'));
  const outHead = JSON.parse(binBody.toString('utf8', 0, jsonLength)) as { outputs: { name: string; datatype: string; parameters?: { binary_data_size: number } }[] };
  assert.equal(outHead.outputs[0]!.name, 'predict');
  const raw = Buffer.from(binBody.subarray(jsonLength, jsonLength + outHead.outputs[0]!.parameters!.binary_data_size));
  const outType = outHead.outputs[0]!.datatype === 'FP32' ? Float32Array : Float64Array;
  answered.push(...new outType(raw.buffer, raw.byteOffset, raw.byteLength / outType.BYTES_PER_ELEMENT));
  // 4. /invocations CSV of the same rows
  const csv = await http(`${srv.url}/invocations`, { body: rows.map((r) => r.join(',')).join('\n') + '\n', headers: { 'content-type': 'text/csv', accept: 'application/json' } });
  answered.push(...csv.json<{ predictions: number[] }>().predictions);

  await srv.capture!.flush();
  const got = await readCapture(captureDir, { features });
  assert.deepEqual(got.skipped, [], 'every V2 record is read');
  assert.equal(got.records, 4);
  assert.equal(got.frame.rows, 4 * rows.length);
  // Capture order is request order here (one writer, sequential requests).
  const sent = [...rows, ...rows, ...rows.map((r) => r.map((v) => Math.fround(v))), ...rows];
  RF_FEATURES.forEach((f, j) => assert.deepEqual(Array.from(got.frame.columns.get(f)!.values as ArrayLike<number>), sent.map((r) => r[j]), `feature ${f}`));
  assert.deepEqual(Array.from(got.frame.columns.get('prediction')!.values as ArrayLike<number>), answered);
  const ids = got.frame.columns.get('inferenceId')!.values as (string | null)[];
  assert.deepEqual(ids.slice(0, rows.length), rows.map(() => 'v2-json'));
  assert.deepEqual(ids.slice(2 * rows.length, 3 * rows.length), rows.map(() => 'v2-bin'));
});

test('a V2 record that does not add up is a skipped line with its reason, not a guess', () => {
  const input = (body: unknown) => ({ data: JSON.stringify(body), encoding: 'JSON', observedContentType: 'application/json' });
  const out = input({ outputs: [{ name: 'predict', datatype: 'FP64', shape: [2], data: [1, 2] }] });
  assert.throws(() => readV2Exchange(input({ inputs: [{ name: 'x', datatype: 'FP64', shape: [2, 3], data: [1, 2, 3] }] }), out, [{ name: 'a', type: 'number' }, { name: 'b', type: 'number' }, { name: 'c', type: 'number' }]), /3 data element\(s\) for shape \[2, 3\]/);
  assert.throws(() => readV2Exchange(input({ inputs: [{ name: 'x', datatype: 'FP64', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }] }), out, undefined), /needs the model's 3 feature names/);
  assert.throws(() => readV2Exchange(input({ inputs: [{ name: 'a', datatype: 'FP64', shape: [3], data: [1, 2, 3] }] }), out, [{ name: 'a', type: 'number' }]), /3 input rows but 2 predictions/);
  const threshold = readV2Exchange(input({ inputs: [{ name: 'a', datatype: 'FP64', shape: [2], data: [1, 9] }] }), input({ outputs: [{ name: 'alarm', datatype: 'BOOL', shape: [2], data: [false, true] }, { name: 'score', datatype: 'FP64', shape: [2], data: [0.1, 0.9] }] }), [{ name: 'a', type: 'number' }]);
  assert.deepEqual(threshold.predictions, [{ alarm: false, score: 0.1 }, { alarm: true, score: 0.9 }]);
});
