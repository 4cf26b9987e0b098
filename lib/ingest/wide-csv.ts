import { MillwrightError } from '../errors/index.ts';
import { BatchBuilder, decodeBatch, type EncodedBatch, type ParsedBatch } from './batch-builder.ts';
import { DEFAULT_BATCH_ROWS, splitQuoted, type ReadOptions } from './csv.ts';
import { lineChunks, MAX_LINE_BYTES } from './line-chunks.ts';
import { LocalTimeZone } from './local-time.ts';
import { NameChecker } from './names.ts';
import { parseDecimal } from './number.ts';
import { rawLine } from './reject.ts';
import { parseTimestamp } from './timestamp.ts';
import { checkStrict, planWideColumns, type LeftOut, type WidePlan } from './wide-columns.ts';

/** Data rows looked at to tell a text column from a numeric one. */
const SAMPLE_ROWS = 1000;

/** 1 / 0 for `true` / `false` (any case) in s[start, end), else NaN. */
export function parseBoolean(s: string, start: number, end: number): number {
  const n = end - start;
  if (n === 4) {
    const t = s.slice(start, end).toLowerCase();
    return t === 'true' ? 1 : NaN;
  }
  if (n === 5) return s.slice(start, end).toLowerCase() === 'false' ? 0 : NaN;
  return NaN;
}

function pickDelimiter(header: string, given: string | undefined): string {
  if (given !== undefined) {
    if (given.length !== 1 || given === '"' || given === '\n' || given === '\r') {
      throw new MillwrightError('USAGE', `--delimiter must be one character other than a quote or a newline, got ${JSON.stringify(given)}`);
    }
    return given;
  }
  if (header.includes(',')) return ',';
  if (header.includes(';')) return ';';
  if (header.includes('\t')) return '\t';
  return ',';
}

/**
 * The wide CSV row parser: one row per time, one column per signal. Like the long-form parser it
 * splits fields in place (indexOf on the delimiter, no per-field substring) and reuses one set of
 * offset arrays; each numeric cell becomes one reading with its column's signal id.
 */
class WideCsvParser {
  readonly builder: BatchBuilder;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly nCols: number;
  private sigCols: Int32Array;
  private sigIds: Int32Array;
  private readonly local: LocalTimeZone | undefined;
  private readonly site: number;
  private readonly fixedAsset: number;
  private readonly assetChecker = new NameChecker('asset');
  private prevAsset = '';
  private prevAssetId = -1;
  private classified = false;
  line = 1;
  private rawText = '';
  private rawS = 0;
  private rawE = 0;

  constructor(
    readonly plan: WidePlan,
    readonly delimiter: string,
    private readonly opts: ReadOptions,
  ) {
    this.nCols = plan.names.length;
    this.starts = new Int32Array(this.nCols);
    this.ends = new Int32Array(this.nCols);
    const nSig = Math.max(1, plan.signals.length);
    const rows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
    // Whole rows per batch, so a full batch is handed over without a copy.
    this.builder = new BatchBuilder(Math.max(nSig, Math.floor(rows / nSig) * nSig));
    const site = opts.site;
    if (site === undefined) throw new MillwrightError('BAD_INPUT', `${opts.source}: a wide input has no site column: pass --site NAME`);
    const sp = new NameChecker('site').problem(site);
    if (sp) throw new MillwrightError('BAD_INPUT', `--site: ${sp}`);
    this.site = this.builder.dict.id(site);
    this.fixedAsset = opts.wide?.asset !== undefined ? this.builder.dict.id(opts.wide.asset) : -1;
    this.local = opts.timezone === undefined ? undefined : new LocalTimeZone(opts.timezone, opts.ambiguous);
    this.sigCols = Int32Array.from(plan.signals);
    this.sigIds = Int32Array.from(plan.signals, (c) => this.builder.dict.id(plan.names[c]));
  }

  private reject(reason: string, column: string): void {
    this.opts.onReject({ source: this.opts.source, line: this.line, column, reason, raw: rawLine(this.rawText, this.rawS, this.rawE) });
  }

  /**
   * Leaves out the columns none of whose non-empty cells in the first rows is a number or a
   * boolean, reports the columns once, and refuses the file under `strict`.
   */
  classify(text: string, pos: number): void {
    if (this.classified) return;
    this.classified = true;
    const { plan } = this;
    const numeric = new Uint8Array(this.nCols);
    const example = new Map<number, string>();
    let rows = 0;
    while (pos < text.length && rows < SAMPLE_ROWS) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = text.length;
      let le = nl;
      if (le > pos && text.charCodeAt(le - 1) === 13) le--;
      const line = text.slice(pos, le);
      pos = nl + 1;
      if (line === '') continue;
      rows++;
      const fields = line.includes('"') ? splitQuoted(line, this.delimiter) : line.split(this.delimiter);
      if (!Array.isArray(fields)) continue;
      for (const c of plan.signals) {
        const v = fields[c];
        if (v === undefined || v === '') continue;
        if (parseDecimal(v) === parseDecimal(v) || parseBoolean(v, 0, v.length) === parseBoolean(v, 0, v.length)) numeric[c] = 1;
        else if (!example.has(c)) example.set(c, v);
      }
    }
    const leftOut: LeftOut[] = [...plan.leftOut];
    const keep: number[] = [];
    for (const c of plan.signals) {
      const ex = example.get(c);
      if (!numeric[c] && ex !== undefined) {
        leftOut.push({ column: plan.names[c], reason: `text column: none of its values in the first ${rows} rows is a number or a boolean (e.g. ${JSON.stringify(ex.slice(0, 40))})` });
      } else keep.push(c);
    }
    checkStrict(this.opts.source, leftOut, this.opts.wide?.strict);
    this.sigCols = Int32Array.from(keep);
    this.sigIds = Int32Array.from(keep, (c) => this.builder.dict.id(plan.names[c]));
    this.opts.onColumns?.({ timestamp: plan.names[plan.ts], signals: keep.map((c) => plan.names[c]), leftOut });
  }

  /** True when the next row might not fit in the batch. */
  get full(): boolean {
    return this.builder.capacity - this.builder.length < Math.max(1, this.sigCols.length);
  }

  /** Parses rows from `pos` until the text ends or the batch fills; returns the position reached. */
  parse(text: string, pos: number): number {
    const n = text.length;
    const nCols = this.nCols;
    const starts = this.starts;
    const ends = this.ends;
    const delim = this.delimiter;
    let nextQuote = text.indexOf('"', pos);
    while (pos < n && !this.full) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = n;
      const ls = pos;
      let le = nl;
      pos = nl + 1;
      this.line++;
      if (le > ls && text.charCodeAt(le - 1) === 13) le--;
      if (le === ls) continue;
      this.rawText = text;
      this.rawS = ls;
      this.rawE = le;
      if (le - ls > MAX_LINE_BYTES) {
        this.reject(`line longer than ${MAX_LINE_BYTES} bytes`, '');
        continue;
      }
      if (nextQuote >= 0 && nextQuote < ls) nextQuote = text.indexOf('"', ls);
      if (nextQuote >= 0 && nextQuote < le) {
        this.quotedRow(text, ls, le);
        continue;
      }
      let s = ls;
      let k = 0;
      for (; k < nCols; k++) {
        const c = k === nCols - 1 ? -1 : text.indexOf(delim, s);
        starts[k] = s;
        if (c < 0 || c > le) {
          ends[k] = le;
          k++;
          break;
        }
        ends[k] = c;
        s = c + 1;
      }
      const extra = k === nCols ? text.indexOf(delim, starts[nCols - 1]) : -1;
      if (k < nCols || (extra >= 0 && extra < le)) {
        this.fieldCountReject(text, ls, le);
        continue;
      }
      this.row(text);
    }
    return pos > n ? n : pos;
  }

  private fieldCountReject(text: string, ls: number, le: number): void {
    let count = 1;
    for (let c = text.indexOf(this.delimiter, ls); c >= 0 && c < le; c = text.indexOf(this.delimiter, c + 1)) count++;
    this.reject(`row has ${count} fields, the header has ${this.nCols}`, '');
  }

  private quotedRow(text: string, ls: number, le: number): void {
    const fields = splitQuoted(text.slice(ls, le), this.delimiter);
    if (!Array.isArray(fields)) {
      this.reject(fields.error, '');
      return;
    }
    if (fields.length !== this.nCols) {
      this.reject(`row has ${fields.length} fields, the header has ${this.nCols}`, '');
      return;
    }
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

  private assetOf(text: string, s: number, e: number, column: string): number {
    if (this.prevAsset.length === e - s && text.startsWith(this.prevAsset, s) && this.prevAssetId >= 0) return this.prevAssetId;
    const v = text.slice(s, e);
    const p = this.assetChecker.problem(v);
    if (p) {
      this.reject(s === e ? 'empty asset cell' : p, column);
      return -1;
    }
    this.prevAsset = v;
    this.prevAssetId = this.builder.dict.id(v);
    return this.prevAssetId;
  }

  /** One row: its time, its asset, then one reading per numeric cell (a bad cell is one reject). */
  private row(text: string): void {
    const { plan, starts, ends } = this;
    const tc = plan.ts;
    if (this.local) this.local.problem = '';
    const ts = parseTimestamp(text, starts[tc], ends[tc], this.local);
    if (ts !== ts) {
      const cell = text.slice(starts[tc], ends[tc]);
      let reason: string;
      if (cell === '') reason = 'empty timestamp cell';
      else if (this.local?.problem) reason = this.local.problem;
      else
        reason = `unparseable timestamp ${JSON.stringify(cell)} (expected ISO-8601 such as 2024-03-01 12:00:00${this.local ? ' (read in ' + this.local.zone + ' when it has no zone)' : '+01:00 with a zone, or pass --timezone ZONE for local times'}, or epoch milliseconds)`;
      this.reject(reason, plan.names[tc]);
      return;
    }
    let asset = this.fixedAsset;
    if (plan.asset >= 0) {
      asset = this.assetOf(text, starts[plan.asset], ends[plan.asset], plan.names[plan.asset]);
      if (asset < 0) return;
    }
    const cols = this.sigCols;
    const ids = this.sigIds;
    const b = this.builder;
    for (let k = 0; k < cols.length; k++) {
      const c = cols[k];
      const s = starts[c];
      const e = ends[c];
      let v = parseDecimal(text, s, e);
      if (v !== v) {
        v = parseBoolean(text, s, e);
        if (v !== v) {
          this.reject(s === e ? 'empty cell' : `value ${JSON.stringify(text.slice(s, e))} is not a finite number or a boolean (expected e.g. 41.5, -1.2e-3, true, false)`, plan.names[c]);
          continue;
        }
      }
      b.push(this.line, ts, this.site, asset, ids[k], v, 0);
    }
  }
}

/**
 * Streams readings out of a wide CSV: a header naming a time column and one column per signal
 * (an index or comment column can be skipped, the asset fixed or taken from a column). Each
 * numeric or boolean cell is one reading; an empty or unparseable cell is one reject naming its
 * line and column. Times without a zone are read in `opts.timezone`.
 *
 * @example
 * import { readWideCsv } from 'millwright';
 * for await (const { batch } of readWideCsv(createReadStream('export.csv'), {
 *   source: 'export.csv', site: 'plant-1', timezone: 'Europe/Berlin', wide: { asset: 'compressor-1' }, onReject: console.warn,
 * })) console.log(batch.ts.length);
 */
export async function* readWideCsv(stream: AsyncIterable<Buffer | Uint8Array | string>, opts: ReadOptions): AsyncGenerator<ParsedBatch> {
  for await (const { batch, dict } of readWideCsvEncoded(stream, opts)) yield decodeBatch(batch, dict);
}

/** {@link readWideCsv} with names as dictionary ids. */
export async function* readWideCsvEncoded(
  stream: AsyncIterable<Buffer | Uint8Array | string>,
  opts: ReadOptions,
): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  let parser: WideCsvParser | undefined;
  let headerLine = 0;
  for await (const run of lineChunks(stream)) {
    opts.onBytes?.(run.bytesRead);
    if (run.kind === 'long') {
      if (!parser) throw new MillwrightError('BAD_INPUT', `${opts.source}: the header line is longer than ${MAX_LINE_BYTES} bytes`);
      parser.line++;
      opts.onReject({ source: opts.source, line: parser.line, reason: `line longer than ${MAX_LINE_BYTES} bytes`, raw: `${run.head}…` });
      continue;
    }
    const text = run.text;
    let pos = 0;
    if (!parser) {
      while (pos < text.length) {
        let nl = text.indexOf('\n', pos);
        if (nl < 0) nl = text.length;
        let le = nl;
        if (le > pos && text.charCodeAt(le - 1) === 13) le--;
        headerLine++;
        const line = text.slice(pos, le);
        pos = nl + 1;
        if (line.trim() === '') continue;
        const delimiter = pickDelimiter(line, opts.wide?.delimiter);
        const fields = splitQuoted(line, delimiter);
        if (!Array.isArray(fields)) throw new MillwrightError('BAD_INPUT', `${opts.source}: header line: ${fields.error}`);
        parser = new WideCsvParser(planWideColumns(fields, opts.source, opts.wide ?? {}), delimiter, opts);
        parser.line = headerLine;
        break;
      }
      if (!parser) continue;
    }
    if (pos < text.length) parser.classify(text, pos);
    while (pos < text.length) {
      pos = parser.parse(text, pos);
      if (parser.full) {
        const b = parser.builder.takeEncoded(opts.source);
        if (b) yield { batch: b, dict: parser.builder.dict.values };
      }
    }
  }
  if (!parser) {
    throw new MillwrightError('BAD_INPUT', `${opts.source}: no header line (the input is empty); expected a header naming a time column and one column per signal, e.g. "timestamp,pressure,flow"`);
  }
  parser.classify('', 0);
  const last = parser.builder.takeEncoded(opts.source);
  if (last) yield { batch: last, dict: parser.builder.dict.values };
}
