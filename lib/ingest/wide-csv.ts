import { MillwrightError } from '../errors/index.ts';
import type { BatchBuilder } from './batch-builder.ts';
import { decodeBatch, type EncodedBatch, type ParsedBatch } from './batch-builder.ts';
import { splitQuoted, type ReadOptions } from './csv.ts';
import { readHeadered, type HeaderedParser } from './header-lines.ts';
import { MAX_LINE_BYTES } from './line-chunks.ts';
import { rawLine } from './reject.ts';
import { planWideColumns, type WidePlan } from './wide-columns.ts';
import { badCellReason, badTimestampReason, cellValue, ColumnSampler, SAMPLE_ROWS, WideTarget } from './wide-cells.ts';

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
class WideCsvParser implements HeaderedParser {
  readonly builder: BatchBuilder;
  private readonly target: WideTarget;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly nCols: number;
  private sigCols: Int32Array;
  private sigIds: Int32Array;
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
    // Whole rows per batch, so a full batch is handed over without a copy.
    this.target = new WideTarget(opts, plan.signals.length);
    this.builder = this.target.builder;
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
  begin(text: string, pos: number): void {
    if (this.classified) return;
    this.classified = true;
    const { plan } = this;
    const sampler = new ColumnSampler();
    while (pos < text.length && sampler.rows < SAMPLE_ROWS) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = text.length;
      let le = nl;
      if (le > pos && text.charCodeAt(le - 1) === 13) le--;
      const line = text.slice(pos, le);
      pos = nl + 1;
      if (line === '') continue;
      sampler.rows++;
      const fields = line.includes('"') ? splitQuoted(line, this.delimiter) : line.split(this.delimiter);
      if (!Array.isArray(fields)) continue;
      for (const c of plan.signals) {
        const v = fields[c];
        if (v !== undefined && v !== '') sampler.text(c, v);
      }
    }
    const { keep } = sampler.decide(plan, this.opts, 'column', 'rows');
    this.sigCols = Int32Array.from(keep);
    this.sigIds = Int32Array.from(keep, (c) => this.builder.dict.id(plan.names[c]));
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

  /** One row: its time, its asset, then one reading per numeric cell (a bad cell is one reject). */
  private row(text: string): void {
    const { plan, starts, ends, target } = this;
    const tc = plan.ts;
    const ts = target.timestamp(text, starts[tc], ends[tc]);
    if (ts !== ts) {
      this.reject(badTimestampReason(text.slice(starts[tc], ends[tc]), target.local), plan.names[tc]);
      return;
    }
    let asset = target.fixedAsset;
    if (plan.asset >= 0) {
      const a = target.asset(text, starts[plan.asset], ends[plan.asset]);
      if (typeof a === 'string') {
        this.reject(a, plan.names[plan.asset]);
        return;
      }
      asset = a;
    }
    const cols = this.sigCols;
    const ids = this.sigIds;
    const b = this.builder;
    const site = target.site;
    for (let k = 0; k < cols.length; k++) {
      const c = cols[k];
      const s = starts[c];
      const e = ends[c];
      const v = cellValue(text, s, e);
      if (v !== v) {
        this.reject(badCellReason(text.slice(s, e)), plan.names[c]);
        continue;
      }
      b.push(this.line, ts, site, asset, ids[k], v, 0);
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
export function readWideCsvEncoded(
  stream: AsyncIterable<Buffer | Uint8Array | string>,
  opts: ReadOptions,
): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  return readHeadered(
    stream,
    opts,
    (line) => {
      const delimiter = pickDelimiter(line, opts.wide?.delimiter);
      const fields = splitQuoted(line, delimiter);
      if (!Array.isArray(fields)) throw new MillwrightError('BAD_INPUT', `${opts.source}: header line: ${fields.error}`);
      return new WideCsvParser(planWideColumns(fields, opts.source, opts.wide ?? {}), delimiter, opts);
    },
    'no header line (the input is empty); expected a header naming a time column and one column per signal, e.g. "timestamp,pressure,flow"',
  );
}
