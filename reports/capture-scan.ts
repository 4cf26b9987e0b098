/**
 * Reading the server's most common capture line straight from the file's bytes: a record in the
 * capture writer's own layout (`JSON.stringify(captureRecord(...))`) with a one-row `text/csv`
 * input and the server's numeric `{"predictions":[v]}` answer. No line string, no JSON.parse,
 * no record object: the input's bytes are read as numbers in place (`readNumericRecord`, the cell
 * reader of `parseNumericCsv`), the prediction by `Number`; the ids and the time are the only
 * strings made. It accepts exactly what the
 * string path (`quickCaptureLine` + `parseNumericCsv` + the numeric predictions) accepts with
 * these content types, and declines (returns undefined) anything else: an escape anywhere it
 * reads, a byte outside ASCII, another content type or encoding, a header row, several rows or
 * predictions. The caller then decodes the line and takes the string path, so the values are the
 * same either way.
 */
import type { FeatureSpec } from '../lib/model/contract.ts';
import { readNumericRecord } from '../lib/wire/numeric-csv.ts';

/** The fields of one scanned line. */
export interface ScannedCapture {
  /** The input row (the model's features in order): a buffer reused by the next call, copy it before. */
  x: Float64Array;
  prediction: number;
  /** `Date.parse` of the inference time (NaN when it is not a date). */
  time: number;
  eventId: string;
  /** Absent when the record names none. */
  inferenceId: string | undefined;
}

const bytes = (s: string) => Buffer.from(s, 'latin1');
const HEAD = bytes('{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"');
const MID = bytes('","encoding":"CSV"},"endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"{\\"predictions\\":[');
const META = bytes(']}","encoding":"JSON"}},"eventMetadata":{"eventId":"');
const IID = bytes(',"inferenceId":"');
const TIME = bytes(',"inferenceTime":"');
const TAIL = bytes('"eventVersion":"0"}');
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;

/** The input row of the last line scanned (one buffer: the caller copies it). */
let row = new Float64Array(0);

/** A JSON number, exactly (as the string path's numeric predictions require). */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** `lit` at `buf[i]` (Buffer.compare: about twice a byte loop's speed on these 20-120 byte literals). */
function at(buf: Buffer, i: number, lit: Buffer): boolean {
  return i + lit.length <= buf.length && buf.compare(lit, 0, lit.length, i, i + lit.length) === 0;
}

/** Index of the closing quote of the string starting at `i` (below `end`), or -1 on an escape, a non-ASCII byte or no quote. */
function plainString(buf: Uint8Array, i: number, end: number): number {
  for (; i < end; i++) {
    const ch = buf[i]!;
    if (ch === QUOTE) return i;
    if (ch === BACKSLASH || ch > 127) return -1;
  }
  return -1;
}

/** Where the one prediction starting at `i` ends (the `]` of the metadata that follows it), or -1. */
function predictionEnd(buf: Buffer, i: number, end: number): number {
  while (i < end && buf[i] !== 93 && buf[i] !== QUOTE && buf[i] !== BACKSLASH) i++; // up to ']'
  return at(buf, i, META) ? i : -1;
}

/**
 * The line `buf[start, end)` when it is a one-row numeric CSV record in the writer's layout, or
 * undefined (then decode the line and read it the general way).
 *
 * @example
 * const line = Buffer.from(JSON.stringify(captureRecord({ endpoint: 'm', inputContentType: 'text/csv', input: '1,2',
 *   outputContentType: 'application/json', output: '{"predictions":[3]}' })));
 * scanCaptureLine(line, 0, line.length, [{ name: 'a', type: 'number' }, { name: 'b', type: 'number' }])?.prediction; // 3
 */
export function scanCaptureLine(buf: Buffer, start: number, end: number, features: readonly FeatureSpec[]): ScannedCapture | undefined {
  if (!at(buf, start, HEAD)) return undefined;
  const tail = end - TAIL.length;
  if (tail <= start || !at(buf, tail, TAIL) || buf[tail - 1] !== COMMA) return undefined;
  const d0 = start + HEAD.length;
  const d1 = plainString(buf, d0, tail);
  if (d1 < 0 || !at(buf, d1, MID)) return undefined;
  const F = features.length;
  if (row.length !== F) row = new Float64Array(F);
  if (!readNumericRecord(buf.subarray(d0, d1), row)) return undefined;
  for (let k = 0; k < F; k++) if (features[k]!.type === 'integer' && !Number.isInteger(row[k]!)) return undefined;
  const p0 = d1 + MID.length;
  const p1 = predictionEnd(buf, p0, tail);
  if (p1 < 0) return undefined;
  const p = buf.toString('latin1', p0, p1);
  if (!JSON_NUMBER.test(p)) return undefined;
  const e0 = p1 + META.length;
  const e1 = plainString(buf, e0, tail);
  if (e1 < 0) return undefined;
  let next = e1 + 1;
  let inferenceId: string | undefined;
  if (at(buf, next, IID)) {
    const i0 = next + IID.length;
    const i1 = plainString(buf, i0, tail);
    if (i1 < 0) return undefined;
    inferenceId = buf.toString('latin1', i0, i1);
    next = i1 + 1;
  }
  if (!at(buf, next, TIME)) return undefined;
  const t0 = next + TIME.length;
  const t1 = plainString(buf, t0, tail);
  if (t1 < 0 || buf[t1 + 1] === QUOTE) return undefined;
  return { x: row, prediction: Number(p), time: Date.parse(buf.toString('latin1', t0, t1)), eventId: buf.toString('latin1', e0, e1), inferenceId };
}
