import { MillwrightError } from '../lib/errors/index.ts';
import type { LoadedModel } from '../lib/model/contract.ts';
import { errorResponse, type HttpResult } from './errors.ts';
import { formatNumbers, formatPredictions, outputFormat, OUTPUT_CONTENT_TYPE, type OutputFormat } from '../lib/wire/format-output.ts';
import { parseNumericCsv } from '../lib/wire/numeric-csv.ts';
import { numericJsonRows } from '../lib/wire/numeric-json.ts';
import { inputFormat, parseInput } from '../lib/wire/parse-input.ts';
import { explainModel, rowAttribution } from '../lib/algorithms/explain.ts';
import { tensorInvocations } from './tensors.ts';

/** One `POST /invocations` request as the HTTP layer hands it over. */
export interface InvocationRequest {
  /** Raw body bytes (or already decoded text). */
  body: Uint8Array | string;
  /** Content-Type header value. */
  contentType?: string;
  /** Accept header value (default: JSON). */
  accept?: string;
  /** Also answer attributions (`?explain=true`): JSON only. */
  explain?: boolean;
}

/** Limits checked by `invocations` itself (the HTTP layer enforces the deadline). */
export interface InvocationLimits {
  /** Largest body in bytes (default 6 MiB, SageMaker's real-time payload limit). */
  maxBodyBytes?: number;
}

/** The response plus what the server logs: row count, and the hidden cause of a 500. */
export interface InvocationResult extends HttpResult {
  rows?: number;
  internal?: string;
  /** Answered on the HTTP thread by the pool's inline copy of the model (serve/inline-model.ts). */
  inline?: boolean;
}

export const DEFAULT_MAX_BODY_BYTES = 6 * 1024 * 1024;

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The scoring function: request in, response out, no I/O (mlflow scoring-server style).
 * Never throws: every failure becomes a JSON `{error_code, message}` response with the status
 * chosen by `errorResponse`.
 *
 * @example
 * const res = await invocations(model, { body: '1.5,2,3\n', contentType: 'text/csv', accept: 'application/json' });
 * // => { status: 200, headers: {'content-type': 'application/json'}, body: '{"predictions":[42.1]}' }
 */
export async function invocations(model: LoadedModel, req: InvocationRequest, limits: InvocationLimits = {}): Promise<InvocationResult> {
  try {
    const max = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const size = typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.byteLength;
    if (size > max) throw new MillwrightError('PAYLOAD_TOO_LARGE', `request body is ${size} bytes; the limit is ${max} bytes`);
    if (model.tensors && model.predictTensors) {
      const out = await tensorInvocations(model, req.body, req.contentType, req.accept);
      return { status: 200, headers: { 'content-type': OUTPUT_CONTENT_TYPE.json }, body: out.body, rows: out.rows };
    }
    const inFormat = inputFormat(req.contentType);
    // No Accept (or */*): answer in the request's format, as SageMaker's built-in algorithms do.
    const outFormat = outputFormat(req.accept, inFormat);
    // Numeric CSV batch: body bytes -> Float64Array -> model -> text, no table and no per-cell
    // strings. It accepts only ASCII, so the UTF-8 check below cannot disagree with it.
    const fast = inFormat === 'csv' && model.predictMatrix && req.explain !== true ? parseNumericCsv(req.body, model.manifest.features) : undefined;
    if (fast && model.predictMatrix) {
      const out = await model.predictMatrix(fast.X, fast.rows);
      const body = out instanceof Float64Array ? formatNumbers(out, outFormat) : formatPredictions(out, outFormat);
      return { status: 200, headers: { 'content-type': OUTPUT_CONTENT_TYPE[outFormat] }, body, rows: fast.rows };
    }
    let text: string;
    try {
      text = typeof req.body === 'string' ? req.body : decoder.decode(req.body);
    } catch {
      throw new MillwrightError('BAD_INPUT', 'request body is not valid UTF-8 text; expected CSV or JSON');
    }
    // Numeric JSON rows: parsed once, then straight to the matrix as CSV does (no table); any
    // other JSON (and any bad one) goes through parseInput below for its usual answer or error.
    if (inFormat === 'json' && model.predictMatrix && req.explain !== true) {
      const answer = await numericJsonInvocation(model, text, outFormat);
      if (answer) return answer;
    }
    const { table, rows } = parseInput(text, inFormat, model.manifest.features);
    const predictions = await model.predict(table);
    if (!Array.isArray(predictions) || predictions.length !== rows) {
      throw new MillwrightError('INTERNAL', `model returned ${Array.isArray(predictions) ? predictions.length : 'no'} predictions for ${rows} rows`);
    }
    if (req.explain === true) {
      if (outFormat !== 'json') throw new MillwrightError('USAGE', `explain=true answers application/json only; the request accepts ${req.accept}`);
      const ex = await explainModel(model, table);
      const explanations = Array.from({ length: rows }, (_, r) => rowAttribution(ex, r));
      const base = Object.fromEntries(ex.outputs.map((o, k) => [o, ex.baseValue[k]!]));
      const body = JSON.stringify({ predictions: JSON.parse(formatPredictions(predictions, 'json')).predictions, explanations, base_value: base });
      return { status: 200, headers: { 'content-type': OUTPUT_CONTENT_TYPE.json }, body, rows };
    }
    return { status: 200, headers: { 'content-type': OUTPUT_CONTENT_TYPE[outFormat] }, body: formatPredictions(predictions, outFormat), rows };
  } catch (err) {
    const res: InvocationResult = errorResponse(err);
    // The client gets a generic 500; the operator needs the real reason in the log.
    if (res.status >= 500) res.internal = err instanceof Error ? (err.stack ?? err.message) : String(err);
    return res;
  }
}

/** The numeric JSON fast path: an answer, or undefined when the body is not plain numeric rows (the general path then answers). */
async function numericJsonInvocation(model: LoadedModel, text: string, outFormat: OutputFormat): Promise<InvocationResult | undefined> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const batch = numericJsonRows(doc, model.manifest.features);
  if (!batch || !model.predictMatrix) return undefined;
  const out = await model.predictMatrix(batch.X, batch.rows);
  const body = out instanceof Float64Array ? formatNumbers(out, outFormat) : formatPredictions(out, outFormat);
  return { status: 200, headers: { 'content-type': OUTPUT_CONTENT_TYPE[outFormat] }, body, rows: batch.rows };
}
