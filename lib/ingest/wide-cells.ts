import { MillwrightError } from '../errors/index.ts';
import { BatchBuilder } from './batch-builder.ts';
import { DEFAULT_BATCH_ROWS, type ReadOptions } from './csv.ts';
import { LocalTimeZone } from './local-time.ts';
import { NameChecker } from './names.ts';
import { parseDecimal } from './number.ts';
import { parseTimestamp } from './timestamp.ts';
import { checkStrict, type LeftOut, type WidePlan } from './wide-columns.ts';

/**
 * The per-cell rules every wide text input (wide CSV, wide NDJSON) follows, kept in one place so
 * the formats cannot drift apart: what a signal cell may hold, how a time cell is read and why it
 * is refused, how a text column is told from a numeric one, and the batch target (site, asset,
 * time zone) the readings go into.
 */

/** Data rows (lines) looked at to tell a text column from a numeric one. */
export const SAMPLE_ROWS = 1000;

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

/** The reading of a signal cell s[start, end): a finite decimal, or 1 / 0 for true / false; NaN otherwise. */
export function cellValue(s: string, start = 0, end = s.length): number {
  const v = parseDecimal(s, start, end);
  return v === v ? v : parseBoolean(s, start, end);
}

/** Why a signal cell holding `text` is a reject (its {@link cellValue} is NaN). */
export function badCellReason(text: string): string {
  return text === '' ? 'empty cell' : `value ${JSON.stringify(text)} is not a finite number or a boolean (expected e.g. 41.5, -1.2e-3, true, false)`;
}

/** Why a time cell holding `text` could not be read (after {@link WideTarget.timestamp} gave NaN). */
export function badTimestampReason(text: string, local: LocalTimeZone | undefined): string {
  if (text === '') return 'empty timestamp cell';
  if (local?.problem) return local.problem;
  return `unparseable timestamp ${JSON.stringify(text)} (expected ISO-8601 such as 2024-03-01 12:00:00${local ? ' (read in ' + local.zone + ' when it has no zone)' : '+01:00 with a zone, or pass --timezone ZONE for local times'}, or epoch milliseconds)`;
}

/**
 * Tells text columns from signal columns over the first rows: a column none of whose non-empty
 * values is a number or a boolean, but that has some, is text; so is (for JSON) one that only
 * ever holds objects or arrays.
 */
export class ColumnSampler {
  private readonly numeric = new Set<number>();
  private readonly example = new Map<number, string>();
  private readonly nested = new Map<number, string>();
  rows = 0;

  /** Notes one non-empty text value of column `c`. */
  text(c: number, v: string): void {
    if (this.numeric.has(c)) return;
    if (cellValue(v) === cellValue(v)) this.numeric.add(c);
    else if (!this.example.has(c)) this.example.set(c, v);
  }

  /** Notes a value that is a number or a boolean as such (JSON). */
  number(c: number): void {
    this.numeric.add(c);
  }

  /** Notes an object or an array (JSON). */
  nestedValue(c: number, v: string): void {
    if (!this.nested.has(c)) this.nested.set(c, v);
  }

  /** Why column `c` is left out, or undefined when it stays a signal. */
  reason(c: number, what: 'column' | 'field', unit: 'rows' | 'lines'): string | undefined {
    if (this.numeric.has(c)) return undefined;
    const ex = this.example.get(c);
    if (ex !== undefined) return `text ${what}: none of its values in the first ${this.rows} ${unit} is a number or a boolean (e.g. ${JSON.stringify(ex.slice(0, 40))})`;
    const n = this.nested.get(c);
    if (n !== undefined) return `nested ${what}: its values in the first ${this.rows} ${unit} are objects or arrays (e.g. ${n.slice(0, 40)}); only flat numbers and booleans become signals`;
    return undefined;
  }

  /**
   * Splits the plan's candidate signals into kept and left out, refuses under `strict`, reports
   * the columns; returns the kept column indexes.
   */
  decide(plan: WidePlan, opts: ReadOptions, what: 'column' | 'field', unit: 'rows' | 'lines'): { keep: number[]; leftOut: LeftOut[] } {
    const leftOut: LeftOut[] = [...plan.leftOut];
    const keep: number[] = [];
    for (const c of plan.signals) {
      const r = this.reason(c, what, unit);
      if (r === undefined) keep.push(c);
      else leftOut.push({ column: plan.names[c], reason: r });
    }
    checkStrict(opts.source, leftOut, opts.wide?.strict);
    opts.onColumns?.({ timestamp: plan.names[plan.ts], signals: keep.map((c) => plan.names[c]), leftOut });
    return { keep, leftOut };
  }
}

/**
 * Where the readings of a wide text input go: the batch builder, the file's site, its fixed asset
 * or the last asset cell seen, and the zone naive times are read in.
 */
export class WideTarget {
  readonly builder: BatchBuilder;
  readonly site: number;
  readonly fixedAsset: number;
  readonly local: LocalTimeZone | undefined;
  private readonly assetChecker = new NameChecker('asset');
  private prevAsset = '';
  private prevAssetId = -1;

  /** `perRow`: readings one row can hold at most, so a batch is cut at whole rows when it is known. */
  constructor(opts: ReadOptions, perRow: number) {
    const rows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
    const n = Math.max(1, perRow);
    this.builder = new BatchBuilder(Math.max(n, Math.floor(rows / n) * n));
    const site = opts.site;
    if (site === undefined) throw new MillwrightError('BAD_INPUT', `${opts.source}: a wide input has no site column: pass --site NAME`);
    const sp = new NameChecker('site').problem(site);
    if (sp) throw new MillwrightError('BAD_INPUT', `--site: ${sp}`);
    this.site = this.builder.dict.id(site);
    this.fixedAsset = opts.wide?.asset !== undefined ? this.builder.dict.id(opts.wide.asset) : -1;
    this.local = opts.timezone === undefined ? undefined : new LocalTimeZone(opts.timezone, opts.ambiguous);
  }

  /** Epoch ms of the time cell text[s, e), NaN when it cannot be read ({@link badTimestampReason} says why). */
  timestamp(text: string, s: number, e: number): number {
    if (this.local) this.local.problem = '';
    return parseTimestamp(text, s, e, this.local);
  }

  /** Dictionary id of the asset cell text[s, e), or the problem with it. */
  asset(text: string, s: number, e: number): number | string {
    if (this.prevAssetId >= 0 && this.prevAsset.length === e - s && text.startsWith(this.prevAsset, s)) return this.prevAssetId;
    const v = text.slice(s, e);
    const p = this.assetChecker.problem(v);
    if (p) return s === e ? 'empty asset cell' : p;
    this.prevAsset = v;
    this.prevAssetId = this.builder.dict.id(v);
    return this.prevAssetId;
  }
}
