import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import { floatColumn, gather, groupRows, valueColumn } from './columns.ts';
import { parseDuration } from '../units/index.ts';

/** Options of {@link segmentRuns}. */
export interface SegmentOptions {
  /** A run starts when the signal rises to >= `on` (required). */
  on: number;
  /** A run ends when the signal falls below `off` (default `on`; set lower for hysteresis, so noise around the threshold does not chop runs). */
  off?: number;
  /** Runs shorter than this are dropped (ms or duration string, default 0). */
  minDuration?: number | string;
  /** A gap between readings longer than this ends the run (no data is not production; default: unlimited). */
  maxGap?: number | string;
}

/** One production run of one series: readings `startIndex..endIndex` (inclusive). */
export interface Segment {
  start: number;
  end: number;
  startIndex: number;
  endIndex: number;
}

/**
 * Finds production runs in one time-sorted series (speed, current, ...) with hysteresis and a
 * minimum duration. A run starts at the first reading >= `on` and lasts through the last
 * reading >= `off` before one falls below `off` (or before a gap longer than `maxGap`).
 *
 * @example
 * const runs = segmentRuns(ts, speed, { on: 800, off: 600, minDuration: '10m', maxGap: '2m' });
 * runs.length; runs[0].start; runs[0].end;
 */
export function segmentRuns(ts: Float64Array, value: Float64Array, options: SegmentOptions): Segment[] {
  const on = options.on;
  const off = options.off ?? on;
  if (!Number.isFinite(on) || !Number.isFinite(off) || off > on) {
    throw new MillwrightError('BAD_INPUT', `segmentRuns: on=${on}, off=${off} invalid (expected finite numbers with off <= on)`);
  }
  const minDuration = parseDuration(options.minDuration ?? 0, { what: 'minDuration' });
  const maxGap = options.maxGap === undefined ? Infinity : parseDuration(options.maxGap, { what: 'maxGap' });
  const runs: Segment[] = [];
  let startIndex = -1;
  const close = (endIndex: number) => {
    if (ts[endIndex]! - ts[startIndex]! >= minDuration) runs.push({ start: ts[startIndex]!, end: ts[endIndex]!, startIndex, endIndex });
    startIndex = -1;
  };
  for (let i = 0; i < ts.length; i++) {
    const v = value[i]!;
    if (startIndex >= 0) {
      if (ts[i]! - ts[i - 1]! > maxGap) close(i - 1);
      else if (!(v >= off)) {
        close(i - 1);
        continue;
      }
    }
    if (startIndex < 0 && v >= on) startIndex = i;
  }
  if (startIndex >= 0) close(ts.length - 1);
  return runs;
}

/** Options of {@link findRuns}. */
export interface FindRunsOptions extends SegmentOptions {
  /** The signal that says whether the machine produces, e.g. `'speed'` or `'current'` (required). */
  signal: string;
  /** Asset column (default `'asset'`); runs are found per asset. */
  asset?: string;
}

/**
 * Production runs per asset from a long table (ts, asset, signal, value): one row per run with
 * `run_id` (0, 1, ... in asset then time order), `asset`, `start`, `end` (epoch ms of the first
 * and last reading of the run) and `duration_s`.
 *
 * @example
 * const runs = findRuns(readings, { signal: 'speed', on: 800, off: 600, minDuration: '10m' });
 * runs.print();
 */
export function findRuns(table: ColumnTable, options: FindRunsOptions): ColumnTable {
  const assetCol = options.asset ?? 'asset';
  const sig = table.filter(aq.escape((d: Record<string, unknown>) => d.signal === options.signal));
  if (sig.numRows() === 0) throw new MillwrightError('BAD_INPUT', `findRuns: no readings of signal "${options.signal}" (expected the speed/current signal that marks production)`);
  const ts = floatColumn(sig, 'ts');
  const value = floatColumn(sig, 'value');
  const out = { run_id: [] as number[], asset: [] as unknown[], start: [] as number[], end: [] as number[], duration_s: [] as number[] };
  const groups = groupRows(sig, [assetCol], ts).sort((a, b) => String(a.key[0]).localeCompare(String(b.key[0])));
  for (const g of groups) {
    for (const r of segmentRuns(gather(ts, g.rows), gather(value, g.rows), options)) {
      out.run_id.push(out.run_id.length);
      out.asset.push(g.key[0]);
      out.start.push(r.start);
      out.end.push(r.end);
      out.duration_s.push((r.end - r.start) / 1000);
    }
  }
  return aq.table(out);
}

/** Options of {@link runFeatures}. */
export interface RunFeatureOptions {
  /** Signals to summarise (default: every signal of the asset). */
  signals?: string[];
  /** Statistics per signal (default `['mean', 'std', 'min', 'max']`). */
  stats?: Array<'mean' | 'std' | 'min' | 'max' | 'first' | 'last' | 'count'>;
}

/**
 * Per-run feature table: one production run = one row. For each run (from {@link findRuns}) and
 * each signal of its asset, summarises the readings with `start <= ts <= end` into columns
 * `<signal>_<stat>` (e.g. `temperature_max`), next to the run's own columns.
 *
 * @example
 * const runs = findRuns(readings, { signal: 'speed', on: 800, off: 600, minDuration: '10m' });
 * const perRun = runFeatures(readings, runs, { stats: ['mean', 'max'] });
 * perRun.columnNames(); // ['run_id', 'asset', 'start', 'end', 'duration_s', 'current_mean', ...]
 */
export function runFeatures(table: ColumnTable, runs: ColumnTable, options: RunFeatureOptions = {}): ColumnTable {
  const stats = options.stats ?? ['mean', 'std', 'min', 'max'];
  const ts = floatColumn(table, 'ts');
  const value = floatColumn(table, 'value');
  const groups = groupRows(table, ['asset', 'signal'], ts);
  const signals = options.signals ?? [...new Set(groups.map((g) => String(g.key[1])))].sort();
  const runAsset = valueColumn(runs, 'asset');
  const runStart = floatColumn(runs, 'start');
  const runEnd = floatColumn(runs, 'end');
  const nRuns = runs.numRows();
  const cols: Record<string, Float64Array> = {};
  for (const s of signals) for (const st of stats) cols[`${s}_${st}`] = new Float64Array(nRuns).fill(NaN);
  const byKey = new Map(groups.map((g) => [`${String(g.key[0])}\u0000${String(g.key[1])}`, g]));
  for (let r = 0; r < nRuns; r++) {
    for (const s of signals) {
      const g = byKey.get(`${String(runAsset[r])}\u0000${s}`);
      if (!g) continue;
      const rows = g.rows;
      const a = lowerBound(rows, ts, runStart[r]!);
      const end = upperBound(rows, ts, runEnd[r]!);
      const k = end - a;
      if (k === 0) continue;
      let sum = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = a; i < end; i++) {
        const v = value[rows[i]!]!;
        sum += v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const mean = sum / k;
      let ss = 0;
      if (stats.includes('std')) for (let i = a; i < end; i++) ss += (value[rows[i]!]! - mean) ** 2;
      const vals: Record<string, number> = {
        mean, min: lo, max: hi, count: k, std: k > 1 ? Math.sqrt(ss / (k - 1)) : NaN,
        first: value[rows[a]!]!, last: value[rows[end - 1]!]!,
      };
      for (const st of stats) cols[`${s}_${st}`]![r] = vals[st]!;
    }
  }
  return runs.assign(cols);
}

/** First position p in `rows` with ts[rows[p]] >= t. */
export function lowerBound(rows: Int32Array, ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[rows[mid]!]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First position p in `rows` with ts[rows[p]] > t. */
export function upperBound(rows: Int32Array, ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[rows[mid]!]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Labels each reading with the run it belongs to: adds `run_id` (the run's id, or -1 outside
 * any run of its asset).
 *
 * @example
 * labelRuns(readings, runs).filter((d) => d.run_id >= 0);
 */
export function labelRuns(table: ColumnTable, runs: ColumnTable): ColumnTable {
  const ts = floatColumn(table, 'ts');
  const asset = valueColumn(table, 'asset');
  const ids = floatColumn(runs, 'run_id');
  const ra = valueColumn(runs, 'asset');
  const rs = floatColumn(runs, 'start');
  const re = floatColumn(runs, 'end');
  const perAsset = new Map<unknown, number[]>();
  for (let r = 0; r < runs.numRows(); r++) {
    const l = perAsset.get(ra[r]) ?? [];
    l.push(r);
    perAsset.set(ra[r], l);
  }
  for (const l of perAsset.values()) l.sort((a, b) => rs[a]! - rs[b]!);
  const out = new Float64Array(table.numRows()).fill(-1);
  for (let i = 0; i < out.length; i++) {
    const l = perAsset.get(asset[i]);
    if (!l) continue;
    const t = ts[i]!;
    let lo = 0;
    let hi = l.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (rs[l[mid]!]! <= t) lo = mid + 1;
      else hi = mid;
    }
    const r = l[lo - 1];
    if (r !== undefined && t <= re[r]!) out[i] = ids[r]!;
  }
  return table.assign({ run_id: out });
}
