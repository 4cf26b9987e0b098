import { MillwrightError } from '../errors/index.ts';
import { BatchBuilder, decodeBatch, type EncodedBatch, type ParsedBatch } from './batch-builder.ts';
import { readHeadered, type HeaderedParser } from './header-lines.ts';
import { MAX_LINE_BYTES } from './line-chunks.ts';
import { NameChecker } from './names.ts';
import { parseDecimal } from './number.ts';
import { rawLine, type Reject } from './reject.ts';
import { parseTimestamp } from './timestamp.ts';
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
  ) {
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
    if (problem !== undefined) this.reject(problem);
    return id;
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
  return readHeadered(stream, opts, (line) => new CsvRowParser(parseHeader(line, opts.source, opts.site), opts), 'no header line (the input is empty); expected a CSV header such as "ts,site,asset,signal,value"');
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
