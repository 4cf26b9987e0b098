import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import { floatColumn, gather, groupRows, scatter } from './columns.ts';
import { parseDuration } from '../units/index.ts';

/** Statistics {@link rolling} can compute. */
export type RollingStat = 'count' | 'mean' | 'std' | 'min' | 'max' | 'slope' | 'ewma';

/** Every rolling statistic, in column order. */
export const ROLLING_STATS: readonly RollingStat[] = ['count', 'mean', 'std', 'min', 'max', 'slope', 'ewma'];

/** Options of {@link rolling} and {@link rollingFeatures}. */
export interface RollingOptions {
  /** Window length: ms or a duration string like `'10m'` (required). */
  window: number | string;
  /** Statistics to compute (default: all of {@link ROLLING_STATS}). */
  stats?: readonly RollingStat[];
  /** Fewer readings than this in a window gives NaN for every statistic but count (default 1). */
  minPeriods?: number;
  /** EWMA half-life: ms or duration string (default: the window length). */
  halfLife?: number | string;
}

/** Rolling statistics, one Float64Array per requested statistic, aligned with the input readings. */
export type RollingColumns = Partial<Record<RollingStat, Float64Array>>;

/**
 * Time-based trailing windows over one series (one asset, one signal), sorted by `ts`.
 *
 * The window of reading i covers the wall-clock interval `(ts[i] - window, ts[i]]`, like
 * pandas `rolling('10min')` or SQL `RANGE BETWEEN INTERVAL w PRECEDING` (with the lower bound
 * open). Gaps are respected: a window that spans a gap contains only the readings that really
 * exist in that interval: nothing is filled or interpolated, `count` drops, and a window
 * lying entirely past a gap starts afresh. `std` is the sample standard deviation (n - 1),
 * `slope` the least-squares slope of value against time in units per second, `ewma` a
 * time-aware exponential average: each reading pulls it by `1 - 2^(-dt / halfLife)`, so a
 * long gap makes the next reading dominate.
 *
 * Runs in O(n): running sums (rebased each time the window turns over, to keep float error
 * bounded) and monotonic deques for min/max.
 *
 * @example
 * const r = rolling(ts, value, { window: '10m', stats: ['mean', 'std', 'slope'] });
 * r.mean![i]; // mean of the readings in (ts[i] - 10 min, ts[i]]
 */
export function rolling(ts: Float64Array, value: Float64Array, options: RollingOptions): RollingColumns {
  return rollingInto(ts, value, options);
}

/**
 * {@link rolling} writing into caller-owned arrays (views into table-wide columns) with a
 * reusable deque, so 10M readings do not allocate per series: big short-lived typed arrays
 * make V8 run full collections that re-mark every string of the table.
 */
function rollingInto(ts: Float64Array, value: Float64Array, options: RollingOptions, target?: RollingColumns, scratch?: Int32Array): RollingColumns {
  const n = ts.length;
  if (value.length !== n) throw new MillwrightError('BAD_INPUT', `rolling: ts has ${n} values but value has ${value.length} (expected equal lengths)`);
  const w = parseDuration(options.window, { what: 'rolling window' });
  if (!(w > 0)) throw new MillwrightError('BAD_INPUT', 'rolling: window must be > 0');
  const stats = options.stats ?? ROLLING_STATS;
  const minPeriods = options.minPeriods ?? 1;
  const halfLife = options.halfLife === undefined ? w : parseDuration(options.halfLife, { what: 'rolling halfLife' });
  for (let i = 1; i < n; i++) {
    if (!(ts[i]! >= ts[i - 1]!)) throw new MillwrightError('BAD_INPUT', `rolling: ts not sorted at index ${i} (${ts[i - 1]} then ${ts[i]}); sort by time first or use rollingFeatures`);
  }
  const want = new Set(stats);
  const out: RollingColumns = {};
  for (const s of stats) out[s] = target?.[s] ?? new Float64Array(n);
  const needSums = want.has('mean') || want.has('std') || want.has('slope');
  const needSlope = want.has('slope');
  const cnt = out.count;
  const mean = out.mean;
  const std = out.std;
  const slope = out.slope;

  // Running sums of shifted values (x - c) and times ((t - t0) in seconds). Kept as plain
  // locals (no closure captures them) so V8 keeps them unboxed in registers.
  let lo = 0;
  let c = 0;
  let t0 = 0;
  let sx = 0;
  let sxx = 0;
  let st = 0;
  let stt = 0;
  let stx = 0;
  let rebaseAt = -1;

  for (let i = 0; i < n; i++) {
    const tEnd = ts[i]!;
    const tStart = tEnd - w;
    const lo0 = lo;
    while (ts[lo]! <= tStart) lo++;
    if (needSums) {
      if (lo > rebaseAt) {
        // The window has turned over since the last rebase (or this is the first reading):
        // recompute the sums from scratch around a new origin so rounding error cannot pile up.
        // Amortised O(1): it happens once per window length.
        c = value[lo]!;
        t0 = ts[lo]!;
        sx = sxx = st = stt = stx = 0;
        for (let j = lo; j <= i; j++) {
          const x = value[j]! - c;
          sx += x;
          sxx += x * x;
          if (needSlope) {
            const t = (ts[j]! - t0) / 1000;
            st += t;
            stt += t * t;
            stx += t * x;
          }
        }
        rebaseAt = i;
      } else {
        for (let j = lo0; j < lo; j++) {
          const x = value[j]! - c;
          sx -= x;
          sxx -= x * x;
          if (needSlope) {
            const t = (ts[j]! - t0) / 1000;
            st -= t;
            stt -= t * t;
            stx -= t * x;
          }
        }
        const x = value[i]! - c;
        sx += x;
        sxx += x * x;
        if (needSlope) {
          const t = (tEnd - t0) / 1000;
          st += t;
          stt += t * t;
          stx += t * x;
        }
      }
    }
    const k = i - lo + 1;
    if (cnt) cnt[i] = k;
    const ok = k >= minPeriods;
    if (mean) mean[i] = ok ? c + sx / k : NaN;
    if (std) {
      const ss = sxx - (sx * sx) / k;
      std[i] = ok && k > 1 ? Math.sqrt(Math.max(0, ss / (k - 1))) : NaN;
    }
    if (slope) {
      const dtt = stt - (st * st) / k;
      slope[i] = ok && k > 1 && dtt > 0 ? (stx - (st * sx) / k) / dtt : NaN;
    }
  }
  const dq = scratch && scratch.length >= n ? scratch : out.min || out.max ? new Int32Array(n) : undefined;
  if (out.min) monotonic(ts, value, w, out.min, false, dq!);
  if (out.max) monotonic(ts, value, w, out.max, true, dq!);
  if (out.ewma) {
    const e = out.ewma;
    let acc = NaN;
    for (let i = 0; i < n; i++) {
      const x = value[i]!;
      acc = i === 0 ? x : acc + (1 - Math.pow(2, -(ts[i]! - ts[i - 1]!) / halfLife)) * (x - acc);
      e[i] = acc;
    }
  }
  if (minPeriods > 1 && (out.min || out.max || out.ewma)) {
    let l = 0;
    for (let i = 0; i < n; i++) {
      while (ts[l]! <= ts[i]! - w) l++;
      if (i - l + 1 < minPeriods) {
        if (out.min) out.min[i] = NaN;
        if (out.max) out.max[i] = NaN;
        if (out.ewma) out.ewma[i] = NaN;
      }
    }
  }
  return out;
}

/** Sliding min or max with a monotonic deque of indices (ring buffer). */
function monotonic(ts: Float64Array, value: Float64Array, w: number, out: Float64Array, isMax: boolean, dq: Int32Array): void {
  const n = ts.length;
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) {
    const x = value[i]!;
    if (isMax) while (tail > head && value[dq[tail - 1]!]! < x) tail--;
    else while (tail > head && value[dq[tail - 1]!]! > x) tail--;
    dq[tail++] = i;
    const tStart = ts[i]! - w;
    while (ts[dq[head]!]! <= tStart) head++;
    out[i] = value[dq[head]!]!;
  }
}

/** Options of {@link rollingFeatures}. */
export interface RollingFeatureOptions extends RollingOptions {
  /** Columns identifying one series (default `['asset', 'signal']`). */
  by?: string[];
  /** Time column, epoch ms (default `'ts'`). */
  ts?: string;
  /** Value column (default `'value'`). */
  value?: string;
  /** Output column name for a statistic (default `` `${stat}_${window}` ``, e.g. `mean_10m`). */
  name?: (stat: RollingStat) => string;
}

/**
 * {@link rolling} per asset and signal over a long table (ts, asset, signal, value): adds one
 * column per statistic, aligned with the input rows (row order unchanged; each series is
 * processed in time order even if the table is not sorted).
 *
 * @example
 * const t = await scanTable({ root, assets: ['press-1'] });
 * const f = rollingFeatures(t, { window: '15m', stats: ['mean', 'std', 'max'] });
 * f.columnNames(); // [..., 'mean_15m', 'std_15m', 'max_15m']
 */
export function rollingFeatures(table: ColumnTable, options: RollingFeatureOptions): ColumnTable {
  const by = options.by ?? ['asset', 'signal'];
  const ts = floatColumn(table, options.ts ?? 'ts');
  const value = floatColumn(table, options.value ?? 'value');
  const stats = options.stats ?? ROLLING_STATS;
  const label = typeof options.window === 'string' ? options.window : `${options.window}ms`;
  const name = options.name ?? ((s: RollingStat) => `${s}_${label}`);
  const n = table.numRows();
  const cols: Record<string, Float64Array> = {};
  for (const s of stats) cols[name(s)] = new Float64Array(n);
  const groups = groupRows(table, by, ts);
  const scratch = new Int32Array(groups.reduce((m, g) => Math.max(m, g.rows.length), 0));
  for (const g of groups) {
    const r = g.rows;
    const first = r[0]!;
    if (r.length > 0 && r[r.length - 1] === first + r.length - 1) {
      // Rows of this series are one contiguous, time-sorted block (the store's layout): work on
      // views, write straight into the output columns.
      const end = first + r.length;
      const target: RollingColumns = {};
      for (const s of stats) target[s] = cols[name(s)]!.subarray(first, end);
      rollingInto(ts.subarray(first, end), value.subarray(first, end), options, target, scratch);
    } else {
      const out = rollingInto(gather(ts, r), gather(value, r), options, undefined, scratch);
      for (const s of stats) scatter(cols[name(s)]!, r, out[s]!);
    }
  }
  return table.assign(cols);
}
