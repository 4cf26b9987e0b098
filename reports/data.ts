/**
 * The reports' view of a table: named columns that are either numeric (Float64Array, NaN =
 * missing) or categorical (strings, null = missing). Built once from an arquero ColumnTable or a
 * plain `{ column: values[] }` object; sorted copies of numeric columns (and category counts) are
 * cached per input array so every metric of every report shares one sort per column. Like
 * arquero's verbs, reports treat their inputs as immutable: do not modify an array after
 * reporting on it and expect new results.
 */
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';
import { sortedFinite } from './stats/sort.ts';

export interface NumericColumn {
  kind: 'numeric';
  name: string;
  values: Float64Array;
  /** Every present value is an integer (SageMaker's `Integral`). */
  integral: boolean;
}

export interface CategoricalColumn {
  kind: 'categorical';
  name: string;
  values: (string | null)[];
}

export type Column = NumericColumn | CategoricalColumn;

/** A table as the reports see it. */
export interface Frame {
  names: string[];
  columns: Map<string, Column>;
  rows: number;
}

/** What report functions accept: an arquero table, a Frame, or `{ column: values }` arrays of equal length. */
export type TableInput = ColumnTable | Frame | Record<string, ArrayLike<unknown>>;

function isColumnTable(x: unknown): x is ColumnTable {
  return typeof (x as ColumnTable).columnNames === 'function' && typeof (x as ColumnTable).array === 'function';
}

function isFrame(x: unknown): x is Frame {
  return (x as Frame).columns instanceof Map && Array.isArray((x as Frame).names);
}

/** Turns raw values into a numeric or categorical column (numbers, Dates and bigints are numeric). */
export function toColumn(name: string, raw: ArrayLike<unknown>): Column {
  if (raw instanceof Float64Array || raw instanceof Float32Array || raw instanceof Int32Array || raw instanceof Uint32Array ||
      raw instanceof Int16Array || raw instanceof Uint16Array || raw instanceof Int8Array || raw instanceof Uint8Array) {
    const values = raw instanceof Float64Array ? raw : Float64Array.from(raw as ArrayLike<number>);
    return { kind: 'numeric', name, values, integral: !(raw instanceof Float64Array || raw instanceof Float32Array) || allIntegral(values) };
  }
  let numeric = true;
  let seen = false;
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (v === null || v === undefined) continue;
    if (typeof v === 'number' || typeof v === 'bigint' || v instanceof Date) {
      seen = true;
      continue;
    }
    numeric = false;
    break;
  }
  if (numeric && seen) {
    const values = new Float64Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      values[i] = v === null || v === undefined ? Number.NaN : v instanceof Date ? v.getTime() : Number(v);
    }
    return { kind: 'numeric', name, values, integral: allIntegral(values) };
  }
  if (!seen && numeric) {
    // All missing: numeric with every value NaN keeps it comparable with a numeric reference.
    return { kind: 'numeric', name, values: new Float64Array(raw.length).fill(Number.NaN), integral: false };
  }
  // Arrays of strings/nulls are used as they are (no copy), so per-array caches are shared across reports.
  if (Array.isArray(raw) && (plainCategorical.has(raw) || isPlainCategorical(raw))) {
    plainCategorical.add(raw);
    return { kind: 'categorical', name, values: raw as (string | null)[] };
  }
  const values = new Array<string | null>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    values[i] = v === null || v === undefined || v === '' ? null : String(v);
  }
  return { kind: 'categorical', name, values };
}

/** Arrays already found to hold only non-empty strings and nulls (inputs are treated as immutable). */
const plainCategorical = new WeakSet<unknown[]>();

function isPlainCategorical(raw: unknown[]): boolean {
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    // Holes count as missing, as Array#every skips them.
    if (v !== null && (typeof v !== 'string' || v === '') && (v !== undefined || i in raw)) return false;
  }
  return true;
}

function allIntegral(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v) && !Number.isInteger(v)) return false;
  }
  return true;
}

/**
 * Normalises any accepted table into a Frame.
 *
 * @example
 * const f = toFrame({ temp: [20.5, 21, null], mode: ['run', 'idle', 'run'] });
 * f.columns.get('temp')?.kind; // 'numeric'
 */
export function toFrame(input: TableInput): Frame {
  if (isFrame(input)) return input;
  const names = isColumnTable(input) ? input.columnNames() : Object.keys(input);
  const columns = new Map<string, Column>();
  let rows = -1;
  for (const name of names) {
    const raw = isColumnTable(input) ? (input.array(name) as ArrayLike<unknown>) : (input as Record<string, ArrayLike<unknown>>)[name]!;
    if (raw === null || raw === undefined || typeof raw.length !== 'number') {
      throw new MillwrightError('BAD_INPUT', `column "${name}" is not an array (expected one value per row)`);
    }
    if (rows === -1) rows = raw.length;
    else if (raw.length !== rows) {
      throw new MillwrightError('BAD_INPUT', `column "${name}" has ${raw.length} values but the table has ${rows} rows (expected equal lengths)`);
    }
    columns.set(name, toColumn(name, raw));
  }
  return { names, columns, rows: Math.max(rows, 0) };
}

/** Rows of `frame` where `keep[i]` is true. */
export function filterFrame(frame: Frame, keep: ArrayLike<boolean | number>): Frame {
  const idx: number[] = [];
  for (let i = 0; i < frame.rows; i++) if (keep[i]) idx.push(i);
  const columns = new Map<string, Column>();
  for (const [name, col] of frame.columns) {
    if (col.kind === 'numeric') {
      const v = new Float64Array(idx.length);
      for (let k = 0; k < idx.length; k++) v[k] = col.values[idx[k]!]!;
      columns.set(name, { ...col, values: v });
    } else {
      columns.set(name, { ...col, values: idx.map((i) => col.values[i]!) });
    }
  }
  return { names: frame.names, columns, rows: idx.length };
}

const sortedCache = new WeakMap<Float64Array, Float64Array>();

/** Sorted finite values of a numeric column (cached per column array). */
export function sortedOf(col: NumericColumn): Float64Array {
  let s = sortedCache.get(col.values);
  if (!s) {
    s = sortedFinite(col.values);
    sortedCache.set(col.values, s);
  }
  return s;
}

/** Numeric column by name, or a clear error. */
export function numericColumn(frame: Frame, name: string, what: string): NumericColumn {
  const col = frame.columns.get(name);
  if (!col) throw new MillwrightError('BAD_INPUT', `${what}: column "${name}" not found (columns: ${frame.names.join(', ')})`);
  if (col.kind !== 'numeric') throw new MillwrightError('BAD_INPUT', `${what}: column "${name}" is not numeric (expected numbers)`);
  return col;
}

const countsCache = new WeakMap<object, Map<string, number>>();

/** Value counts of a categorical column (missing values excluded; cached per array, treat as read-only). */
export function valueCounts(values: ArrayLike<string | null>): Map<string, number> {
  let c = countsCache.get(values);
  if (!c) countsCache.set(values, (c = countValues(values)));
  return c;
}

const FEW_KEYS = 16;

function countValues(values: ArrayLike<string | null>): Map<string, number> {
  // Factory categoricals (states, grades, modes) have a handful of values: a linear scan over
  // them beats hashing every row. Keys keep first-seen order, as the Map below does.
  const keys: string[] = [];
  const counts: number[] = [];
  let i = 0;
  scan: for (; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    for (let k = 0; k < keys.length; k++) {
      if (keys[k] === v) {
        counts[k]!++;
        continue scan;
      }
    }
    if (keys.length === FEW_KEYS) break;
    keys.push(v);
    counts.push(1);
  }
  const m = new Map<string, number>();
  for (let k = 0; k < keys.length; k++) m.set(keys[k]!, counts[k]!);
  for (; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    m.set(v, (m.get(v) ?? 0) + 1);
  }
  return m;
}

interface SortedStats {
  mean: number;
  std: number;
  sum: number;
  distinct: number;
}

const statsCache = new WeakMap<Float64Array, SortedStats>();

/** Moments and distinct count of a sorted array, computed in one pass and cached per array. */
function sortedStats(s: Float64Array): SortedStats {
  let st = statsCache.get(s);
  if (!st) statsCache.set(s, (st = moments(s)));
  return st;
}

/** Mean and sample standard deviation (n - 1) of an array of finite values (Welford, stable; cached per array). */
export function meanStd(s: Float64Array): { mean: number; std: number; sum: number } {
  return sortedStats(s);
}

function moments(s: Float64Array): SortedStats {
  // Welford's update is a chain of dependent divisions; counting distinct values (of a sorted
  // array: changes between neighbours) in the same loop costs nothing extra.
  return momentsFrom(s, 0, 0, 0, 0, s.length ? 1 : 0, s.length ? s[0]! : 0);
}

/** Continues Welford's update (and the distinct count) over `s[from..]` from the given state. */
function momentsFrom(s: Float64Array, from: number, mean: number, m2: number, sum: number, distinct: number, prev: number): SortedStats {
  for (let i = from; i < s.length; i++) {
    const x = s[i]!;
    sum += x;
    const d = x - mean;
    mean += d / (i + 1);
    m2 += d * (x - mean);
    if (x !== prev) distinct++;
    prev = x;
  }
  return { mean: s.length ? mean : Number.NaN, std: s.length > 1 ? Math.sqrt(m2 / (s.length - 1)) : s.length ? 0 : Number.NaN, sum, distinct };
}

/**
 * Computes (and caches) the moments and distinct counts of several sorted arrays at once. Each
 * array's Welford recurrence is a chain of dependent divisions that leaves the CPU mostly idle;
 * running two independent chains in one loop overlaps them. Every array gets exactly the
 * operations, in the same order, that {@link meanStd} would apply to it alone.
 */
export function warmSortedStats(arrays: Float64Array[]): void {
  const todo = [...new Set(arrays)].filter((a) => !statsCache.has(a));
  for (let g = 0; g < todo.length; g += 2) {
    const group = todo.slice(g, g + 2);
    const stats = group.length === 1 ? [moments(group[0]!)] : momentsTogether(group);
    group.forEach((a, k) => statsCache.set(a, stats[k]!));
  }
}

/** {@link moments} of two arrays in one loop (locals, not arrays: the chains stay in registers). */
function momentsTogether(arrays: Float64Array[]): SortedStats[] {
  const a = arrays[0]!;
  const b = arrays[1]!;
  const common = Math.min(a.length, b.length);
  let meanA = 0, m2A = 0, sumA = 0, distinctA = a.length ? 1 : 0, prevA = a.length ? a[0]! : 0;
  let meanB = 0, m2B = 0, sumB = 0, distinctB = b.length ? 1 : 0, prevB = b.length ? b[0]! : 0;
  for (let i = 0; i < common; i++) {
    const x = a[i]!;
    const y = b[i]!;
    sumA += x;
    sumB += y;
    const dx = x - meanA;
    const dy = y - meanB;
    meanA += dx / (i + 1);
    meanB += dy / (i + 1);
    m2A += dx * (x - meanA);
    m2B += dy * (y - meanB);
    if (x !== prevA) distinctA++;
    if (y !== prevB) distinctB++;
    prevA = x;
    prevB = y;
  }
  // The longer array finishes alone.
  return [momentsFrom(a, common, meanA, m2A, sumA, distinctA, prevA), momentsFrom(b, common, meanB, m2B, sumB, distinctB, prevB)];
}

/** Number of distinct values of a sorted array (cached per array, with its moments). */
export function distinctSorted(s: Float64Array): number {
  return sortedStats(s).distinct;
}
