import { MillwrightError } from '../lib/errors/index.ts';
import type { LoadedModel, Prediction } from '../lib/model/contract.ts';
import { errorResponse, type HttpResult } from './errors.ts';
import { formatNumbers, formatPredictions, outputFormat, OUTPUT_CONTENT_TYPE, type OutputFormat } from '../lib/wire/format-output.ts';
import { parseNumericCsv } from '../lib/wire/numeric-csv.ts';
import { numericJsonRows } from '../lib/wire/numeric-json.ts';
import { inputFormat, parseInput } from '../lib/wire/parse-input.ts';
import { explainModel, rowAttribution } from '../lib/algorithms/explain.ts';
import { tensorInvocations } from './tensors.ts';
import { InlineLimitExceeded } from './inline-limit.ts';

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
  /**
   * Tensor models: run at most this many examples (the HTTP thread's copy, serve/inline-limit.ts);
   * a larger batch rejects with InlineLimitExceeded instead of being answered (the one exception to "never throws").
   */
  maxExamples?: number;
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
  return invocationsNow(model, req, limits);
}

/**
 * `invocations`, answered synchronously when it can be: numeric CSV and JSON rows on a model whose
 * `predictMatrixNow` answers synchronously (the JS forest) need no promise at all, which is most of
 * a single-row request's cost beyond the prediction on the server's inline path. Everything else
 * (tensors, tables, explanations, an asynchronous engine) is answered through a promise. Same
 * answers, errors and order of checks as `invocations` (it is `invocations`). Never throws.
 *
 * @example
 * const r = invocationsNow(model, { body: '1.5,2,3\n', contentType: 'text/csv' });
 * const res = r instanceof Promise ? await r : r;
 */
export function invocationsNow(model: LoadedModel, req: InvocationRequest, limits: InvocationLimits = {}): InvocationResult | Promise<InvocationResult> {
  try {
    const max = limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    const size = typeof req.body === 'string' ? Buffer.byteLength(req.body) : req.body.byteLength;
    if (size > max) throw new MillwrightError('PAYLOAD_TOO_LARGE', `request body is ${size} bytes; the limit is ${max} bytes`);
    if (model.tensors && model.predictTensors) return tensorInvocation(model, req, limits.maxExamples);
    const inFormat = inputFormatOf(req.contentType);
    // No Accept (or */*): answer in the request's format, as SageMaker's built-in algorithms do.
    const outFormat = outputFormatOf(req.accept, inFormat);
    // Numeric CSV batch: body bytes -> Float64Array -> model -> text, no table and no per-cell
    // strings. It accepts only ASCII, so the UTF-8 check below cannot disagree with it.
    const fast = inFormat === 'csv' && model.predictMatrix && req.explain !== true ? parseNumericCsv(req.body, model.manifest.features) : undefined;
    if (fast && model.predictMatrix) return matrixInvocation(model, fast.X, fast.rows, outFormat);
    let text: string;
    try {
      text = typeof req.body === 'string' ? req.body : decoder.decode(req.body);
    } catch {
      throw new MillwrightError('BAD_INPUT', 'request body is not valid UTF-8 text; expected CSV or JSON');
    }
    // Numeric JSON rows: parsed once, then straight to the matrix as CSV does (no table); any
    // other JSON (and any bad one) goes through parseInput below for its usual answer or error.
    if (inFormat === 'json' && model.predictMatrix && req.explain !== true) {
      const batch = numericJsonBatch(model, text);
      if (batch) return matrixInvocation(model, batch.X, batch.rows, outFormat);
    }
    return tableInvocation(model, req, text, inFormat, outFormat);
  } catch (err) {
    return failed(err);
  }
}

// Content-Type and Accept values repeat (a client sends the same few): their parsed formats are
// remembered by value (the split, lower-casing and regexes were ~1 µs of a single-row request).
// Only successes are kept, and only a few values, so a client cycling through values cannot grow them.
const MEMO_LIMIT = 64;
const inputFormats = new Map<string, ReturnType<typeof inputFormat>>();
const outputFormats: Record<string, Map<string, OutputFormat>> = {};

function inputFormatOf(contentType: string | undefined): ReturnType<typeof inputFormat> {
  if (contentType === undefined) return inputFormat(contentType);
  let f = inputFormats.get(contentType);
  if (f === undefined) {
    f = inputFormat(contentType);
    if (inputFormats.size < MEMO_LIMIT) inputFormats.set(contentType, f);
  }
  return f;
}

function outputFormatOf(accept: string | undefined, fallback: OutputFormat): OutputFormat {
  if (accept === undefined) return outputFormat(accept, fallback);
  const memo = (outputFormats[fallback] ??= new Map());
  let f = memo.get(accept);
  if (f === undefined) {
    f = outputFormat(accept, fallback);
    if (memo.size < MEMO_LIMIT) memo.set(accept, f);
  }
  return f;
}

/** The error answer; the client gets a generic 500, the operator the real reason (`internal`) in the log. */
function failed(err: unknown): InvocationResult {
  const res: InvocationResult = errorResponse(err);
  if (res.status >= 500) res.internal = err instanceof Error ? (err.stack ?? err.message) : String(err);
  return res;
}

async function tensorInvocation(model: LoadedModel, req: InvocationRequest, maxExamples: number | undefined): Promise<InvocationResult> {
  try {
    const out = await tensorInvocations(model, req.body, req.contentType, req.accept, maxExamples);
    return { status: 200, headers: { 'content-type': OUTPUT_CONTENT_TYPE.json }, body: out.body, rows: out.rows };
  } catch (err) {
    if (err instanceof InlineLimitExceeded) throw err;
    return failed(err);
  }
}

/** Rows as a matrix through `predictMatrixNow` (else `predictMatrix`): synchronous when the model's predict is. */
function matrixInvocation(model: LoadedModel, X: Float64Array, rows: number, outFormat: OutputFormat): InvocationResult | Promise<InvocationResult> {
  const out = model.predictMatrixNow ? model.predictMatrixNow(X, rows) : model.predictMatrix!(X, rows);
  if (out instanceof Promise) return out.then((o) => matrixAnswer(o, rows, outFormat), failed);
  return matrixAnswer(out, rows, outFormat);
}

function matrixAnswer(out: Float64Array | Prediction[], rows: number, outFormat: OutputFormat): InvocationResult {
  const body = out instanceof Float64Array ? formatNumbers(out, outFormat) : formatPredictions(out, outFormat);
  return { status: 200, headers: { 'content-type': OUTPUT_CONTENT_TYPE[outFormat] }, body, rows };
}

/** The general path: a table through `predict` (any JSON or CSV shape), with attributions when asked. */
async function tableInvocation(model: LoadedModel, req: InvocationRequest, text: string, inFormat: ReturnType<typeof inputFormat>, outFormat: OutputFormat): Promise<InvocationResult> {
  try {
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
    return failed(err);
  }
}

/** The numeric JSON fast path's rows, or undefined when the body is not plain numeric rows (the general path then answers). */
function numericJsonBatch(model: LoadedModel, text: string): { X: Float64Array; rows: number } | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  return numericJsonRows(doc, model.manifest.features) ?? undefined;
}
