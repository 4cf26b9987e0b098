// The Open Inference Protocol (KServe V2) over real HTTP on 127.0.0.1: a model repository of two
// real models (a random forest regression on the steel plant energy data, a random forest
// classifier trained on a headerless label-first table), several versions, the default model of
// /invocations also served over V2, load/unload behind the admin token while the others serve.
// Request and response shapes follow the protocol's own examples:
// https://github.com/kserve/kserve/blob/master/docs/predict-api/v2/required_api.md
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as aq from 'arquero';
import { loadModel, trainPackage } from '../../lib/model/index.ts';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { modelMetadata, parseInferRequest, predictionsToOutputs } from '../../serve/v2/infer.ts';
import { parseVersionPolicy, selectVersions } from '../../serve/v2/repository.ts';
import { checkShape, flattenData } from '../../serve/v2/tensor.ts';
import { RF_FEATURES, trainEnergyForest } from './fixtures/rf-model.ts';
import { http, invoke, labelFirstRows, REAL_LOADER, scratch, type Reply } from './helpers.ts';

const TOKEN = 'v2-admin-token-456';

/**
 * The response schema of the protocol document: `$inference_response` has model_name,
 * model_version (optional), id, parameters (optional) and outputs; each `$response_output` has
 * name, shape, datatype, parameters (optional) and data, whose flat length is the product of the shape.
 */
function checkInferenceResponse(doc: Record<string, unknown>): void {
  for (const k of Object.keys(doc)) assert.ok(['model_name', 'model_version', 'id', 'parameters', 'outputs'].includes(k), `unexpected key ${k}`);
  assert.ok(Array.isArray(doc.outputs) && doc.outputs.length > 0, 'outputs');
  for (const o of doc.outputs as Record<string, unknown>[]) {
    for (const k of Object.keys(o)) assert.ok(['name', 'shape', 'datatype', 'parameters', 'data'].includes(k), `unexpected output key ${k}`);
    assert.equal(typeof o.name, 'string');
    assert.ok(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'].includes(o.datatype as string));
    const shape = o.shape as number[];
    assert.ok(shape.every((d) => Number.isInteger(d) && d >= 0));
    assert.equal((o.data as unknown[]).flat(shape.length).length, shape.reduce((a, b) => a * b, 1), `output ${String(o.name)} data/shape`);
  }
}

/** Same keys and JSON types as the spec's schema example (`$string` = a string, arrays by their first element). */
function sameSchema(got: unknown, schema: unknown, where = '$'): void {
  if (schema === '$string') return assert.equal(typeof got, 'string', where);
  if (Array.isArray(schema)) {
    assert.ok(Array.isArray(got), where);
    for (const [i, g] of (got as unknown[]).entries()) sameSchema(g, schema[0], `${where}[${i}]`);
    return;
  }
  if (schema !== null && typeof schema === 'object') {
    assert.ok(got !== null && typeof got === 'object' && !Array.isArray(got), where);
    for (const k of Object.keys(got as object)) assert.ok(k in schema, `${where}.${k} is not in the spec`);
    for (const [k, v] of Object.entries(schema)) if (k !== 'reason' && k !== 'versions') sameSchema((got as Record<string, unknown>)[k], v, `${where}.${k}`);
    return;
  }
  assert.equal(typeof got, typeof schema, where);
}
let srv: RunningServer;
let cleanup: () => Promise<void>;
let energyRows: number[][];
let energyWant: number[];
let iris: { label: string; x: number[] }[];
let irisWant: Record<string, number | string>[];
let repo: string;
const logs: Record<string, unknown>[] = [];

before(async () => {
  const s = await scratch('mw-v2-');
  cleanup = s.cleanup;
  const energy = await trainEnergyForest(join(s.dir, 'energy'), { trees: 10, maxDepth: 6, rows: 1500 });
  energyRows = energy.data.slice(0, 20).map((r) => r.slice(0, RF_FEATURES.length));
  const energyModel = await loadModel(energy.modelDir);
  energyWant = (await energyModel.predict(aq.table(Object.fromEntries(RF_FEATURES.map((f, i) => [f, energyRows.map((r) => r[i]!)]))))) as number[];

  const irisBase = join(s.dir, 'iris');
  await mkdir(join(irisBase, 'input', 'data', 'training'), { recursive: true });
  iris = labelFirstRows(150);
  await writeFile(join(irisBase, 'input', 'data', 'training', 'iris.csv'), iris.map((r) => [r.label, ...r.x].join(',')).join('\n') + '\n');
  const { modelDir: irisDir } = await trainPackage({ package: 'random-forest-classification', base: irisBase, name: 'iris', hyperparameters: { n_estimators: '8' } });
  const irisModel = await loadModel(irisDir);
  irisWant = (await irisModel.predict(aq.table(Object.fromEntries(['f0', 'f1', 'f2', 'f3'].map((f, i) => [f, iris.slice(0, 6).map((r) => r.x[i]!)]))), { output: 'probabilities' })) as Record<string, number | string>[];

  // <repo>/<name>/<version>/: energy has versions 2, 10 and 3 (numeric order: 2 < 3 < 10), iris has 1.
  repo = join(s.dir, 'repo');
  for (const v of ['2', '3', '10']) await cp(energy.modelDir, join(repo, 'energy', v), { recursive: true });
  await cp(irisDir, join(repo, 'iris', '1'), { recursive: true });
  await mkdir(join(repo, 'empty-model'), { recursive: true });
  srv = await startServer({
    modelDir: energy.modelDir,
    loader: REAL_LOADER,
    port: 0,
    workers: 1,
    adminToken: TOKEN,
    repository: { dir: repo, policy: { latest: 2 } },
    log: (l) => logs.push(l),
  });
});

after(async () => {
  await srv?.close();
  await cleanup?.();
});

const infer = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> =>
  http(`${srv.url}${path}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
const admin = { authorization: `Bearer ${TOKEN}` };
const perFeature = (rows: number[][], names: readonly string[], datatype = 'FP64') =>
  names.map((name, j) => ({ name, datatype, shape: [rows.length], data: rows.map((r) => r[j]) }));
const near = (got: number[], want: number[]) => {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-9, `row ${i}: ${g} vs ${want[i]}`));
};

describe('server and model metadata, health', () => {
  test('GET /v2 names the server and the repository extension; live and ready are 200', async () => {
    const meta = await http(`${srv.url}/v2`);
    assert.equal(meta.status, 200);
    const m = meta.json<{ name: string; version: string; extensions: string[] }>();
    assert.equal(m.name, 'millwright');
    assert.match(m.version, /^\d+\.\d+\.\d+/);
    assert.deepEqual(m.extensions, ['binary_tensor_data', 'model_repository']);
    assert.deepEqual((await http(`${srv.url}/v2/health/live`)).json(), { live: true });
    const ready = await http(`${srv.url}/v2/health/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json(), { ready: true });
  });

  test('model metadata: one input per feature, outputs with datatype and shape; the policy loaded the 2 latest versions', async () => {
    const iris = (await http(`${srv.url}/v2/models/iris`)).json();
    assert.deepEqual(iris, {
      name: 'iris',
      versions: ['1'],
      platform: 'millwright/random-forest-classification',
      inputs: ['f0', 'f1', 'f2', 'f3'].map((name) => ({ name, datatype: 'FP64', shape: [-1] })),
      outputs: [
        { name: 'predict', datatype: 'BYTES', shape: [-1] },
        { name: 'predict_proba', datatype: 'FP64', shape: [-1, 3] },
      ],
    });
    const energy = (await http(`${srv.url}/v2/models/energy/versions/3`)).json<{ versions: string[]; outputs: unknown[]; inputs: { name: string }[] }>();
    assert.deepEqual(energy.versions, ['3', '10']);
    assert.deepEqual(energy.inputs.map((i) => i.name), [...RF_FEATURES]);
    assert.deepEqual(energy.outputs, [{ name: 'predict', datatype: 'FP64', shape: [-1] }]);
    const old = await http(`${srv.url}/v2/models/energy/versions/2`);
    assert.equal(old.status, 404);
    assert.match(old.json<{ error: string }>().error, /no loaded version "2" \(loaded: 3, 10\)/);
  });

  test('model ready: 200 for loaded models and versions, 404 for unknown ones; the default model is served under its name', async () => {
    assert.deepEqual((await http(`${srv.url}/v2/models/iris/ready`)).json(), { name: 'iris', ready: true });
    assert.equal((await http(`${srv.url}/v2/models/energy/versions/10/ready`)).status, 200);
    assert.equal((await http(`${srv.url}/v2/models/nope/ready`)).status, 404);
    const def = await http(`${srv.url}/v2/models/steel-energy`);
    assert.equal(def.status, 200);
    assert.deepEqual(def.json<{ versions: string[] }>().versions, [srv.model()!.version]);
    assert.equal((await http(`${srv.url}/v2/models/steel-energy/versions/${srv.model()!.version}/ready`)).status, 200);
  });
});

describe('inference', () => {
  test('one input per feature ([N] and [N, 1], any numeric datatype): predictions equal lib/model in-process; id echoed', async () => {
    const r = await infer('/v2/models/energy/infer', { id: 'req-42', inputs: perFeature(energyRows, RF_FEATURES) });
    assert.equal(r.status, 200, r.text);
    const out = r.json<{ model_name: string; model_version: string; id: string; outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] }>();
    assert.equal(out.model_name, 'energy');
    assert.equal(out.model_version, '10');
    assert.equal(out.id, 'req-42');
    assert.deepEqual(out.outputs.map((o) => [o.name, o.datatype, o.shape]), [['predict', 'FP64', [20]]]);
    near(out.outputs[0]!.data, energyWant);
    // [N, 1] shapes, an integer datatype for integral features, a pinned version
    const inputs = RF_FEATURES.map((name, j) => ({ name, datatype: name === 'nsm' ? 'INT64' : 'FP32', shape: [3, 1], data: energyRows.slice(0, 3).map((row) => [name === 'nsm' ? row[j] : Math.fround(row[j]!)]) }));
    const pinned = await infer('/v2/models/energy/versions/3/infer', { inputs });
    assert.equal(pinned.status, 200, pinned.text);
    assert.equal(pinned.json<{ model_version: string }>().model_version, '3');
    assert.equal(pinned.json<{ outputs: { data: number[] }[] }>().outputs[0]!.data.length, 3);
  });

  test('one [N, F] tensor, nested or flat (the spec\'s two forms of the same matrix) give the same answer', async () => {
    const rows = iris.slice(0, 6).map((r) => r.x);
    const nested = await infer('/v2/models/iris/infer', { inputs: [{ name: 'input-0', datatype: 'FP64', shape: [6, 4], data: rows }] });
    const flat = await infer('/v2/models/iris/infer', { inputs: [{ name: 'input-0', datatype: 'FP64', shape: [6, 4], data: rows.flat() }] });
    assert.equal(nested.status, 200, nested.text);
    assert.equal(nested.text, flat.text);
    const out = nested.json<{ outputs: { name: string; datatype: string; shape: number[]; data: (string | number)[]; parameters?: Record<string, string> }[] }>().outputs;
    assert.deepEqual(out.map((o) => [o.name, o.datatype, o.shape]), [['predict', 'BYTES', [6]], ['predict_proba', 'FP64', [6, 3]]]);
    assert.deepEqual(out[0]!.data, irisWant.map((p) => p.label));
    assert.deepEqual(out[1]!.data, irisWant.flatMap((p) => ['setosa', 'versicolor', 'virginica'].map((c) => p[c])));
    assert.equal(out[1]!.parameters?.classes, '["setosa","versicolor","virginica"]');
    // the same rows through /invocations on the same model give the same labels
    const only = await infer('/v2/models/iris/infer', { inputs: [{ name: 'x', datatype: 'FP32', shape: [6, 4], data: rows.flat() }], outputs: [{ name: 'predict' }] });
    assert.deepEqual(only.json<{ outputs: { name: string }[] }>().outputs.map((o) => o.name), ['predict']);
  });

  test('binary tensor extension on a tabular model: FP64 [N, F] in, BYTES labels and FP64 probabilities out, equal to JSON', async () => {
    const rows = iris.slice(0, 6).map((r) => r.x);
    const x = Float64Array.from(rows.flat());
    const head = Buffer.from(JSON.stringify({ id: 'bin-1', inputs: [{ name: 'x', datatype: 'FP64', shape: [6, 4], parameters: { binary_data_size: x.byteLength } }], parameters: { binary_data_output: true } }));
    const r = await fetch(`${srv.url}/v2/models/iris/infer`, { method: 'POST', body: Buffer.concat([head, Buffer.from(x.buffer)]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.byteLength) } });
    assert.equal(r.status, 200);
    const bytes = Buffer.from(await r.arrayBuffer());
    const cut = Number(r.headers.get('inference-header-content-length'));
    const doc = JSON.parse(bytes.subarray(0, cut).toString()) as { id: string; outputs: { name: string; datatype: string; shape: number[]; data?: unknown; parameters: { binary_data_size: number; classes?: string } }[] };
    assert.equal(doc.id, 'bin-1');
    assert.deepEqual(doc.outputs.map((o) => [o.name, o.datatype, o.shape, o.data]), [['predict', 'BYTES', [6], undefined], ['predict_proba', 'FP64', [6, 3], undefined]]);
    assert.equal(doc.outputs[1]!.parameters.classes, '["setosa","versicolor","virginica"]');
    // BYTES: 4-byte little-endian length, then the UTF-8 label, per element
    const labels: string[] = [];
    let at = cut;
    for (let i = 0; i < 6; i++) {
      const n = bytes.readUInt32LE(at);
      labels.push(bytes.subarray(at + 4, at + 4 + n).toString('utf8'));
      at += 4 + n;
    }
    assert.equal(at - cut, doc.outputs[0]!.parameters.binary_data_size);
    const proba = new Float64Array(new Uint8Array(bytes.subarray(at)).buffer);
    assert.equal(proba.byteLength, doc.outputs[1]!.parameters.binary_data_size);
    const viaJson = await infer('/v2/models/iris/infer', { inputs: [{ name: 'x', datatype: 'FP64', shape: [6, 4], data: rows.flat() }] });
    const want = viaJson.json<{ outputs: { data: (string | number)[] }[] }>().outputs;
    assert.deepEqual(labels, want[0]!.data);
    assert.deepEqual(Array.from(proba), want[1]!.data);
  });

  test('requested outputs: only those, in the order asked; an unknown one is 400', async () => {
    const r = await infer('/v2/models/iris/infer', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 4], data: iris[0]!.x }], outputs: [{ name: 'predict_proba' }, { name: 'predict' }] });
    assert.deepEqual(r.json<{ outputs: { name: string }[] }>().outputs.map((o) => o.name), ['predict_proba', 'predict']);
    const bad = await infer('/v2/models/iris/infer', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 4], data: iris[0]!.x }], outputs: [{ name: 'logits' }] });
    assert.equal(bad.status, 400);
    assert.match(bad.json<{ error: string }>().error, /unknown output "logits"; this model produces predict, predict_proba/);
  });

  test('the default model over V2 and /invocations answer alike; /invocations still serves the default', async () => {
    const v2 = await infer('/v2/models/steel-energy/infer', { inputs: perFeature(energyRows, RF_FEATURES) });
    near(v2.json<{ outputs: { data: number[] }[] }>().outputs[0]!.data, energyWant);
    const classic = await invoke(srv.url, energyRows.map((r) => r.join(',')).join('\n'), 'text/csv');
    near(classic.json<{ predictions: number[] }>().predictions, energyWant);
  });

  test('responses, metadata and the repository index have the shapes of the spec\'s own examples (fixture)', async () => {
    const spec = JSON.parse(await readFile(new URL('./fixtures/v2-spec-examples.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    checkInferenceResponse(spec.inferenceResponse as Record<string, unknown>); // the checker accepts the spec's example
    for (const [path, body] of [
      ['/v2/models/energy/infer', { id: 'a', inputs: perFeature(energyRows, RF_FEATURES) }],
      ['/v2/models/iris/infer', { inputs: [{ name: 'x', datatype: 'FP64', shape: [2, 4], data: [iris[0]!.x, iris[1]!.x] }] }],
    ] as const) {
      const r = await infer(path, body);
      assert.equal(r.status, 200, r.text);
      checkInferenceResponse(r.json());
    }
    sameSchema((await http(`${srv.url}/v2`)).json(), spec.serverMetadata);
    sameSchema((await http(`${srv.url}/v2/models/iris`)).json(), spec.modelMetadata);
    const index = await http(`${srv.url}/v2/repository/index`, { method: 'POST', body: '', headers: { authorization: `Bearer ${TOKEN}` } });
    sameSchema(index.json(), [spec.repositoryIndexEntry]);
  });

  test("the spec's example request (input1 shape [3] with one element) is refused as the shape/data mismatch it is", async () => {
    // Verbatim from required_api.md "Inference Request Examples" (test/serve/fixtures/v2-spec-examples.json).
    const spec = JSON.parse(await readFile(new URL('./fixtures/v2-spec-examples.json', import.meta.url), 'utf8')) as { inferenceRequest: unknown; matrixNested: number[][]; matrixFlat: number[] };
    const example = spec.inferenceRequest;
    assert.throws(() => parseInferRequest(JSON.stringify(example), [{ name: 'input0', type: 'number' }, { name: 'input1', type: 'boolean' }]), /input "input0": shape \[2, 2\] must be \[N\] or \[N, 1\]/);
    assert.throws(() => flattenData([true], [3], 3, 'BOOL', 'input "input1"'), /input "input1": "data" has 1 element\(s\) but shape \[3\] needs 3/);
    // The matrix example: [[1, 2], [4, 5]] and [1, 2, 4, 5] are the same tensor.
    assert.deepEqual(flattenData(spec.matrixNested, [2, 2], 4, 'UINT32', 'm'), flattenData(spec.matrixFlat, [2, 2], 4, 'UINT32', 'm'));
    // The example response's shape: model_name, model_version, id, outputs[{name, shape, datatype, data}].
    const outputs = predictionsToOutputs([1, 1.1, 2], { name: 'm', algorithm: 'a', task: 'regression', features: [] });
    assert.deepEqual(outputs, [{ name: 'predict', datatype: 'FP64', shape: [3], data: [1, 1.1, 2] }]);
    assert.deepEqual(Object.keys(modelMetadata({ name: 'm', algorithm: 'a', task: 'regression', features: [{ name: 'x', type: 'integer' }] }, ['1'])), ['name', 'versions', 'platform', 'inputs', 'outputs']);
  });
});

describe('errors: {"error": "..."} with the protocol status codes', () => {
  test('404 unknown model / version / route, 415 wrong content type, 400 malformed, 503 while a model loads', async () => {
    const unknown = await infer('/v2/models/nope/infer', { inputs: [] });
    assert.equal(unknown.status, 404);
    assert.deepEqual(Object.keys(unknown.json()), ['error']);
    assert.equal((await infer('/v2/models/energy/versions/99/infer', { inputs: perFeature(energyRows, RF_FEATURES) })).status, 404);
    assert.equal((await http(`${srv.url}/v2/nothing`)).status, 404);
    assert.equal((await http(`${srv.url}/v2/models/energy/infer`)).status, 404); // GET on infer
    const ct = await infer('/v2/models/energy/infer', 'a,b', { 'content-type': 'text/csv' });
    assert.equal(ct.status, 415);
    assert.match(ct.json<{ error: string }>().error, /send application\/json/);
    const missing = await infer('/v2/models/energy/infer', { inputs: perFeature(energyRows, RF_FEATURES.slice(1)) });
    assert.equal(missing.status, 400);
    assert.match(missing.json<{ error: string }>().error, /missing input "lagging_kvarh"; expected one input per feature/);
    const extra = await infer('/v2/models/energy/infer', { inputs: [...perFeature(energyRows, RF_FEATURES), { name: 'speed', datatype: 'FP64', shape: [20], data: energyRows.map(() => 1) }] });
    assert.match(extra.json<{ error: string }>().error, /unknown input "speed"/);
    const rows = await infer('/v2/models/energy/infer', { inputs: perFeature(energyRows, RF_FEATURES).map((t, i) => (i === 2 ? { ...t, shape: [19], data: t.data.slice(1) } : t)) });
    assert.match(rows.json<{ error: string }>().error, /input "co2" has 19 rows but "lagging_kvarh" has 20/);
    const wide = await infer('/v2/models/iris/infer', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 3], data: [1, 2, 3] }] });
    assert.match(wide.json<{ error: string }>().error, /shape \[1, 3\] needs 4 columns, one per feature \(f0, f1, f2, f3\)/);

    await http(`${srv.url}/v2/repository/models/iris/unload`, { method: 'POST', body: '', headers: admin });
    const loading = http(`${srv.url}/v2/repository/models/iris/load`, { method: 'POST', body: '{}', headers: admin });
    await new Promise((r) => setTimeout(r, 20));
    const during = await infer('/v2/models/iris/infer', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 4], data: iris[0]!.x }] });
    const readyDuring = await http(`${srv.url}/v2/health/ready`);
    assert.equal((await loading).status, 200);
    assert.equal(during.status, 503, during.text);
    assert.equal(during.headers.get('retry-after'), '1');
    assert.match(during.json<{ error: string }>().error, /model "iris" is loading/);
    assert.equal(readyDuring.status, 503);
    assert.equal((await http(`${srv.url}/v2/health/ready`)).status, 200);
  });
});

describe('model repository (index, load, unload) behind the admin token', () => {
  test('401 without the token; the index lists every model, version and state', async () => {
    assert.equal((await http(`${srv.url}/v2/repository/index`, { method: 'POST', body: '' })).status, 401);
    assert.equal((await http(`${srv.url}/v2/repository/index`, { method: 'POST', body: '', headers: { authorization: 'Bearer wrong-token-xxxxxxxxx' } })).status, 401);
    const index = await http(`${srv.url}/v2/repository/index`, { method: 'POST', body: '{}', headers: admin });
    assert.equal(index.status, 200, index.text);
    assert.deepEqual(index.json(), [
      { name: 'energy', version: '3', state: 'READY' },
      { name: 'energy', version: '10', state: 'READY' },
      { name: 'iris', version: '1', state: 'READY' },
    ]);
    const load = await http(`${srv.url}/v2/repository/models/empty-model/load`, { method: 'POST', body: '', headers: admin });
    assert.equal(load.status, 404);
    assert.match(load.json<{ error: string }>().error, /model "empty-model" has no version/);
    assert.equal((await http(`${srv.url}/v2/repository/models/..%2F..%2Fetc/load`, { method: 'POST', body: '', headers: admin })).status, 404);
  });

  test('unload one model while another serves under load: no failed request on the other; load brings it back', async () => {
    const body = { inputs: perFeature(energyRows, RF_FEATURES) };
    let stop = false;
    const statuses: number[] = [];
    const worker = (async () => {
      for (let i = 0; i < 400 && !stop; i++) statuses.push((await infer('/v2/models/energy/infer', body)).status);
    })();
    await new Promise((r) => setTimeout(r, 50));
    const unload = await http(`${srv.url}/v2/repository/models/iris/unload`, { method: 'POST', body: '', headers: admin });
    assert.equal(unload.status, 200, unload.text);
    const gone = await infer('/v2/models/iris/infer', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 4], data: iris[0]!.x }] });
    assert.equal(gone.status, 404);
    assert.match(gone.json<{ error: string }>().error, /not loaded/);
    const index = (await http(`${srv.url}/v2/repository/index`, { method: 'POST', body: '', headers: admin })).json<{ name: string; state: string }[]>();
    assert.deepEqual(index.find((e) => e.name === 'iris'), { name: 'iris', state: 'UNLOADED' });
    const load = await http(`${srv.url}/v2/repository/models/iris/load`, { method: 'POST', body: '', headers: admin });
    assert.equal(load.status, 200, load.text);
    assert.deepEqual(load.json(), { name: 'iris', loaded: ['1'], failed: {} });
    stop = true;
    await worker;
    assert.ok(statuses.length > 5, `only ${statuses.length} requests ran`);
    assert.deepEqual([...new Set(statuses)], [200]);
    const back = await infer('/v2/models/iris/infer', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1, 4], data: iris[0]!.x }] });
    assert.equal(back.status, 200);
    assert.ok(logs.some((l) => l.msg === 'repository model unloaded' && l.model === 'iris'));
  });

  test('a tampered version is refused on load and the version serving before keeps serving', async () => {
    await writeFile(join(repo, 'energy', '10', 'rf.json'), '{"tampered":true}');
    const load = await http(`${srv.url}/v2/repository/models/energy/load`, { method: 'POST', body: '', headers: admin });
    assert.equal(load.status, 200, load.text);
    const out = load.json<{ loaded: string[]; failed: Record<string, string> }>();
    assert.deepEqual(out.loaded, ['3']);
    assert.match(out.failed['10']!, /"rf\.json" was modified/);
    const r = await infer('/v2/models/energy/infer', { inputs: perFeature(energyRows, RF_FEATURES) });
    assert.equal(r.json<{ model_version: string }>().model_version, '3');
    const index = (await http(`${srv.url}/v2/repository/index`, { method: 'POST', body: '{"ready": true}', headers: admin })).json<{ name: string; version: string; reason?: string }[]>();
    assert.match(index.find((e) => e.name === 'energy')!.reason!, /versions not loaded: 10:/);
  });
});

describe('pure parts', () => {
  test('version policies: latest N (numeric order), specific, all; bad policies are usage errors', () => {
    assert.deepEqual(selectVersions(['1', '10', '2', '3'], parseVersionPolicy('latest:2')), ['3', '10']);
    assert.deepEqual(selectVersions(['1', '10', '2'], parseVersionPolicy('latest')), ['10']);
    assert.deepEqual(selectVersions(['1', '10', '2'], parseVersionPolicy('specific:1,2,7')), ['1', '2']);
    assert.deepEqual(selectVersions(['20261121T220005Z-4d', '20261001T000000Z-aa'], parseVersionPolicy('all')), ['20261001T000000Z-aa', '20261121T220005Z-4d']);
    for (const bad of ['latest:0', 'newest', 'specific:', 'specific:../x']) assert.throws(() => parseVersionPolicy(bad), /version policy/);
  });

  test('shapes: negative, fractional and overflowing dimensions are refused before any allocation', () => {
    assert.equal(checkShape([2, 3], 'x'), 6);
    assert.equal(checkShape([0, 5], 'x'), 0);
    assert.throws(() => checkShape([-1, 4], 'x'), /shape\[0\] is -1; every dimension must be an integer >= 0/);
    assert.throws(() => checkShape([1.5], 'x'), /shape\[0\] is 1\.5/);
    assert.throws(() => checkShape([1e9, 1e9], 'x'), /has more than 10000000 elements/);
    assert.throws(() => checkShape('4', 'x'), /"shape" must be an array/);
  });
});
