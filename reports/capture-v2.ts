/**
 * Captured Open Inference Protocol (KServe V2) exchanges of tabular models, read back as rows:
 * the request's tensors (one input per feature, or one `[N, F]` tensor in feature order) become
 * the feature columns, the response's `predict` output the predictions (a model without one, such
 * as the threshold detector, gives one `prediction_<output>` value per row and output). JSON and
 * binary-extension bodies (stored BASE64, the JSON part's length in the content type's
 * `inference-header-content-length`) both read; the server checked them when it answered, so
 * anything unexpected here is a clear reason on the skipped line, never a guess.
 */
import type { FeatureSpec } from '../lib/model/contract.ts';

/** Bytes per element of the binary extension's fixed-size datatypes (little-endian, row-major). */
const WIDTH: Record<string, number> = { BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8 };
const HEADER_PARAM = /;\s*inference-header-content-length=(\d+)/i;

interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data?: unknown;
  parameters?: { binary_data_size?: number };
}

/** One exchange as rows: `columns` by name (one value per row), `predictions` one per row. */
export interface V2CaptureRows {
  rows: number;
  columns: Map<string, unknown[]>;
  predictions: unknown[];
}

/** The JSON part and binary part of a captured body (a BASE64 capture keeps the bytes exactly). */
function splitBody(data: string, encoding: string, contentType: string): { json: string; binary?: Buffer } {
  const bytes = encoding === 'BASE64' ? Buffer.from(data, 'base64') : Buffer.from(data, 'utf8');
  const m = HEADER_PARAM.exec(contentType);
  if (!m) return { json: bytes.toString('utf8') };
  const n = Number(m[1]);
  if (n > bytes.length) throw new Error(`V2 binary body: inference-header-content-length ${n} is past the body's ${bytes.length} bytes`);
  return { json: bytes.toString('utf8', 0, n), binary: bytes.subarray(n) };
}

function elements(t: V2Tensor, binary: Buffer | undefined, offset: { at: number }): unknown[] {
  const count = t.shape.reduce((a, b) => a * b, 1);
  const size = t.parameters?.binary_data_size;
  if (size === undefined) {
    const flat = Array.isArray(t.data) ? (t.data as unknown[]).flat(Infinity) : [];
    if (flat.length !== count) throw new Error(`V2 tensor "${t.name}": ${flat.length} data element(s) for shape [${t.shape.join(', ')}]`);
    return flat;
  }
  const w = WIDTH[t.datatype];
  if (!binary || w === undefined || size !== count * w || offset.at + size > binary.length) {
    throw new Error(`V2 tensor "${t.name}": binary ${t.datatype} data of ${size} bytes does not fit shape [${t.shape.join(', ')}] (${binary ? binary.length - offset.at : 0} bytes left)`);
  }
  // Copied to an aligned buffer: the binary part starts at any byte offset.
  const raw = Buffer.from(binary.subarray(offset.at, offset.at + size));
  offset.at += size;
  const b = raw.buffer.slice(raw.byteOffset, raw.byteOffset + size);
  switch (t.datatype) {
    case 'BOOL':
      return Array.from(new Uint8Array(b), (v) => v !== 0);
    case 'FP32':
      return Array.from(new Float32Array(b));
    case 'FP64':
      return Array.from(new Float64Array(b));
    case 'INT64':
      return Array.from(new BigInt64Array(b), Number);
    case 'UINT64':
      return Array.from(new BigUint64Array(b), Number);
    default: {
      const Typed = { UINT8: Uint8Array, INT8: Int8Array, UINT16: Uint16Array, INT16: Int16Array, UINT32: Uint32Array, INT32: Int32Array }[t.datatype]!;
      return Array.from(new Typed(b));
    }
  }
}

function tensors(doc: unknown, key: 'inputs' | 'outputs'): V2Tensor[] | undefined {
  if (doc === null || typeof doc !== 'object') return undefined;
  const list = (doc as Record<string, unknown>)[key];
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const ok = list.every((t) => t !== null && typeof t === 'object' && typeof (t as V2Tensor).name === 'string' && typeof (t as V2Tensor).datatype === 'string' && Array.isArray((t as V2Tensor).shape));
  return ok ? (list as V2Tensor[]) : undefined;
}

/** True when a captured JSON request is a V2 inference request (`inputs` of named, typed tensors). */
export function isV2Request(json: string): boolean {
  // Cheap first test: MLflow's `{"inputs": [[...]]}` rows and `instances` bodies never carry "datatype".
  if (!json.includes('"datatype"')) return false;
  try {
    return tensors(JSON.parse(json), 'inputs') !== undefined;
  } catch {
    return false;
  }
}

/**
 * Rows of a capture record when it is a V2 exchange (a binary-extension body, or a JSON body of
 * typed `inputs`), else undefined (the record is read as an `/invocations` one).
 */
export function readV2Capture(
  input: { data: string; encoding: string; observedContentType: string },
  output: { data: string; encoding: string; observedContentType: string },
  features: FeatureSpec[] | undefined,
): V2CaptureRows | undefined {
  const binary = HEADER_PARAM.test(input.observedContentType);
  if (!binary && !(input.observedContentType.toLowerCase().includes('json') && isV2Request(input.encoding === 'BASE64' ? Buffer.from(input.data, 'base64').toString('utf8') : input.data))) return undefined;
  return readV2Exchange(input, output, features);
}

/**
 * Rows of one captured V2 exchange. `features` (the model's) name the columns of a single
 * `[N, F]` tensor; without them only one-input-per-feature requests can be read.
 *
 * @example
 * import { readV2Exchange } from 'millwright/reports';
 * const r = readV2Exchange(
 *   { data: '{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[1,2]}]}', encoding: 'JSON', observedContentType: 'application/json' },
 *   { data: '{"model_name":"m","outputs":[{"name":"predict","shape":[1],"datatype":"FP64","data":[7]}]}', encoding: 'JSON', observedContentType: 'application/json' },
 *   [{ name: 'a', type: 'number' }, { name: 'b', type: 'number' }],
 * );
 * r.predictions; // [7]
 */
export function readV2Exchange(
  input: { data: string; encoding: string; observedContentType: string },
  output: { data: string; encoding: string; observedContentType: string },
  features: FeatureSpec[] | undefined,
): V2CaptureRows {
  const req = splitBody(input.data, input.encoding, input.observedContentType);
  const ins = tensors(JSON.parse(req.json), 'inputs');
  if (!ins) throw new Error('not a V2 inference request (expected "inputs" of {name, shape, datatype} tensors)');
  const inOffset = { at: 0 };
  const columns = new Map<string, unknown[]>();
  let rows = -1;
  const t0 = ins[0]!;
  // One [N, F] tensor not named after a feature holds every feature, in the model's order.
  const single = ins.length === 1 && t0.shape.length === 2 && !(features ?? []).some((f) => f.name === t0.name) && (t0.shape[1]! > 1 || features?.length === 1);
  if (single) {
    const t = t0;
    const F = t.shape[1]!;
    if (!features || features.length !== F) throw new Error(`V2 tensor "${t.name}" [${t.shape.join(', ')}] needs the model's ${F} feature names to name its columns`);
    const flat = elements(t, req.binary, inOffset);
    rows = t.shape[0]!;
    features.forEach((f, k) => columns.set(f.name, Array.from({ length: rows }, (_, r) => flat[r * F + k])));
  } else {
    for (const t of ins) {
      const flat = elements(t, req.binary, inOffset);
      if (rows >= 0 && flat.length !== rows) throw new Error(`V2 input "${t.name}" has ${flat.length} rows, the others ${rows}`);
      rows = flat.length;
      columns.set(t.name, flat);
    }
  }
  const res = splitBody(output.data, output.encoding, output.observedContentType);
  const outs = tensors(JSON.parse(res.json), 'outputs');
  if (!outs) throw new Error('V2 response has no "outputs" tensors');
  const outOffset = { at: 0 };
  const values = new Map(outs.map((t) => [t.name, elements(t, res.binary, outOffset)] as const));
  const predict = values.get('predict');
  let predictions: unknown[];
  if (predict) {
    if (predict.length !== rows) throw new Error(`${rows} input rows but ${predict.length} predictions`);
    predictions = predict;
  } else {
    // Record outputs (one value per row each): prediction_<name>, as for /invocations' records.
    const perRow = [...values].filter(([, v]) => v.length === rows);
    if (perRow.length === 0) throw new Error(`V2 response has no output with one value per input row (${rows})`);
    predictions = Array.from({ length: rows }, (_, r) => Object.fromEntries(perRow.map(([name, v]) => [name, v[r]])));
  }
  return { rows, columns, predictions };
}
