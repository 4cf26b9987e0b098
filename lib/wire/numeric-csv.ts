/**
 * The fast path for numeric CSV batches: straight from the body bytes to a row-major Float64Array,
 * no string per cell, no table. It takes only the plain case — ASCII, no quotes, decimal numbers
 * (optionally signed, with a fraction and an exponent) separated by commas, an optional header
 * row naming the features — and gives up (returns undefined) on anything else, so the general
 * parser (`parseInput`) handles that input and produces exactly its usual values and errors.
 */
import type { FeatureSpec } from '../model/contract.ts';
import { parseCsv } from './csv.ts';
import { isHeaderRow } from './parse-input.ts';

/** A numeric CSV batch: `rows` rows of the features in schema order (`r * features + f`). */
export interface NumericBatch {
  X: Float64Array;
  rows: number;
}

const COMMA = 44;
const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const ZERO = 48;
const QUOTE = 34;

// 10^0 .. 10^22 are exact doubles: m * 10^k and m / 10^k with m < 2^53 are then correctly
// rounded, i.e. the same double Number() gives (Clinger's fast path).
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** Where the cursor is and the last number read; one object per parse, reused for every cell. */
interface Cursor {
  /** The body as bytes (checked ASCII). */
  text: Uint8Array;
  i: number;
  /** Where reading stops (the text's length, or the end of one record inside a larger buffer). */
  end: number;
  value: number;
}

/**
 * Reads one cell at `c.i` (spaces and tabs around it allowed) into `c.value` and leaves `c.i`
 * on the byte after it (a comma, a line end or the end). Returns false when the cell is not a
 * plain finite decimal number. Kept whole (one pass over the characters, no helper calls) because
 * it runs once per cell: 200,000 times for a 10,000-row batch of 20 features.
 */
function readNumber(c: Cursor): boolean {
  const s = c.text;
  const n = c.end;
  let i = c.i;
  let ch = i < n ? s[i]! : -1;
  while (ch === SPACE || ch === TAB) ch = ++i < n ? s[i]! : -1;
  const start = i;
  let neg = false;
  if (ch === MINUS || ch === PLUS) {
    neg = ch === MINUS;
    ch = ++i < n ? s[i]! : -1;
  }
  let m = 0;
  let digits = 0; // significant digits in m (leading zeros not counted)
  let any = false;
  let scale = 0; // decimal exponent adjustment from the fraction
  while (ch >= ZERO && ch <= ZERO + 9) {
    any = true;
    if (m !== 0 || ch !== ZERO) {
      m = m * 10 + (ch - ZERO);
      digits++;
    }
    ch = ++i < n ? s[i]! : -1;
  }
  if (ch === DOT) {
    ch = ++i < n ? s[i]! : -1;
    while (ch >= ZERO && ch <= ZERO + 9) {
      any = true;
      if (m !== 0 || ch !== ZERO) {
        m = m * 10 + (ch - ZERO);
        digits++;
      }
      scale--;
      ch = ++i < n ? s[i]! : -1;
    }
  }
  if (!any) return false;
  if (ch === 101 || ch === 69) {
    // e / E
    ch = ++i < n ? s[i]! : -1;
    let eneg = false;
    if (ch === MINUS || ch === PLUS) {
      eneg = ch === MINUS;
      ch = ++i < n ? s[i]! : -1;
    }
    let e = 0;
    let edigits = 0;
    while (ch >= ZERO && ch <= ZERO + 9) {
      if (e < 100_000) e = e * 10 + (ch - ZERO);
      edigits++;
      ch = ++i < n ? s[i]! : -1;
    }
    if (edigits === 0) return false;
    scale += eneg ? -e : e;
  }
  const end = i;
  while (ch === SPACE || ch === TAB) ch = ++i < n ? s[i]! : -1;
  if (ch !== COMMA && ch !== NL && ch !== CR && ch !== -1) return false;
  let v: number;
  if (m === 0) v = 0;
  else if (digits <= 15 && scale >= -22 && scale <= 22) v = scale < 0 ? m / POW10[-scale]! : m * POW10[scale]!;
  else {
    // long mantissas (e.g. 17-digit doubles printed by JS) or big exponents: let Number() round
    v = Number(latin1(s, neg || s[start] === PLUS ? start + 1 : start, end));
    if (!Number.isFinite(v)) return false;
  }
  c.value = neg ? -v : v;
  c.i = i;
  return true;
}

/** Skips the rest of a cell the model does not use (header case); false on a quote. */
function skipCell(c: Cursor): void {
  const s = c.text;
  const n = s.length;
  let i = c.i;
  while (i < n) {
    const ch = s[i]!;
    if (ch === COMMA || ch === NL || ch === CR) break;
    i++;
  }
  c.i = i;
}

/**
 * At a line end (or the end): steps past it and returns true. A CR is accepted only as part of
 * CRLF or at the very end, which is all the general parser strips.
 */
function endLine(c: Cursor): boolean {
  const s = c.text;
  const n = s.length;
  if (c.i >= n) return true;
  let ch = s[c.i]!;
  if (ch === CR) {
    c.i++;
    if (c.i >= n) return true;
    ch = s[c.i]!;
  }
  if (ch !== NL) return false;
  c.i++;
  return true;
}

/** Skips lines holding only spaces and tabs (the general parser skips them too). */
function skipBlankLines(c: Cursor): void {
  const s = c.text;
  const n = s.length;
  for (;;) {
    let i = c.i;
    let ch = i < n ? s[i]! : -1;
    while (ch === SPACE || ch === TAB) ch = ++i < n ? s[i]! : -1;
    if (ch === CR && i + 1 < n && s[i + 1] === NL) {
      i++;
      ch = NL;
    }
    if (ch !== NL) return;
    c.i = i + 1;
  }
}

/**
 * Parses a CSV body of numeric features into a row-major float64 matrix, or returns undefined
 * when the body is not the plain case (then `parseInput` must handle it: it gives the same
 * values for anything this accepts, and the errors for what it does not). The row loop stays in
 * this function: it is the per-row hot path of a batch request.
 *
 * @example
 * import { parseNumericCsv } from 'millwright';
 * parseNumericCsv('1,2\n3.5,4e1\n', [{ name: 'a', type: 'number' }, { name: 'b', type: 'number' }]);
 * // => { X: Float64Array [1, 2, 3.5, 40], rows: 2 }
 */
export function parseNumericCsv(body: string | Uint8Array, features: readonly FeatureSpec[]): NumericBatch | undefined {
  const F = features.length;
  if (F === 0 || !features.every((f) => f.type === 'number' || f.type === 'integer')) return undefined;
  const text = typeof body === 'string' ? asciiBytes(body) : body;
  if (text === undefined) return undefined;
  const n = text.length;
  const c: Cursor = { text, i: 0, end: n, value: 0 };
  skipBlankLines(c);
  if (c.i >= n) return undefined;
  // No header (the first record is numbers): every byte must then be part of a number, a
  // separator or a line end, so the rows are read in one pass with no scan for quotes first.
  // headerlessRows reads the first record with numericRecordAt's grammar, so when it succeeds
  // the probe would have said yes: the probe runs only when it fails (a header, or a bad body),
  // and a single-row body is parsed once, not twice.
  const batch = headerlessRows(text, c.i, F);
  if (batch !== undefined || numericRecordAt(text, c.i, F)) {
    if (batch === undefined || (features.some((f) => f.type === 'integer') && !wholeIntegers(batch.X, batch.rows, features))) return undefined;
    return batch;
  }
  let lines = 1;
  for (let i = 0; i < n; i++) {
    const ch = text[i]!;
    if (ch === NL) lines++;
    else if (ch === QUOTE || ch > 127) return undefined;
  }
  // header row? (a first record that is not all numbers must be one, or it is an error for parseInput)
  const headerMap = headerColumns(c, features);
  if (headerMap === null) return undefined;
  const width = headerMap ? headerMap.length : F;
  const X = new Float64Array(lines * F);
  const integer = features.some((f) => f.type === 'integer');
  let rows = 0;
  for (;;) {
    skipBlankLines(c);
    if (c.i >= n) break;
    const o = rows * F;
    for (let k = 0; k < width; k++) {
      if (k > 0) {
        if (text[c.i] !== COMMA) return undefined;
        c.i++;
      }
      const f = headerMap ? headerMap[k]! : k;
      if (f < 0) {
        skipCell(c);
        continue;
      }
      if (!readNumber(c)) return undefined;
      X[o + f] = c.value;
    }
    if (!endLine(c)) return undefined;
    rows++;
  }
  if (rows === 0 || (integer && !wholeIntegers(X, rows, features))) return undefined;
  return { X: X.subarray(0, rows * F), rows };
}

/** True when the record at `i` starts with `F` comma-separated plain numbers (not a header row). */
function numericRecordAt(text: Uint8Array, i: number, F: number): boolean {
  const probe: Cursor = { text, i, end: text.length, value: 0 };
  for (let k = 0; k < F; k++) {
    if (k > 0) {
      if (text[probe.i] !== COMMA) return false;
      probe.i++;
    }
    if (!readNumber(probe)) return false;
  }
  return true;
}

const TWO_53 = 2 ** 53;

/**
 * The rows of a headerless body from `start` (at a record, blank lines before it skipped), or
 * undefined where `parseNumericCsv`'s rules decline it. The same grammar, line rules and values
 * as `readNumber` + `endLine` + `skipBlankLines` (keep them in step), in one loop with the cursor
 * in locals: this is the per-cell hot path of a batch (200,000 cells for 10,000 rows of 20), and
 * the cursor object, a call per cell and the significant-digit count cost about half its time.
 * A mantissa below 2^53 is exact, so `m / 10^k` (k <= 22, also exact) is one correctly rounded
 * operation: the double `Number()` gives (tested on random and edge inputs against it); longer
 * mantissas and larger exponents go to `Number()` itself.
 */
function headerlessRows(s: Uint8Array, start: number, F: number): NumericBatch | undefined {
  const n = s.length;
  // Rows estimated from the first record's length, grown by doubling: no counting pass over the body.
  let firstEnd = s.indexOf(NL, start);
  if (firstEnd === -1) firstEnd = n;
  const estimate = Math.ceil((n - start) / (firstEnd - start + 1));
  let cap = estimate + (estimate >> 3) + 2; // a small slack: a single-row body allocates 3 rows, not more
  let X = new Float64Array(cap * F);
  let rows = 0;
  let i = start;
  for (;;) {
    // blank lines: spaces and tabs, then LF or CRLF (skipBlankLines)
    for (;;) {
      let j = i;
      let ch = j < n ? s[j]! : -1;
      while (ch === SPACE || ch === TAB) ch = ++j < n ? s[j]! : -1;
      if (ch === CR && j + 1 < n && s[j + 1] === NL) {
        j++;
        ch = NL;
      }
      if (ch !== NL) break;
      i = j + 1;
    }
    if (i >= n) break;
    if (rows === cap) {
      cap *= 2;
      const grown = new Float64Array(cap * F);
      grown.set(X);
      X = grown;
    }
    const o = rows * F;
    let ch = s[i]!;
    for (let k = 0; k < F; k++) {
      if (k > 0) {
        if (ch !== COMMA) return undefined;
        ch = ++i < n ? s[i]! : -1;
      }
      while (ch === SPACE || ch === TAB) ch = ++i < n ? s[i]! : -1;
      const first = i;
      let neg = false;
      if (ch === MINUS || ch === PLUS) {
        neg = ch === MINUS;
        ch = ++i < n ? s[i]! : -1;
      }
      const digits0 = i;
      let m = 0;
      while (ch >= ZERO && ch <= ZERO + 9) {
        m = m * 10 + (ch - ZERO);
        ch = ++i < n ? s[i]! : -1;
      }
      let any = i > digits0;
      let scale = 0;
      if (ch === DOT) {
        ch = ++i < n ? s[i]! : -1;
        const f0 = i;
        while (ch >= ZERO && ch <= ZERO + 9) {
          m = m * 10 + (ch - ZERO);
          ch = ++i < n ? s[i]! : -1;
        }
        scale = f0 - i;
        any = any || i > f0;
      }
      if (!any) return undefined;
      if (ch === 101 || ch === 69) {
        // e / E
        ch = ++i < n ? s[i]! : -1;
        let eneg = false;
        if (ch === MINUS || ch === PLUS) {
          eneg = ch === MINUS;
          ch = ++i < n ? s[i]! : -1;
        }
        let e = 0;
        const e0 = i;
        while (ch >= ZERO && ch <= ZERO + 9) {
          if (e < 100_000) e = e * 10 + (ch - ZERO);
          ch = ++i < n ? s[i]! : -1;
        }
        if (i === e0) return undefined;
        scale += eneg ? -e : e;
      }
      const last = i;
      while (ch === SPACE || ch === TAB) ch = ++i < n ? s[i]! : -1;
      if (ch !== COMMA && ch !== NL && ch !== CR && ch !== -1) return undefined;
      let v: number;
      if (m < TWO_53 && scale >= -22 && scale <= 22) v = scale < 0 ? m / POW10[-scale]! : m * POW10[scale]!;
      else {
        v = m === 0 ? 0 : Number(latin1(s, s[first] === MINUS || s[first] === PLUS ? first + 1 : first, last));
        if (!Number.isFinite(v)) return undefined;
      }
      X[o + k] = neg ? -v : v;
    }
    // the line end (endLine): LF, CRLF, or a CR / nothing at the very end
    if (ch === CR) ch = ++i < n ? s[i]! : -1;
    if (ch === NL) i++;
    else if (ch !== -1) return undefined;
    rows++;
  }
  if (rows === 0) return undefined;
  return { X: X.subarray(0, rows * F), rows };
}

/** `s[from, to)` as a string (ASCII here). */
function latin1(s: Uint8Array, from: number, to: number): string {
  return Buffer.from(s.buffer, s.byteOffset + from, to - from).toString('latin1');
}

const recordCursor: Cursor = { text: new Uint8Array(0), i: 0, end: 0, value: 0 };

/**
 * Reads `bytes` as one CSV record of exactly `out.length` plain decimal numbers (spaces and tabs
 * around cells allowed, nothing else: no line break, no quote) into `out`; false otherwise
 * (`out` then holds partial values). When it returns true, `parseNumericCsv` of the same body
 * gives one row with the same values (integer features are the caller's check). For readers of
 * many one-row bodies (the capture): no allocation per call. `start`/`end` read the record
 * `bytes[start, end)` in place (a body inside a larger buffer, without a view per call).
 *
 * @example
 * import { readNumericRecord } from 'millwright';
 * const out = new Float64Array(2);
 * readNumericRecord(Buffer.from('1.5, 2e3'), out); // => true, out = [1.5, 2000]
 * readNumericRecord(Buffer.from('x=1.5,2;'), out, 2, 7); // => true, out = [1.5, 2]
 */
export function readNumericRecord(bytes: Uint8Array, out: Float64Array, start = 0, end = bytes.length): boolean {
  const F = out.length;
  if (F === 0) return false;
  const c = recordCursor;
  c.text = bytes;
  c.i = start;
  c.end = end;
  for (let k = 0; k < F; k++) {
    if (k > 0) {
      if (bytes[c.i] !== COMMA) return false;
      c.i++;
    }
    if (!readNumber(c)) return false;
    out[k] = c.value;
  }
  return c.i === end;
}

/**
 * {@link readNumericRecord} for a record followed by a byte that ends any number: the capture's
 * one-row CSV input inside its JSON string, where `bytes[end]` is the closing quote. The loops
 * stop at that byte by themselves, so there is no bounds check per character and no call and
 * cursor per cell (a day of capture is 17M cells; this was a quarter of reading it). Same
 * grammar as `readNumber` (keep the two in step): the same values and the same answer as
 * `readNumericRecord(bytes, out, start, end)` whenever `bytes[end]` is a quote; it returns
 * false when it is not.
 *
 * @example
 * import { readQuotedNumericRecord } from 'millwright';
 * const out = new Float64Array(2);
 * readQuotedNumericRecord(Buffer.from('"1.5, 2e3"'), out, 1, 9); // => true, out = [1.5, 2000]
 */
export function readQuotedNumericRecord(s: Uint8Array, out: Float64Array, start: number, end: number): boolean {
  const F = out.length;
  if (F === 0 || !(start >= 0 && start <= end && end < s.length) || s[end] !== QUOTE) return false;
  let i = start;
  for (let k = 0; k < F; k++) {
    if (k > 0) {
      if (s[i] !== COMMA) return false;
      i++;
    }
    // Below, `s[++i]` never passes `end`: every loop stops at the quote there.
    let ch = s[i]!;
    while (ch === SPACE || ch === TAB) ch = s[++i]!;
    const first = i;
    let neg = false;
    if (ch === MINUS || ch === PLUS) {
      neg = ch === MINUS;
      ch = s[++i]!;
    }
    let m = 0;
    let digits = 0;
    let any = false;
    let scale = 0;
    while (ch >= ZERO && ch <= ZERO + 9) {
      any = true;
      if (m !== 0 || ch !== ZERO) {
        m = m * 10 + (ch - ZERO);
        digits++;
      }
      ch = s[++i]!;
    }
    if (ch === DOT) {
      ch = s[++i]!;
      while (ch >= ZERO && ch <= ZERO + 9) {
        any = true;
        if (m !== 0 || ch !== ZERO) {
          m = m * 10 + (ch - ZERO);
          digits++;
        }
        scale--;
        ch = s[++i]!;
      }
    }
    if (!any) return false;
    if (ch === 101 || ch === 69) {
      ch = s[++i]!;
      let eneg = false;
      if (ch === MINUS || ch === PLUS) {
        eneg = ch === MINUS;
        ch = s[++i]!;
      }
      let e = 0;
      let edigits = 0;
      while (ch >= ZERO && ch <= ZERO + 9) {
        if (e < 100_000) e = e * 10 + (ch - ZERO);
        edigits++;
        ch = s[++i]!;
      }
      if (edigits === 0) return false;
      scale += eneg ? -e : e;
    }
    const last = i;
    while (ch === SPACE || ch === TAB) ch = s[++i]!;
    // readNumber also ends a cell at a line break, after which readNumericRecord declines the record.
    if (ch !== COMMA && i !== end) return false;
    let v: number;
    if (m === 0) v = 0;
    else if (digits <= 15 && scale >= -22 && scale <= 22) v = scale < 0 ? m / POW10[-scale]! : m * POW10[scale]!;
    else {
      v = Number(latin1(s, neg || s[first] === PLUS ? first + 1 : first, last));
      if (!Number.isFinite(v)) return false;
    }
    out[k] = neg ? -v : v;
  }
  return i === end;
}

/** True when every integer feature holds whole numbers (else parseInput names the bad cell). */
function wholeIntegers(X: Float64Array, rows: number, features: readonly FeatureSpec[]): boolean {
  const F = features.length;
  for (let f = 0; f < F; f++) {
    if (features[f]!.type !== 'integer') continue;
    for (let r = 0; r < rows; r++) if (!Number.isInteger(X[r * F + f]!)) return false;
  }
  return true;
}

/** The text as bytes, or undefined when it has a non-ASCII character (left to the general parser). */
function asciiBytes(text: string): Uint8Array | undefined {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 127) return undefined;
  return Buffer.from(text, 'latin1');
}

/**
 * If the record at the cursor is a header row naming every feature, consumes it and returns,
 * per cell, the feature index it holds (-1: not a feature, or a repeated name). Returns
 * undefined (cursor unchanged) when the record is data, null when neither path can take it.
 */
function headerColumns(c: Cursor, features: readonly FeatureSpec[]): number[] | undefined | null {
  const text = c.text;
  let end = text.indexOf(NL, c.i);
  if (end === -1) end = text.length;
  const probe: Cursor = { text, i: c.i, end: text.length, value: 0 };
  let numeric = true;
  for (let k = 0; numeric && k < features.length; k++) {
    if (k > 0) {
      if (text[probe.i] !== COMMA) numeric = false;
      else probe.i++;
    }
    if (numeric && !readNumber(probe)) numeric = false;
  }
  if (numeric) return undefined;
  const record = parseCsv(Buffer.from(text.buffer, text.byteOffset + c.i, end - c.i).toString('latin1'))[0];
  if (!record || !isHeaderRow(record.cells, features as FeatureSpec[])) return null;
  const cells = record.cells;
  if (features.some((f) => !cells.includes(f.name))) return null;
  const map = cells.map(() => -1);
  features.forEach((f, i) => (map[cells.indexOf(f.name)] = i));
  c.i = Math.min(text.length, end + 1);
  return map;
}
