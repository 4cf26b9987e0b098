/**
 * Reading the server's most common capture line straight from the file's bytes: a record in the
 * capture writer's own layout (`JSON.stringify(captureRecord(...))`) with a one-row `text/csv`
 * input and the server's numeric `{"predictions":[v]}` answer. No line string, no JSON.parse,
 * no record object, no view per line: the input's bytes are read as numbers in place
 * (`readQuotedNumericRecord`: the values and answers of `readNumericRecord`, the cell reader of
 * `parseNumericCsv`, for a record ending at a quote), the prediction and the inference time from
 * their bytes too (`Number` and `Date.parse` only for the forms their fast paths do
 * not cover); the ids are the only strings made, and only by the caller, for records it keeps.
 * It accepts exactly what the string path (`quickCaptureLine` + `parseNumericCsv` + the numeric
 * predictions) accepts with these content types, and declines (returns false) anything else: an
 * escape anywhere it reads, a byte outside ASCII, another content type or encoding, a header
 * row, several rows or predictions. The caller then decodes the line and takes the string path,
 * so the values are the same either way.
 */
import type { FeatureSpec } from '../lib/model/contract.ts';
import { readQuotedNumericRecord } from '../lib/wire/numeric-csv.ts';
import { latin1 } from './capture-ids.ts';

/** The fields of the last line scanned (one object, reused by every call: read it before the next). */
export interface ScannedCapture {
  /** The input row (the model's features in order). */
  x: Float64Array;
  prediction: number;
  /** `Date.parse` of the inference time (NaN when it is not a date). */
  time: number;
  /** The event id is `buf[eventStart, eventEnd)` (plain ASCII, no escape). */
  eventStart: number;
  eventEnd: number;
  /** The inference id is `buf[idStart, idEnd)`; idStart is -1 when the record names none. */
  idStart: number;
  idEnd: number;
}

const bytes = (s: string) => Buffer.from(s, 'latin1');
const HEAD = literal('{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"');
const MID = literal('","encoding":"CSV"},"endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"{\\"predictions\\":[');
const META = literal(']}","encoding":"JSON"}},"eventMetadata":{"eventId":"');
const IID = literal(',"inferenceId":"');
const TIME = literal(',"inferenceTime":"');
const TAIL = literal('"eventVersion":"0"}');
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const ZERO = 48;
const MINUS = 45;
const DOT = 46;

// 10^0 .. 10^22 are exact doubles: m * 10^k and m / 10^k with m < 2^53 are then correctly
// rounded, i.e. the same double Number() gives (Clinger's fast path).
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

const out: ScannedCapture = { x: new Float64Array(0), prediction: 0, time: 0, eventStart: 0, eventEnd: 0, idStart: -1, idEnd: -1 };

/** A layout literal: its bytes, and its first bytes as little-endian 64-bit doubles. */
interface Literal {
  bytes: Uint8Array;
  words: Float64Array;
}

function literal(s: string): Literal {
  const b = bytes(s);
  const words = new Float64Array(b.length >> 3);
  for (let k = 0; k < words.length; k++) {
    words[k] = b.readDoubleLE(8 * k);
    // Doubles compare equal exactly when their bits are equal, except NaN (never equal) and
    // +0 / -0: a literal word must be neither. Printable ASCII gives neither (no NUL bytes, and
    // a NaN needs bytes of 0xf0 and up).
    if (!(words[k] !== 0 && words[k] === words[k])) throw new Error(`capture-scan: literal ${JSON.stringify(s)} has a word that does not compare by its bits`);
  }
  return { bytes: b, words };
}

/**
 * `lit` at `buf[i]`, eight bytes at a time as doubles through a DataView over `buf` (no word of
 * a literal is NaN or zero, so `===` on the doubles is equality of the bytes; about 1.5-2x
 * four-byte words, which were twice a byte loop's speed and faster than Buffer.compare's call on
 * these 16-120 byte literals; it runs six times per line).
 */
function at(buf: Uint8Array, dv: DataView, i: number, lit: Literal): boolean {
  const b = lit.bytes;
  const n = b.length;
  if (i < 0 || i + n > buf.length) return false;
  const w = lit.words;
  for (let k = 0; k < w.length; k++) if (dv.getFloat64(i + 8 * k, true) !== w[k]) return false;
  for (let k = w.length * 8; k < n; k++) if (buf[i + k] !== b[k]) return false;
  return true;
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
function predictionEnd(buf: Uint8Array, dv: DataView, i: number, end: number): number {
  while (i < end && buf[i] !== 93 && buf[i] !== QUOTE && buf[i] !== BACKSLASH) i++; // up to ']'
  return at(buf, dv, i, META) ? i : -1;
}

const isDigit = (ch: number) => ch >= ZERO && ch <= ZERO + 9;

/**
 * `buf[i, end)` as a JSON number, exactly as `JSON.parse` (and `Number`) read it, or NaN when
 * it is not one (the grammar `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`, the whole range).
 * A mantissa below 2^53 (up to 15 digits always, 16 often) with a decimal exponent within +-22
 * is computed from the digits; longer forms (most doubles printed in full) go through `Number`.
 */
export function jsonNumberAt(buf: Buffer, i: number, end: number): number {
  const start = i;
  const neg = buf[i] === MINUS;
  if (neg) i++;
  if (i >= end) return Number.NaN;
  let m = 0;
  let scale = 0;
  let ch = buf[i]!;
  if (ch === ZERO) {
    i++;
  } else if (isDigit(ch)) {
    for (; i < end && isDigit((ch = buf[i]!)); i++) {
      m = m * 10 + (ch - ZERO);
    }
  } else {
    return Number.NaN;
  }
  if (i < end && buf[i] === DOT) {
    i++;
    const f0 = i;
    for (; i < end && isDigit((ch = buf[i]!)); i++) {
      if (m !== 0 || ch !== ZERO) m = m * 10 + (ch - ZERO);
      scale--;
    }
    if (i === f0) return Number.NaN;
  }
  let slow = false;
  if (i < end && (buf[i] === 101 || buf[i] === 69)) {
    i++;
    let eneg = false;
    if (i < end && (buf[i] === MINUS || buf[i] === 43)) eneg = buf[i++] === MINUS;
    const e0 = i;
    let e = 0;
    for (; i < end && isDigit((ch = buf[i]!)); i++) if (e < 100_000) e = e * 10 + (ch - ZERO);
    if (i === e0) return Number.NaN;
    if (i - e0 > 5) slow = true;
    scale += eneg ? -e : e;
  }
  if (i !== end) return Number.NaN;
  let v: number;
  if (m === 0) v = 0;
  // m below 2^53 is exact (it only grew, so every step was), and so is 10^|scale| <= 10^22: one correctly rounded operation.
  else if (!slow && m <= Number.MAX_SAFE_INTEGER && scale >= -22 && scale <= 22) v = scale < 0 ? m / POW10[-scale]! : m * POW10[scale]!;
  else return Number(latin1(buf, start, end));
  return neg ? -v : v;
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The hour (YYYYMMDDHH) of the last time read and its epoch ms. */
let lastHour = -1;
let lastHourMs = 0;

/** Two ASCII digits at `buf[i]` as a number, or -1. */
function two(buf: Uint8Array, i: number): number {
  const a = buf[i]! - ZERO;
  const b = buf[i + 1]! - ZERO;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * `Date.parse` of the time `buf[i, end)`. The writer's form (`toISOString`:
 * `YYYY-MM-DDTHH:MM:SS.sssZ`, every field in its ordinary range) is computed from the digits;
 * anything else (another form, a day past the month's end, hour 24, a leap second) is handed
 * to `Date.parse` itself.
 */
export function isoTimeAt(buf: Buffer, i: number, end: number): number {
  if (end - i === 24 && buf[i + 4] === MINUS && buf[i + 7] === MINUS && buf[i + 10] === 84 && buf[i + 13] === 58 && buf[i + 16] === 58 && buf[i + 19] === DOT && buf[i + 23] === 90) {
    const y1 = two(buf, i);
    const y2 = two(buf, i + 2);
    const mo = two(buf, i + 5);
    const d = two(buf, i + 8);
    const h = two(buf, i + 11);
    const mi = two(buf, i + 14);
    const s = two(buf, i + 17);
    const ms1 = two(buf, i + 20);
    const ms2 = buf[i + 22]! - ZERO;
    const y = y1 * 100 + y2;
    if (y1 >= 0 && y2 >= 0 && y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && d <= (mo === 2 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 28 : DAYS[mo - 1]!) &&
        h >= 0 && h <= 23 && mi >= 0 && mi <= 59 && s >= 0 && s <= 59 && ms1 >= 0 && ms2 >= 0 && ms2 <= 9) {
      // Records of one file share their hour: Date.UTC once per hour, the rest is exact integer arithmetic.
      const hour = ((y * 100 + mo) * 100 + d) * 100 + h;
      if (hour !== lastHour) {
        lastHour = hour;
        lastHourMs = Date.UTC(y, mo - 1, d, h);
      }
      return lastHourMs + mi * 60_000 + s * 1000 + ms1 * 10 + ms2;
    }
  }
  return Date.parse(latin1(buf, i, end));
}

/**
 * Scans the line `buf[start, end)`: true when it is a one-row numeric CSV record in the
 * writer's layout, its fields then in the returned object (reused by the next call); undefined
 * otherwise (then decode the line and read it the general way). `view` is a DataView over
 * `buf` (made per call when not given: a reader of many lines passes one). `integers` says whether
 * any feature is an integer one (looked up per call when not given: a reader passes it, as checking
 * every feature's type on every line was a tenth of the scan).
 *
 * @example
 * const line = Buffer.from(JSON.stringify(captureRecord({ endpoint: 'm', inputContentType: 'text/csv', input: '1,2',
 *   outputContentType: 'application/json', output: '{"predictions":[3]}' })));
 * scanCaptureLine(line, 0, line.length, [{ name: 'a', type: 'number' }, { name: 'b', type: 'number' }])?.prediction; // 3
 */
export function scanCaptureLine(buf: Buffer, start: number, end: number, features: readonly FeatureSpec[], view?: DataView, integers?: boolean): ScannedCapture | undefined {
  const dv = view ?? new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (!at(buf, dv, start, HEAD)) return undefined;
  const tail = end - TAIL.bytes.length;
  if (tail <= start || !at(buf, dv, tail, TAIL) || buf[tail - 1] !== COMMA) return undefined;
  const d0 = start + HEAD.bytes.length;
  // The input ends at the first quote (found natively); no escape or non-ASCII byte can hide
  // before it, since the numeric reader accepts only digits, signs, '.', 'e', commas and blanks.
  const d1 = buf.indexOf(QUOTE, d0);
  if (d1 < 0 || d1 >= tail || !at(buf, dv, d1, MID)) return undefined;
  const F = features.length;
  if (out.x.length !== F) out.x = new Float64Array(F);
  const row = out.x;
  if (!readQuotedNumericRecord(buf, row, d0, d1)) return undefined;
  if (integers ?? features.some((f) => f.type === 'integer')) for (let k = 0; k < F; k++) if (features[k]!.type === 'integer' && !Number.isInteger(row[k]!)) return undefined;
  const p0 = d1 + MID.bytes.length;
  const p1 = predictionEnd(buf, dv, p0, tail);
  if (p1 < 0) return undefined;
  const p = jsonNumberAt(buf, p0, p1);
  if (Number.isNaN(p)) return undefined;
  const e0 = p1 + META.bytes.length;
  const e1 = plainString(buf, e0, tail);
  if (e1 < 0) return undefined;
  let next = e1 + 1;
  let i0 = -1;
  let i1 = -1;
  if (at(buf, dv, next, IID)) {
    i0 = next + IID.bytes.length;
    i1 = plainString(buf, i0, tail);
    if (i1 < 0) return undefined;
    next = i1 + 1;
  }
  if (!at(buf, dv, next, TIME)) return undefined;
  const t0 = next + TIME.bytes.length;
  const t1 = plainString(buf, t0, tail);
  if (t1 < 0 || buf[t1 + 1] === QUOTE) return undefined;
  out.prediction = p;
  out.time = isoTimeAt(buf, t0, t1);
  out.eventStart = e0;
  out.eventEnd = e1;
  out.idStart = i0;
  out.idEnd = i1;
  return out;
}
