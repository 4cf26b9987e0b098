import { MillwrightError } from '../errors/index.ts';
import { BatchBuilder, decodeBatch, type EncodedBatch, type ParsedBatch } from './batch-builder.ts';
import { readHeadered, type HeaderedParser } from './header-lines.ts';
import { MAX_LINE_BYTES } from './line-chunks.ts';
import { NameChecker } from './names.ts';
import { parseDecimal, POW10 } from './number.ts';
import { rawLine, type Reject } from './reject.ts';
import { daysFromCivil, MAX_TS, MIN_TS, MONTH_DAYS, parseTimestamp } from './timestamp.ts';
import { LocalTimeZone, type AmbiguousPolicy } from './local-time.ts';
import type { ColumnsInfo, WideOptions } from './wide-columns.ts';

/** Columns a readings file may have (`quality` optional, `site` optional with a default site). */
export const KNOWN_COLUMNS = ['ts', 'site', 'asset', 'signal', 'value', 'quality'] as const;
type Column = (typeof KNOWN_COLUMNS)[number];

/** Options shared by the CSV and NDJSON readers. */
export interface ReadOptions {
  /** Name of the input in rejects and errors: a path, or `-` for stdin. */
  source: string;
  /** Rows per batch (default 500,000). */
  batchRows?: number;
  /** Site for rows without one (CSV without a `site` column; NDJSON objects without `site`). */
  site?: string;
  /** Receives every refused row; reading continues. */
  onReject: (reject: Reject) => void;
  /** Receives the input bytes read so far (for progress). */
  onBytes?: (bytes: number) => void;
  /** IANA zone that timestamps without a zone are read in (default: such timestamps are rejected). */
  timezone?: string;
  /** What to do with a local time that a DST change makes ambiguous or nonexistent (default reject). */
  ambiguous?: AmbiguousPolicy;
  /** Column mapping of a wide input (`wide-csv`, `wide-ndjson`, `wide-parquet`). */
  wide?: WideOptions;
  /** Receives, once per wide or Parquet input, which columns became signals and which were left out. */
  onColumns?: (info: ColumnsInfo) => void;
}

/** Default rows per batch: big Parquet files, yet a 10M-reading ingest peaks under 512 MiB RSS (built CLI; bench/ingest.bench.ts). */
export const DEFAULT_BATCH_ROWS = 500_000;

const ROLE = { ts: 0, site: 1, asset: 2, signal: 3, value: 4, quality: 5 } as const;

/** Two ASCII digits of `b` at i, or NaN (also past the end). */
function two(b: Uint8Array, i: number): number {
  const x = b[i]! - 48;
  const y = b[i + 1]! - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : NaN;
}

/** Where the field read by the last {@link decimalBytes} call ended. */
let decimalEnd = 0;

/**
 * parseDecimal's exact fast path over the bytes from `start` to the next delimiter (',', CR, LF)
 * or `limit` (sign, digits, one dot; at most 15 significant and 22 fraction digits), so the same
 * double, with the field's end in `decimalEnd`; NaN for anything else (an exponent, more digits,
 * a quote, junk), which the string path then reads or rejects. Finding the field's end while
 * reading it saves a second pass over its bytes.
 */
function decimalBytes(b: Uint8Array, start: number, limit: number): number {
  let i = start;
  let end = limit;
  if (i >= end) return NaN;
  let c = b[i]!;
  let neg = false;
  if (c === 45 || c === 43) {
    neg = c === 45;
    i++;
  }
  let mant = 0;
  let digits = 0;
  let fracDigits = 0;
  let seenDot = false;
  let sig = 0;
  for (; i < end; i++) {
    c = b[i]!;
    const d = c - 48;
    if (d >= 0 && d <= 9) {
      digits++;
      if (sig > 0 || d !== 0) sig++;
      mant = mant * 10 + d;
      if (seenDot) fracDigits++;
    } else if (c === 46 && !seenDot) seenDot = true;
    else if (isDelimiter(c)) {
      end = i;
      break;
    } else return NaN;
  }
  decimalEnd = end;
  if (digits === 0 || sig > 15 || fracDigits > 22) return NaN;
  const v = fracDigits === 0 ? mant : mant / POW10[fracDigits]!;
  return neg ? -v : v;
}

/**
 * Whether `len` bytes of `a` from 0 equal those of `b` from `bs`, four at a time: a name or an
 * hour compared byte by byte was a third of the byte reader's time (profile of a 10M-row parse),
 * and DataView reads need no alignment.
 */
function sameBytes(a: DataView, b: DataView, bs: number, len: number): boolean {
  let i = 0;
  for (; i + 4 <= len; i += 4) if (a.getInt32(i, true) !== b.getInt32(bs + i, true)) return false;
  for (; i < len; i++) if (a.getUint8(i) !== b.getUint8(bs + i)) return false;
  return true;
}

function isDelimiter(c: number): boolean {
  return c === 44 || c === 10 || c === 13;
}

/** The end of a 24- or 20-byte timestamp at `s` when a delimiter (or the run's end) follows it; else -1. */
function isoEnd(b: Uint8Array, s: number, n: number): number {
  let g = s + 24;
  if (g === n || (g < n && isDelimiter(b[g]!))) return g;
  g = s + 20;
  if (g === n || (g < n && isDelimiter(b[g]!))) return g;
  return -1;
}

/** A quality code of 1-3 digits at most 255 at b[s, e), or -1 (the string path decides). */
function smallIntBytes(b: Uint8Array, s: number, e: number): number {
  if (e - s > 3) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = b[i]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v <= 255 ? v : -1;
}

/**
 * Splits one CSV line with quotes (RFC 4180 within a line: `"a,b"`, `"say ""hi"""`). Returns
 * the fields, or a string explaining why the line is malformed. Quoted fields cannot span lines.
 */
export function splitQuoted(line: string, delimiter = ','): string[] | { error: string } {
  const dc = delimiter.charCodeAt(0);
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (i < n && line.charCodeAt(i) === 34) {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return { error: 'unterminated quoted field (a quoted field must close on the same line)' };
        v += line.slice(i, q);
        if (line.charCodeAt(q + 1) === 34) {
          v += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(v);
      if (i === n) return out;
      if (line.charCodeAt(i) !== dc) return { error: `unexpected character after closing quote at position ${i + 1} (expected ${JSON.stringify(delimiter)} or end of line)` };
      i++;
    } else {
      const c = line.indexOf(delimiter, i);
      const end = c < 0 ? n : c;
      const v = line.slice(i, end);
      if (v.includes('"')) return { error: `stray quote in unquoted field ${JSON.stringify(v)}` };
      out.push(v);
      if (c < 0) return out;
      i = c + 1;
    }
  }
}

/** Maps header names to column roles; throws BAD_INPUT naming the problem and the expected columns. */
export function parseHeader(line: string, source: string, defaultSite: string | undefined): number[] {
  const fields = splitQuoted(line);
  const expected = 'expected a header naming the columns ts, site, asset, signal, value and optionally quality (site may be left out when --site is given)';
  if (!Array.isArray(fields)) throw new MillwrightError('BAD_INPUT', `${source}: header line: ${fields.error}; ${expected}`);
  const roles: number[] = [];
  const seen = new Set<string>();
  for (const f of fields) {
    const name = f.trim().toLowerCase();
    if (!(KNOWN_COLUMNS as readonly string[]).includes(name)) {
      const hint = /^\d|^-?\d|T\d\d:/.test(name) ? ' (the first line looks like data: a header line is required)' : '';
      throw new MillwrightError('BAD_INPUT', `${source}: unknown column ${JSON.stringify(f)} in header${hint}; ${expected}`);
    }
    if (seen.has(name)) throw new MillwrightError('BAD_INPUT', `${source}: column "${name}" appears twice in the header; ${expected}`);
    seen.add(name);
    roles.push(ROLE[name as Column]);
  }
  for (const need of ['ts', 'asset', 'signal', 'value'] as const) {
    if (!seen.has(need)) throw new MillwrightError('BAD_INPUT', `${source}: header has no "${need}" column; ${expected}`);
  }
  if (!seen.has('site') && defaultSite === undefined) {
    throw new MillwrightError('BAD_INPUT', `${source}: header has no "site" column and no default site was given (pass --site NAME)`);
  }
  return roles;
}

/**
 * The CSV row parser: a hand-written scanner over decoded text runs. It keeps the previous
 * value of each name column and reuses it when the next row has the same text (checked in
 * place with `startsWith`), so a run of rows from one series allocates no strings at all.
 */
class CsvRowParser {
  readonly builder: BatchBuilder;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly nCols: number;
  private readonly col: Int32Array; // role -> field index, -1 when absent
  // Last text seen in each name column (site, asset, signal), its id, or its problem.
  private readonly prev = ['', '', ''];
  private readonly prevId = new Int32Array([-1, -1, -1]);
  private readonly prevProblem: (string | undefined)[] = [undefined, undefined, undefined];
  private readonly checkers = [new NameChecker('site'), new NameChecker('site'), new NameChecker('asset'), new NameChecker('signal')];
  private readonly defaultSite: number;
  private readonly local: LocalTimeZone | undefined;
  line = 1;

  get full(): boolean {
    return this.builder.full;
  }

  constructor(
    roles: number[],
    private readonly opts: ReadOptions,
    trackLines = false,
    bytePath = true,
  ) {
    this.parseBytes = bytePath ? (b, pos) => this.parseBytesImpl(b, pos) : undefined;
    this.builder = new BatchBuilder(opts.batchRows ?? DEFAULT_BATCH_ROWS, trackLines);
    this.nCols = roles.length;
    this.starts = new Int32Array(this.nCols);
    this.ends = new Int32Array(this.nCols);
    this.col = new Int32Array(6).fill(-1);
    roles.forEach((role, idx) => (this.col[role] = idx));
    this.defaultSite = -1;
    this.local = opts.timezone === undefined ? undefined : new LocalTimeZone(opts.timezone, opts.ambiguous);
    if (this.col[ROLE.site] < 0) {
      const p = new NameChecker('site').problem(opts.site ?? '');
      if (p) throw new MillwrightError('BAD_INPUT', `--site: ${p}`);
      this.defaultSite = this.builder.dict.id(opts.site ?? '');
    }
  }

  // The raw line of the row being parsed (for rejects).
  private rawText = '';
  private rawS = 0;
  private rawE = 0;

  private reject(reason: string): void {
    this.opts.onReject({ source: this.opts.source, line: this.line, reason, raw: rawLine(this.rawText, this.rawS, this.rawE) });
  }

  /** Dictionary id of the name at [s, e) for role r (1..3 → site/asset/signal); -1 after a reject. */
  private name(r: number, text: string, s: number, e: number): number {
    if (s === e) {
      this.reject(`missing field "${KNOWN_COLUMNS[r]}"`);
      return -1;
    }
    const k = r - 1;
    const prev = this.prev[k];
    if (prev.length === e - s && text.startsWith(prev, s)) {
      const p = this.prevProblem[k];
      if (p !== undefined) {
        this.reject(p);
        return -1;
      }
      return this.prevId[k];
    }
    const v = text.slice(s, e);
    const dict = this.builder.dict;
    let id = dict.get(v);
    let problem: string | undefined;
    if (id === undefined) {
      problem = this.checkers[r].problem(v);
      id = problem === undefined ? dict.id(v) : -1;
    }
    this.prev[k] = v;
    this.prevId[k] = id;
    this.prevProblem[k] = problem;
    this.prevLen[k] = -1; // the byte path's copy of the previous name no longer matches
    if (problem !== undefined) this.reject(problem);
    return id;
  }

  /** The byte-level path (see parseBytesImpl); undefined for the text-only reference reader. */
  readonly parseBytes: ((b: Buffer, pos: number) => number) | undefined;

  // The byte path's state: each name column's previous bytes (valid when prevLen >= 0), and the
  // date and hour of the previous ISO timestamp with its epoch ms.
  private readonly prevBytes = [new Uint8Array(64), new Uint8Array(64), new Uint8Array(64)];
  private readonly prevViews = this.prevBytes.map((a) => new DataView(a.buffer));
  /** The run being parsed, as a DataView for {@link sameBytes}. */
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private readonly prevLen = new Int32Array([-1, -1, -1]);
  private readonly hourKey = new Uint8Array(13);
  private readonly hourView = new DataView(this.hourKey.buffer);
  private hourValid = false;
  private hourBase = 0;

  /**
   * Parses lines of `b` from byte `pos` until it ends or the batch fills. Each line that is a
   * plain row (no quotes; an ISO timestamp with a zone; a decimal of up to 15 digits without
   * exponent; an empty or 0-255 integer quality; names already seen or valid) is read straight
   * from the bytes; any other line is decoded and goes through {@link parse}, which rejects it or
   * reads it, so both paths give the same readings, rejects and dictionary for every line.
   */
  private parseBytesImpl(b: Buffer, pos: number): number {
    const n = b.length;
    const builder = this.builder;
    const nCols = this.nCols;
    const col = this.col;
    const tc = col[ROLE.ts];
    const vc = col[ROLE.value];
    const qc = col[ROLE.quality];
    const sc = col[ROLE.site];
    const ac = col[ROLE.asset];
    const gc = col[ROLE.signal];
    const starts = this.starts;
    const ends = this.ends;
    this.view = new DataView(b.buffer, b.byteOffset, b.length);
    while (pos < n && !builder.full) {
      const next = this.plainRow(b, pos, n, nCols, starts, ends, tc, vc, qc, sc, ac, gc);
      if (next >= 0) {
        pos = next;
        continue;
      }
      // Not a plain row: the string path decides (reject, quoted fields, blank line, ...).
      let nl = b.indexOf(10, pos);
      if (nl < 0) nl = n;
      if (nl === pos) this.line++; // an empty line (parse would see no line at all in '')
      else this.parse(b.toString('utf8', pos, nl), 0);
      pos = nl + 1;
    }
    return pos > n ? n : pos;
  }

  /** One plain row at `ls` read from the bytes and pushed; returns where the next line starts, or -1 to leave the line to the string path. */
  private plainRow(b: Buffer, ls: number, n: number, nCols: number, starts: Int32Array, ends: Int32Array, tc: number, vc: number, qc: number, sc: number, ac: number, gc: number): number {
    // Field bounds, stopping at a quote (the string path's job) or a line end. Two shortcuts skip
    // the byte-by-byte search: a timestamp of 24 or 20 bytes followed by a delimiter (isoBytes
    // refuses every delimiter and quote, so a shorter field fails there and goes to the string
    // path), and a name equal to the previous row's (compared where it would be).
    let p = ls;
    // Bit j set: name column j (0 site, 1 asset, 2 signal) is its previous row's name.
    let same = 0;
    let value = NaN;
    for (let k = 0; k < nCols; k++) {
      const s = p;
      let c = 0;
      let e = -1;
      if (k === tc) e = isoEnd(b, s, n);
      else if (k === vc) {
        value = decimalBytes(b, s, n);
        if (value !== value) return -1;
        e = decimalEnd;
      } else if (k === ac || k === gc || k === sc) {
        const j = k === sc ? 0 : k === ac ? 1 : 2;
        e = this.sameName(j, b, s, n);
        if (e >= 0) same |= 1 << j;
      }
      if (e >= 0) {
        p = e;
        c = p < n ? b[p]! : 0;
      } else {
        while (p < n) {
          c = b[p]!;
          if (c === 44 || c === 10 || c === 13 || c === 34) break;
          p++;
        }
        if (c === 34) return -1;
      }
      starts[k] = s;
      ends[k] = p;
      if (k < nCols - 1) {
        if (p >= n || c !== 44) return -1;
        p++;
      }
    }
    // The line must end here: "\n", "\r\n", or the end of the run ("\r" at the very end, as the string path strips it).
    let next: number;
    if (p >= n) next = n;
    else if (b[p] === 10) next = p + 1;
    else if (b[p] === 13 && (p + 1 >= n || b[p + 1] === 10)) next = p + 2;
    else return -1;
    if (value !== value) return -1; // no value column: the string path says so
    const ts = this.isoBytes(b, starts[tc]!, ends[tc]!);
    if (ts !== ts) return -1;
    let quality = 0;
    if (qc >= 0 && ends[qc]! > starts[qc]!) {
      quality = smallIntBytes(b, starts[qc]!, ends[qc]!);
      if (quality < 0) return -1;
    }
    // Names in the string path's order (site, asset, signal): a new name is interned in the same order there.
    let site = this.defaultSite;
    if (sc >= 0) {
      site = same & 1 ? this.prevId[0]! : this.nameBytes(0, b, starts[sc]!, ends[sc]!);
      if (site < 0) return -1;
    }
    const asset = same & 2 ? this.prevId[1]! : this.nameBytes(1, b, starts[ac]!, ends[ac]!);
    if (asset < 0) return -1;
    const signal = same & 4 ? this.prevId[2]! : this.nameBytes(2, b, starts[gc]!, ends[gc]!);
    if (signal < 0) return -1;
    this.line++;
    if (quality !== 0) this.builder.hasQuality = true;
    this.builder.push(this.line, ts, site, asset, signal, value, quality);
    return next;
  }

  /** Where the name at `s` ends when it is name column k's previous name followed by a delimiter; else -1. */
  private sameName(k: number, b: Buffer, s: number, n: number): number {
    const len = this.prevLen[k]!;
    const g = s + len;
    if (len <= 0 || g > n || (g < n && !isDelimiter(b[g]!))) return -1;
    return sameBytes(this.prevViews[k]!, this.view, s, len) ? g : -1;
  }

  /** The id of the name at b[s, e) in name column k (0 site, 1 asset, 2 signal); -1 when the string path must see it (empty, invalid). */
  private nameBytes(k: number, b: Buffer, s: number, e: number): number {
    const len = e - s;
    if (len === 0) return -1;
    // No compare with the previous name: plainRow calls this only after sameName found the field
    // differs from it (and a repeat would still get its id from the dictionary below).
    const prev = this.prevBytes[k]!;
    const v = b.toString('utf8', s, e);
    const dict = this.builder.dict;
    let id = dict.get(v);
    if (id === undefined) {
      if (this.checkers[k + 1]!.problem(v) !== undefined) return -1;
      id = dict.id(v);
    }
    this.prev[k] = v;
    this.prevId[k] = id;
    this.prevProblem[k] = undefined;
    if (len > prev.length) {
      this.prevBytes[k] = new Uint8Array(Math.max(len, prev.length * 2));
      this.prevViews[k] = new DataView(this.prevBytes[k]!.buffer);
    }
    this.prevBytes[k]!.set(b.subarray(s, e));
    this.prevLen[k] = len;
    return id;
  }

  /**
   * An ISO timestamp with a zone at b[s, e), as parseTimestamp reads it (the same checks, the same
   * arithmetic); NaN for any other form, which the string path then reads or rejects. The date
   * and hour of the previous row are kept: a run of rows in one hour skips them.
   */
  private isoBytes(b: Buffer, s: number, e: number): number {
    if (e - s < 16 || b[s + 4] !== 45) return NaN;
    const key = this.hourKey;
    let base: number;
    let i = 0;
    if (this.hourValid && sameBytes(this.hourView, this.view, s, 13)) base = this.hourBase;
    else {
      const y = two(b, s) * 100 + two(b, s + 2);
      const mo = two(b, s + 5);
      const d = two(b, s + 8);
      if (!(y >= 0) || b[s + 7] !== 45 || !(mo >= 1 && mo <= 12 && d >= 1)) return NaN;
      if (d > MONTH_DAYS[mo]! && !(mo === 2 && d === 29 && (y % 4 === 0 && y % 100 !== 0 || y % 400 === 0))) return NaN;
      const sep = b[s + 10];
      if (sep !== 84 && sep !== 32 && sep !== 116) return NaN;
      const h = two(b, s + 11);
      if (!(h >= 0 && h <= 23)) return NaN;
      base = daysFromCivil(y, mo, d) * 86_400_000 + h * 3_600_000;
      key.set(b.subarray(s, s + 13));
      this.hourValid = true;
      this.hourBase = base;
    }
    if (b[s + 13] !== 58) return NaN;
    const mi = two(b, s + 14);
    if (!(mi >= 0 && mi <= 59)) return NaN;
    i = s + 16;
    let sec = 0;
    let ms = 0;
    if (i < e && b[i] === 58) {
      sec = two(b, i + 1);
      if (!(sec >= 0 && sec <= 59) || i + 3 > e) return NaN;
      i += 3;
      // Only '.': a ',' here ends the field in the string path (and isoEnd's guess must fail on it).
      if (i < e && b[i] === 46) {
        i++;
        const fracStart = i;
        let scale = 100;
        for (; i < e; i++) {
          const dd = b[i]! - 48;
          if (dd < 0 || dd > 9) break;
          ms += dd * scale;
          scale /= 10;
        }
        const nFrac = i - fracStart;
        if (nFrac === 0 || nFrac > 9) return NaN;
        ms = Math.floor(ms + 1e-9);
      }
    }
    if (i >= e) return NaN; // no zone: the string path reads it in --timezone or rejects it
    let offsetMin = 0;
    const z = b[i];
    if (z === 90 || z === 122) i++;
    else if (z === 43 || z === 45) {
      const oh = two(b, i + 1);
      if (!(oh >= 0 && oh <= 23) || i + 3 > e) return NaN;
      i += 3;
      let om = 0;
      if (i < e) {
        if (b[i] === 58) i++;
        om = two(b, i);
        if (!(om >= 0 && om <= 59) || i + 2 > e) return NaN;
        i += 2;
      }
      offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
    } else return NaN;
    if (i !== e) return NaN;
    const t = base + ((mi - offsetMin) * 60 + sec) * 1000 + ms;
    return t >= MIN_TS && t <= MAX_TS ? t : NaN;
  }

  /**
   * Parses lines of `text` from `pos` until the text ends or the batch fills; returns the
   * position reached.
   */
  parse(text: string, pos: number): number {
    const n = text.length;
    const nCols = this.nCols;
    const starts = this.starts;
    const ends = this.ends;
    const builder = this.builder;
    let nextQuote = text.indexOf('"', pos);
    while (pos < n && !builder.full) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = n;
      const ls = pos;
      let le = nl;
      pos = nl + 1;
      this.line++;
      if (le > ls && text.charCodeAt(le - 1) === 13) le--;
      if (le === ls) continue; // blank line
      this.rawText = text;
      this.rawS = ls;
      this.rawE = le;
      if (le - ls > MAX_LINE_BYTES) {
        this.reject(`line longer than ${MAX_LINE_BYTES} bytes`);
        continue;
      }
      if (nextQuote >= 0 && nextQuote < ls) nextQuote = text.indexOf('"', ls);
      if (nextQuote >= 0 && nextQuote < le) {
        this.quotedRow(text, ls, le);
        continue;
      }
      // Fast path: split on commas in place.
      let s = ls;
      let k = 0;
      for (; k < nCols; k++) {
        const c = k === nCols - 1 ? -1 : text.indexOf(',', s);
        if (c < 0 || c > le) {
          starts[k] = s;
          ends[k] = le;
          k++;
          break;
        }
        starts[k] = s;
        ends[k] = c;
        s = c + 1;
      }
      if (k < nCols) {
        this.reject(`missing field: row has ${k} fields, the header has ${nCols}`);
        continue;
      }
      const extra = text.indexOf(',', starts[nCols - 1]);
      if (extra >= 0 && extra < le) {
        let count = nCols;
        for (let c = extra; c >= 0 && c < le; c = text.indexOf(',', c + 1)) count++;
        this.reject(`unknown column: row has ${count} fields, the header has ${nCols}`);
        continue;
      }
      this.row(text);
    }
    return pos > n ? n : pos;
  }

  private quotedRow(text: string, ls: number, le: number): void {
    const fields = splitQuoted(text.slice(ls, le));
    if (!Array.isArray(fields)) {
      this.reject(fields.error);
      return;
    }
    if (fields.length !== this.nCols) {
      const what = fields.length < this.nCols ? 'missing field' : 'unknown column';
      this.reject(`${what}: row has ${fields.length} fields, the header has ${this.nCols}`);
      return;
    }
    // Lay the unquoted fields out in one string and reuse the in-place row parser on it; the
    // raw line for rejects still comes from the original text.
    const joined = fields.join('\u0001');
    let at = 0;
    for (let k = 0; k < this.nCols; k++) {
      this.starts[k] = at;
      at += fields[k].length;
      this.ends[k] = at;
      at++;
    }
    this.row(joined);
  }

  /** Converts the fields at starts/ends into a reading, or rejects the row. */
  private row(text: string): void {
    const col = this.col;
    const starts = this.starts;
    const ends = this.ends;

    const tc = col[ROLE.ts];
    if (this.local) this.local.problem = '';
    const ts = parseTimestamp(text, starts[tc], ends[tc], this.local);
    if (ts !== ts) {
      if (starts[tc] === ends[tc]) this.reject('missing field "ts"');
      else if (this.local?.problem) this.reject(this.local.problem);
      else
        this.reject(
          `unparseable timestamp ${JSON.stringify(text.slice(starts[tc], ends[tc]))} (expected ISO-8601 with a zone, e.g. 2024-03-01T12:00:00Z, or epoch milliseconds >= 1e11, between 1900 and 9999)`,
        );
      return;
    }
    const vc = col[ROLE.value];
    const value = parseDecimal(text, starts[vc], ends[vc]);
    if (value !== value) {
      if (starts[vc] === ends[vc]) this.reject('missing field "value"');
      else this.reject(`value ${JSON.stringify(text.slice(starts[vc], ends[vc]))} is not a finite number (expected a decimal such as 41.5 or -1.2e-3)`);
      return;
    }
    let quality = 0;
    const qc = col[ROLE.quality];
    if (qc >= 0 && ends[qc] > starts[qc]) {
      quality = parseDecimal(text, starts[qc], ends[qc]);
      if (!(quality >= 0 && quality <= 255 && Number.isInteger(quality))) {
        this.reject(`quality ${JSON.stringify(text.slice(starts[qc], ends[qc]))} is not an integer 0-255 (0 = good; leave empty for good)`);
        return;
      }
      if (quality !== 0) this.builder.hasQuality = true;
    }
    let site = this.defaultSite;
    const sc = col[ROLE.site];
    if (sc >= 0) {
      site = this.name(ROLE.site, text, starts[sc], ends[sc]);
      if (site < 0) return;
    }
    const ac = col[ROLE.asset];
    const asset = this.name(ROLE.asset, text, starts[ac], ends[ac]);
    if (asset < 0) return;
    const gc = col[ROLE.signal];
    const signal = this.name(ROLE.signal, text, starts[gc], ends[gc]);
    if (signal < 0) return;
    this.builder.push(this.line, ts, site, asset, signal, value, quality);
  }
}

/**
 * Streams readings out of CSV text: a header line naming the columns (any order, names
 * case-insensitive) and one reading per line. Bad rows go to `opts.onReject` and never stop
 * the stream; a bad header (unknown, duplicate or missing column) throws BAD_INPUT before any
 * row is read. Yields columnar batches of `opts.batchRows` rows (the last one may be shorter).
 *
 * @example
 * for await (const { batch, firstLine, lastLine } of readCsv(createReadStream('r.csv'), { source: 'r.csv', onReject: console.warn })) {
 *   await writeReadings(root, batch);
 * }
 */
export async function* readCsv(stream: AsyncIterable<Buffer | Uint8Array | string>, opts: ReadOptions): AsyncGenerator<ParsedBatch> {
  for await (const { batch, dict } of readCsvEncoded(stream, opts)) yield decodeBatch(batch, dict);
}

/** {@link readCsv} with names as dictionary ids; `dict` is the reader's live dictionary. */
export function readCsvEncoded(
  stream: AsyncIterable<Buffer | Uint8Array | string>,
  opts: ReadOptions,
): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  return readHeadered(stream, opts, (line) => new CsvRowParser(parseHeader(line, opts.source, opts.site), opts), NO_HEADER);
}

const NO_HEADER = 'no header line (the input is empty); expected a CSV header such as "ts,site,asset,signal,value"';

/**
 * {@link readCsvEncoded} without the byte-level path: every line decoded and read as text. The
 * reference the byte path is tested against (test/ingest/csv-bytes.test.ts); not faster.
 */
export function readCsvEncodedText(stream: AsyncIterable<Buffer | Uint8Array | string>, opts: ReadOptions): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  return readHeadered(stream, opts, (line) => new CsvRowParser(parseHeader(line, opts.source, opts.site), opts, false, false), NO_HEADER);
}

/**
 * The row parser of a CSV whose header line is `header`, for reading a slice of the file that
 * starts after it (see csv-split.ts): line numbers count from 0 at the slice's start, and each
 * row keeps its line number so the slices' batches can be joined and cut again.
 */
export function csvSliceParser(header: string, opts: ReadOptions): HeaderedParser {
  const parser = new CsvRowParser(parseHeader(header, opts.source, opts.site), opts, true);
  parser.line = 0;
  return parser;
}
