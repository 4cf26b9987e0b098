/**
 * The Open Inference Protocol's inference and metadata for tabular models, as pure functions
 * (request in, response out, no I/O), like `invocations()`: a worker thread runs `inferV2` next
 * to the model; the HTTP layer (serve/v2/http.ts) only routes.
 * Spec: https://github.com/kserve/kserve/blob/master/docs/predict-api/v2/required_api.md
 */
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError, httpStatusFor } from '../../lib/errors/index.ts';
import { CoercionProblem, coerceFeatureValue, describeValue } from '../../lib/model/coerce-feature.ts';
import type { FeatureSpec, LoadedModel, ModelManifest, Prediction, TensorSignature, TensorValue } from '../../lib/model/contract.ts';
import { baseMediaType } from '../../lib/wire/parse-input.ts';
import { toMillwrightError, RETRY_AFTER_SECONDS, type HttpResult } from '../errors.ts';
import type { InvocationResult } from '../invocations.ts';
import { inferTensors, tensorMetadata } from './infer-tensors.ts';
import { tensorElements } from '../../lib/wire/tensor-json.ts';
import { BINARY_CONTENT_TYPE, binaryOutputChoice, binaryToElements, encodeBinaryTensor, HEADER_LENGTH, splitBinaryBody, takeBinaryInputs } from './binary.ts';
import { scanNumericData } from './numeric-data-scan.ts';
import { InlineLimitExceeded } from '../inline-limit.ts';
import { checkParameters, checkTensorHeader, flattenData, isNumericDatatype, type V2Datatype, type V2Tensor, type V2TensorMetadata } from './tensor.ts';

/** Output name of the single prediction per row (label or number), as MLServer's scikit-learn runtime names it. */
export const PREDICT_OUTPUT = 'predict';
/** Output name of a classifier's class probabilities, `[N, classes]` in `target.classes` order. */
export const PROBA_OUTPUT = 'predict_proba';

/** What the protocol layer needs to know about a model (a subset of the manifest). */
export type V2ModelInfo = Pick<ModelManifest, 'name' | 'algorithm' | 'task' | 'features' | 'target'> & { tensors?: TensorSignature };

export type { V2TensorMetadata } from './tensor.ts';

/**
 * `{"error": "..."}` with the status of the error's code (400 bad request, 404 unknown model, 503 not ready, ...).
 *
 * @example
 * import { v2ErrorResponse } from 'millwright/serve';
 * v2ErrorResponse(new MillwrightError('NOT_FOUND', 'unknown model "x"')); // { status: 404, body: '{"error":"unknown model \\"x\\""}', ... }
 */
export function v2ErrorResponse(err: unknown): HttpResult {
  const e = toMillwrightError(err);
  const status = httpStatusFor(e.code);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (status === 503) headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  return { status, headers, body: JSON.stringify({ error: e.message }) };
}

function datatypeFor(f: FeatureSpec): V2Datatype {
  return f.type === 'number' ? 'FP64' : f.type === 'integer' ? 'INT64' : f.type === 'boolean' ? 'BOOL' : 'BYTES';
}

/**
 * Outputs a model produces, from its task (records such as energy's expected/best become one output each).
 *
 * @example
 * import { outputMetadata } from 'millwright/serve';
 * outputMetadata({ name: 'm', algorithm: 'threshold', task: 'anomaly', features: [] }).map((o) => o.name); // ['alarm', 'score', 'signal']
 */
export function outputMetadata(info: V2ModelInfo): V2TensorMetadata[] {
  switch (info.task) {
    case 'classification':
      return [
        { name: PREDICT_OUTPUT, datatype: 'BYTES', shape: [-1] },
        { name: PROBA_OUTPUT, datatype: 'FP64', shape: [-1, info.target?.classes?.length ?? -1] },
      ];
    case 'energy':
      return [
        { name: 'expected', datatype: 'FP64', shape: [-1] },
        { name: 'best', datatype: 'FP64', shape: [-1] },
      ];
    case 'anomaly':
      return [
        { name: 'alarm', datatype: 'FP64', shape: [-1] },
        { name: 'score', datatype: 'FP64', shape: [-1] },
        { name: 'signal', datatype: 'BYTES', shape: [-1] },
      ];
    default:
      return [{ name: PREDICT_OUTPUT, datatype: 'FP64', shape: [-1] }];
  }
}

/**
 * `$metadata_model_response`: one input per feature (shape `[-1]`, or send one `[N, F]` tensor),
 * the outputs of {@link outputMetadata}, and the versions that may be requested.
 *
 * @example
 * import { modelMetadata } from 'millwright/serve';
 * modelMetadata({ name: 'press', algorithm: 'random-forest-regression', task: 'regression', features: [{ name: 'speed', type: 'number' }] }, ['3']);
 * // => { name: 'press', versions: ['3'], platform: 'millwright/random-forest-regression', inputs: [{ name: 'speed', datatype: 'FP64', shape: [-1] }], outputs: [...] }
 */
export function modelMetadata(info: V2ModelInfo, versions: string[]): Record<string, unknown> {
  if (info.tensors) return { name: info.name, versions, platform: `millwright/${info.algorithm}`, ...tensorMetadata(info.tensors) };
  return {
    name: info.name,
    versions,
    platform: `millwright/${info.algorithm}`,
    inputs: info.features.map((f) => ({ name: f.name, datatype: datatypeFor(f), shape: [-1] })),
    outputs: outputMetadata(info),
  };
}

/** A parsed `$inference_request`. */
export interface ParsedInferRequest {
  id?: string;
  table: ColumnTable;
  rows: number;
  /** Names of the requested outputs; undefined = all. */
  outputs?: string[];
  /** Whether an output goes back in binary. */
  binaryOutput: (name: string) => boolean;
}

/**
 * Parses and checks an inference request body into a table with exactly the model's features:
 * one input per feature (shape `[N]` or `[N, 1]`) or a single `[N, F]` tensor in feature order.
 *
 * @example
 * import { parseInferRequest } from 'millwright/serve';
 * parseInferRequest('{"inputs":[{"name":"x","datatype":"FP32","shape":[2],"data":[1,2]}]}', [{ name: 'x', type: 'number' }]).rows; // 2
 */
export function parseInferRequest(text: string, features: FeatureSpec[], binary?: Uint8Array): ParsedInferRequest {
  const env = parseRequestEnvelope(text, binary);
  const { table, rows } = tensorsToTable(env.inputs, features, env.binaryInputs);
  return { ...(env.id !== undefined ? { id: env.id } : {}), table, rows, outputs: env.outputs, binaryOutput: env.binaryOutput };
}

/** What every model reads from an `$inference_request`. */
export interface RequestEnvelope {
  id?: string;
  inputs: unknown[];
  /** Names of the requested outputs; undefined = all. */
  outputs?: string[];
  /** Each input's part of the binary body (binary tensor extension), by index; undefined = JSON `data`. */
  binaryInputs: (Uint8Array | undefined)[];
  /** Whether an output goes back in binary (`binary_data` / `binary_data_output`). */
  binaryOutput: (name: string) => boolean;
}

/**
 * The parts of an `$inference_request` every model reads: id, parameters, the input list, the
 * requested outputs and, with `binary` (the body after `Inference-Header-Content-Length`), each
 * input's binary data.
 */
export function parseRequestEnvelope(text: string, binary?: Uint8Array): RequestEnvelope {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `body is not valid JSON (${err instanceof RangeError ? 'nested too deeply' : (err as Error).message}); expected an inference request {"inputs": [...]}`);
  }
  return envelopeOf(doc, binary);
}

/**
 * {@link parseRequestEnvelope} through the fast path (numeric-data-scan.ts): the numeric
 * `inputs[k].data` arrays parsed by one scan of the body's bytes into `ScannedNumbers`, `JSON.parse`
 * on the rest. Undefined when the scan does not take the body (then decode it and use `parseRequestEnvelope`).
 */
export function scanRequestEnvelope(json: Uint8Array): RequestEnvelope | undefined {
  const scanned = scanNumericData(json);
  if (scanned === undefined) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(scanned.envelope);
  } catch {
    return undefined;
  }
  const inputs = (doc as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs)) return undefined;
  for (const [k, numbers] of scanned.data) {
    const t = inputs[k] as Record<string, unknown> | undefined;
    if (t === null || typeof t !== 'object' || Array.isArray(t) || t.data !== 0) return undefined;
    t.data = numbers;
  }
  return envelopeOf(doc, undefined);
}

function envelopeOf(doc: unknown, binary: Uint8Array | undefined): RequestEnvelope {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new MillwrightError('BAD_INPUT', `inference request must be a JSON object {"inputs": [...]}, got ${describeValue(doc)}`);
  const req = doc as Record<string, unknown>;
  if (req.id !== undefined && typeof req.id !== 'string') throw new MillwrightError('BAD_INPUT', `"id" must be a string, got ${describeValue(req.id)}`);
  if (req.parameters !== undefined) checkParameters(req.parameters, 'request parameters');
  if (!Array.isArray(req.inputs) || req.inputs.length === 0) throw new MillwrightError('BAD_INPUT', '"inputs" must be a non-empty array of tensors {name, shape, datatype, data}');
  let outputs: string[] | undefined;
  if (req.outputs !== undefined) {
    if (!Array.isArray(req.outputs)) throw new MillwrightError('BAD_INPUT', '"outputs" must be an array of {"name": ...}');
    outputs = req.outputs.map((o, i) => {
      const name = (o as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') throw new MillwrightError('BAD_INPUT', `outputs[${i}] must be an object with a string "name"`);
      if ((o as { parameters?: unknown }).parameters !== undefined) checkParameters((o as { parameters?: unknown }).parameters, `output "${name}" parameters`);
      return name;
    });
  }
  return {
    ...(req.id !== undefined ? { id: req.id as string } : {}),
    inputs: req.inputs,
    outputs,
    binaryInputs: takeBinaryInputs(req.inputs, binary),
    binaryOutput: binaryOutputChoice(req.parameters, req.outputs),
  };
}

/**
 * Input tensors -> a feature table (see {@link parseInferRequest}).
 *
 * @example
 * import { tensorsToTable } from 'millwright/serve';
 * tensorsToTable([{ name: 'm', datatype: 'FP64', shape: [1, 2], data: [[1, 2]] }], [{ name: 'a', type: 'number' }, { name: 'b', type: 'number' }]).rows; // 1
 */
export function tensorsToTable(inputs: unknown[], features: FeatureSpec[], binaryInputs: (Uint8Array | undefined)[] = []): { table: ColumnTable; rows: number } {
  const heads = inputs.map((t, i) => {
    const h = checkTensorHeader(t, i, binaryInputs[i]);
    // Binary data becomes the JSON form's elements: a table takes them through the same checks.
    return h.binary !== undefined ? { ...h, data: binaryToElements(h.binary, h.datatype, `input "${h.name}"`) } : h;
  });
  const names = new Set(features.map((f) => f.name));
  const seen = new Set<string>();
  for (const h of heads) {
    if (seen.has(h.name)) throw new MillwrightError('BAD_INPUT', `input "${h.name}" is given twice`);
    seen.add(h.name);
  }
  const F = features.length;
  const single = heads.length === 1 ? heads[0]! : undefined;
  // One rank-2 tensor is the [N, F] form (unless it is the only feature's own [N, 1] input).
  if (single && single.shape.length === 2 && !(F === 1 && names.has(single.name))) {
    return fromMatrix(single, features);
  }
  const unknown = heads.filter((h) => !names.has(h.name)).map((h) => h.name);
  if (unknown.length > 0) {
    throw new MillwrightError(
      'BAD_INPUT',
      `unknown input${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; the model takes one input per feature (${featureList(features)}) or one [N, ${F}] tensor`,
    );
  }
  const missing = features.filter((f) => !seen.has(f.name)).map((f) => f.name);
  if (missing.length > 0) throw new MillwrightError('BAD_INPUT', `missing input${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}; expected one input per feature: ${featureList(features)}`);
  const byName = new Map(heads.map((h) => [h.name, h]));
  let n = -1;
  const cols: Record<string, unknown> = {};
  for (const f of features) {
    const h = byName.get(f.name)!;
    const where = `input "${h.name}"`;
    if (!(h.shape.length === 1 || (h.shape.length === 2 && h.shape[1] === 1))) {
      throw new MillwrightError('BAD_INPUT', `${where}: shape [${h.shape.join(', ')}] must be [N] or [N, 1] (one value per row)`);
    }
    if (n === -1) n = h.shape[0]!;
    else if (h.shape[0] !== n) throw new MillwrightError('BAD_INPUT', `${where} has ${h.shape[0]} rows but "${features[0]!.name}" has ${n}; every input needs the same number of rows`);
    checkDatatype(h.datatype, f, where);
    const flat = flattenData(h.data, h.shape, h.count, h.datatype, where);
    cols[f.name] = column(flat, f, (i) => `${where} row ${i + 1}`);
  }
  if (n === 0) throw new MillwrightError('BAD_INPUT', 'the inputs have 0 rows; expected at least one');
  return { table: aq.table(cols as Record<string, unknown[]>), rows: n };
}

function fromMatrix(h: ReturnType<typeof checkTensorHeader>, features: FeatureSpec[]): { table: ColumnTable; rows: number } {
  const F = features.length;
  const where = `input "${h.name}"`;
  if (h.shape[1] !== F) throw new MillwrightError('BAD_INPUT', `${where}: shape [${h.shape.join(', ')}] needs ${F} columns, one per feature (${featureList(features)})`);
  const n = h.shape[0]!;
  if (n === 0) throw new MillwrightError('BAD_INPUT', `${where} has 0 rows; expected at least one`);
  for (const f of features) checkDatatype(h.datatype, f, where);
  const flat = flattenData(h.data, h.shape, h.count, h.datatype, where);
  const cols: Record<string, unknown> = {};
  features.forEach((f, j) => {
    const values = new Array<unknown>(n);
    for (let r = 0; r < n; r++) values[r] = flat[r * F + j];
    cols[f.name] = column(values, f, (i) => `${where} row ${i + 1} column ${j + 1} ("${f.name}")`);
  });
  return { table: aq.table(cols as Record<string, unknown[]>), rows: n };
}

/** Numbers take any numeric datatype, booleans BOOL, text BYTES; a BYTES tensor may carry any feature as text. */
function checkDatatype(d: V2Datatype, f: FeatureSpec, where: string): void {
  const ok = d === 'BYTES' || ((f.type === 'number' || f.type === 'integer') && isNumericDatatype(d)) || (f.type === 'boolean' && d === 'BOOL');
  if (!ok) {
    const want = f.type === 'string' ? 'BYTES' : f.type === 'boolean' ? 'BOOL' : 'a numeric datatype (INT8..INT64, UINT8..UINT64, FP16, FP32, FP64)';
    throw new MillwrightError('BAD_INPUT', `${where}: datatype ${d} does not fit feature "${f.name}" (${f.type}); expected ${want}`);
  }
}

function column(values: unknown[], f: FeatureSpec, at: (i: number) => string): unknown[] | Float64Array {
  const numeric = f.type === 'number' || f.type === 'integer';
  const out = numeric ? new Float64Array(values.length) : new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = coerceFeatureValue(values[i], f, 'reject');
    if (v instanceof CoercionProblem) throw new MillwrightError('BAD_INPUT', `${at(i)}: feature "${f.name}" ${v.text}`);
    (out as unknown[])[i] = v;
  }
  return out;
}

function featureList(features: FeatureSpec[]): string {
  const all = features.map((f) => f.name);
  return all.length > 12 ? `${all.slice(0, 12).join(', ')}, … (${all.length} in all)` : all.join(', ');
}

/**
 * Predictions -> output tensors: one value per row becomes `predict` (FP64 or BYTES, `[N]`); a
 * classifier's probabilities `predict_proba` (`[N, classes]`); record predictions one output per key.
 *
 * @example
 * import { predictionsToOutputs } from 'millwright/serve';
 * predictionsToOutputs([1.5, 2], { name: 'm', algorithm: 'a', task: 'regression', features: [] });
 * // [{ name: 'predict', datatype: 'FP64', shape: [2], data: [1.5, 2] }]
 */
export function predictionsToOutputs(predictions: Prediction[], info: V2ModelInfo): V2Tensor[] {
  const n = predictions.length;
  const classes = info.target?.classes;
  const first = predictions[0];
  if (first !== null && typeof first === 'object') {
    const rec = first as Record<string, unknown>;
    if (classes && 'label' in rec && classes.every((c) => c in rec)) {
      const proba = new Array<number>(n * classes.length);
      predictions.forEach((p, r) => classes.forEach((c, k) => (proba[r * classes.length + k] = Number((p as Record<string, unknown>)[c]))));
      return [
        { name: PREDICT_OUTPUT, datatype: 'BYTES', shape: [n], data: predictions.map((p) => String((p as Record<string, unknown>).label)) },
        { name: PROBA_OUTPUT, datatype: 'FP64', shape: [n, classes.length], data: proba, parameters: { classes: JSON.stringify(classes) } },
      ];
    }
    return Object.keys(rec).map((key) => {
      const data = predictions.map((p) => (p as Record<string, unknown>)[key] ?? null);
      const text = data.some((v) => typeof v === 'string');
      return { name: key, datatype: text ? 'BYTES' : 'FP64', shape: [n], data: text ? data.map((v) => (v === null ? '' : String(v))) : data.map((v) => (typeof v === 'number' && Number.isFinite(v) ? v : null)) };
    });
  }
  const text = predictions.some((p) => typeof p === 'string');
  return [
    {
      name: PREDICT_OUTPUT,
      datatype: text ? 'BYTES' : 'FP64',
      shape: [n],
      data: text ? predictions.map((p) => String(p)) : predictions.map((p) => (typeof p === 'number' && Number.isFinite(p) ? p : null)),
    },
  ];
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** One V2 inference request as the HTTP layer hands it over. */
export interface V2InferRequest {
  body: Uint8Array | string;
  contentType?: string;
  /** The `Inference-Header-Content-Length` header (binary tensor extension): the JSON part's length. */
  headerLength?: string;
  /** The model name and version the URL resolved to (echoed in the response). */
  modelName: string;
  modelVersion: string;
  /**
   * Tensor models: run at most this many examples (the HTTP thread's copy, serve/inline-limit.ts);
   * a larger request rejects with InlineLimitExceeded instead of being answered.
   */
  maxExamples?: number;
}

/** A V2 answer: with binary outputs, `body` is the JSON part and `binary` the bytes after it; `inferenceId` is the request's `id`. */
export interface V2InferResult extends InvocationResult {
  binary?: Uint8Array;
  inferenceId?: string;
}

/** One response output before it is written: JSON `data`, or a model tensor that may go out in binary. */
interface OutputTensor {
  name: string;
  datatype: V2Tensor['datatype'];
  shape: number[];
  parameters?: V2Tensor['parameters'];
  data?: unknown[];
  tensor?: TensorValue;
}

/**
 * The `$inference_response`: outputs asked for in binary go after the JSON part (one buffer, the
 * JSON part's length in `Inference-Header-Content-Length`), the others as JSON `data`.
 */
function inferResponse(req: V2InferRequest, id: string | undefined, outputs: OutputTensor[], binaryOutput: (name: string) => boolean, rows: number): V2InferResult {
  const parts: Uint8Array[] = [];
  const list = outputs.map((o) => {
    const head = { name: o.name, datatype: o.datatype, shape: o.shape };
    if (binaryOutput(o.name)) {
      const bytes = encodeBinaryTensor(o.datatype, o.tensor ? (o.tensor.type === 'bool' ? Uint8Array.from(o.tensor.data as Uint8Array, (v) => (v ? 1 : 0)) : o.tensor.data) : o.data!);
      parts.push(bytes);
      return { ...head, parameters: { ...o.parameters, binary_data_size: bytes.byteLength } };
    }
    return { ...head, ...(o.parameters ? { parameters: o.parameters } : {}), data: o.data ?? tensorElements(o.tensor!) };
  });
  const body = JSON.stringify({ model_name: req.modelName, model_version: req.modelVersion, ...(id !== undefined ? { id } : {}), outputs: list });
  const idField = id !== undefined ? { inferenceId: id } : {};
  if (parts.length === 0) return { status: 200, headers: { 'content-type': 'application/json' }, body, rows, ...idField };
  // One fresh buffer: the worker transfers it to the HTTP thread instead of copying.
  const binary = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    binary.set(p, at);
    at += p.byteLength;
  }
  return { status: 200, headers: { 'content-type': BINARY_CONTENT_TYPE, [HEADER_LENGTH]: String(Buffer.byteLength(body)) }, body, binary, rows, ...idField };
}

/** The request's JSON part (bytes) and binary part (binary tensor extension), after the media type checks. */
function requestParts(req: V2InferRequest): { json: Uint8Array; binary: Uint8Array | undefined } {
  const type = baseMediaType(req.contentType);
  const binaryBody = req.headerLength !== undefined;
  if (type !== '' && type !== 'application/json' && !(binaryBody && type === BINARY_CONTENT_TYPE)) {
    throw new MillwrightError(
      'UNSUPPORTED_MEDIA_TYPE',
      `Content-Type "${type}" is not supported for V2 inference; send application/json${binaryBody ? ` or ${BINARY_CONTENT_TYPE}` : ' (or binary tensors with the Inference-Header-Content-Length header)'}`,
    );
  }
  return splitBinaryBody(typeof req.body === 'string' ? Buffer.from(req.body) : req.body, req.headerLength);
}

/** The JSON part as text (strict UTF-8). */
function jsonText(json: Uint8Array, binaryBody: boolean): string {
  try {
    return decoder.decode(json);
  } catch {
    throw new MillwrightError('BAD_INPUT', `${binaryBody ? 'the JSON header (Inference-Header-Content-Length bytes)' : 'request body'} is not valid UTF-8; expected a JSON inference request`);
  }
}

/**
 * The V2 scoring function: request in, response out. Never throws: failures become
 * `{"error": "..."}` with the status of their code. Takes JSON requests and the binary tensor
 * extension (`headerLength` set: the JSON part, then the binary inputs).
 *
 * @example
 * import { inferV2 } from 'millwright/serve';
 * const res = await inferV2(model, { body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP64', data: [1, 2] }] }), modelName: 'press', modelVersion: '1' });
 * // => { status: 200, body: '{"model_name":"press","model_version":"1","outputs":[{"name":"predict",...}]}' }
 */
export async function inferV2(model: LoadedModel, req: V2InferRequest): Promise<V2InferResult> {
  try {
    const { json, binary } = requestParts(req);
    const m = model.manifest;
    if (model.tensors && model.predictTensors) return await answerTensors(model, json, binary, req);
    const text = jsonText(json, req.headerLength !== undefined);
    const parsed = parseInferRequest(text, m.features, binary);
    const known = outputMetadata(m).map((o) => o.name);
    const wantsProba = m.task === 'classification' && (parsed.outputs === undefined || parsed.outputs.includes(PROBA_OUTPUT));
    const predictions = await model.predict(parsed.table, wantsProba ? { output: 'probabilities' } : {});
    if (!Array.isArray(predictions) || predictions.length !== parsed.rows) {
      throw new MillwrightError('INTERNAL', `model returned ${Array.isArray(predictions) ? predictions.length : 'no'} predictions for ${parsed.rows} rows`);
    }
    let outputs = predictionsToOutputs(predictions, m);
    if (parsed.outputs !== undefined) {
      const have = new Map(outputs.map((o) => [o.name, o]));
      const unknown = parsed.outputs.filter((o) => !have.has(o));
      if (unknown.length > 0) throw new MillwrightError('BAD_INPUT', `unknown output${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; this model produces ${[...new Set([...known, ...have.keys()])].join(', ')}`);
      outputs = parsed.outputs.map((o) => have.get(o)!);
    }
    return inferResponse(req, parsed.id, outputs, parsed.binaryOutput, parsed.rows);
  } catch (err) {
    // not an answer: the caller (the pool's HTTP-thread copy) sends the request to the workers
    if (err instanceof InlineLimitExceeded) throw err;
    const res: InvocationResult = v2ErrorResponse(err);
    if (res.status >= 500) res.internal = err instanceof Error ? (err.stack ?? err.message) : String(err);
    return res;
  }
}

/** V2 inference of a tensor model: the request's tensors as the model's inputs, outputs with their real shapes. */
async function answerTensors(model: LoadedModel, json: Uint8Array, binary: Uint8Array | undefined, req: V2InferRequest): Promise<V2InferResult> {
  // JSON requests first try the byte scan of numeric data (numeric-data-scan.ts); it gives the same tensors
  const env = (req.headerLength === undefined ? scanRequestEnvelope(json) : undefined) ?? parseRequestEnvelope(jsonText(json, req.headerLength !== undefined), binary);
  const heads = env.inputs.map((t, i) => checkTensorHeader(t, i, env.binaryInputs[i]));
  const { outputs, rows } = await inferTensors(model, heads, env.outputs, req.maxExamples);
  return inferResponse(req, env.id, outputs, env.binaryOutput, rows);
}
