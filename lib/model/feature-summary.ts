import type { ColumnTable } from 'arquero';
import type { FeatureSummary } from './contract.ts';
import { MillwrightError } from '../errors/index.ts';
import { quantileSorted } from '../stats/index.ts';

/** Quantile levels stored in every numeric feature summary, keyed `p01` .. `p99`. */
export const SUMMARY_QUANTILES: Readonly<Record<string, number>> = Object.freeze({
  p01: 0.01,
  p05: 0.05,
  p25: 0.25,
  p50: 0.5,
  p75: 0.75,
  p95: 0.95,
  p99: 0.99,
});

export interface FeatureSummaryOptions {
  /** Columns to profile, in this order. Default: every column of the table. */
  columns?: string[];
  /** Columns to leave out (e.g. the target or `ts`). Default: none. */
  exclude?: string[];
  /**
   * Histogram bin count for numeric columns. Default `'auto'`: Freedman–Diaconis on the data,
   * clamped to [`minBins`, `maxBins`] (Sturges when the IQR is 0), so drift metrics such as PSI
   * always have enough bins to be meaningful and few enough to be stable.
   */
  bins?: number | 'auto';
  /** Lower clamp for `'auto'` bins. Default 10. */
  minBins?: number;
  /** Upper clamp for `'auto'` bins. Default 50. */
  maxBins?: number;
  /**
   * Categorical columns keep the counts of at most this many most frequent values; the rest are
   * summed under `otherKey`. Default 100.
   */
  maxCategories?: number;
  /** Key for the folded tail of categorical counts. Default `'(other)'`. */
  otherKey?: string;
}

/**
 * Per-column statistics of a table (the feature summary): the reference that drift and data-quality reports compare
 * live data against, stored in every model manifest.
 *
 * A column is numeric when all its present values are numbers (or Dates, profiled as epoch ms,
 * or bigints); anything else (strings, booleans, mixed) is categorical with values counted as
 * strings. `null`, `undefined`, `NaN` and ±Infinity count as `missing` and are excluded from
 * the statistics. `std` is the sample standard deviation (n − 1, as pandas), 0 for one value.
 * Quantiles use linear interpolation between order statistics (numpy's default, R type 7).
 * Histogram bins are equal-width from min to max, the last bin closed on both ends.
 *
 * @example
 * import * as aq from 'arquero';
 * const t = aq.table({ temp: [20.1, 21.5, null, 22.0], mode: ['a', 'b', 'a', 'a'] });
 * const [temp, mode] = summarizeFeatures(t);
 * temp.numeric?.quantiles.p50; // 21.5
 * mode.categorical?.counts;    // { a: 3, b: 1 }
 */
export function summarizeFeatures(table: ColumnTable, opts: FeatureSummaryOptions = {}): FeatureSummary[] {
  const all = table.columnNames();
  const exclude = new Set(opts.exclude ?? []);
  const columns = (opts.columns ?? all).filter((c) => !exclude.has(c));
  for (const c of columns) {
    if (!all.includes(c)) {
      throw new MillwrightError('BAD_INPUT', `summarizeFeatures: column "${c}" is not in the table (columns: ${all.join(', ')})`);
    }
  }
  return columns.map((name) => summarizeFeature(name, table.array(name) as ArrayLike<unknown>, opts));
}

/**
 * Statistics of one column of values (see {@link summarizeFeatures} for the rules).
 *
 * @example
 * summarizeFeature('speed', [1, 2, 3, NaN]).missing; // 1
 */
export function summarizeFeature(name: string, values: ArrayLike<unknown>, opts: FeatureSummaryOptions = {}): FeatureSummary {
  const n = values.length;
  let numeric = true;
  let missing = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (isMissing(v)) {
      missing++;
      continue;
    }
    if (typeof v !== 'number' && typeof v !== 'bigint' && !(v instanceof Date)) numeric = false;
  }
  const count = n - missing;
  // An all-missing column has no type evidence; report it as numeric with no statistics so
  // consumers can still see count 0 and flag it.
  if (numeric) {
    const xs = new Float64Array(count);
    let j = 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!isMissing(v)) xs[j++] = toNumber(v);
    }
    const base: FeatureSummary = { name, kind: 'numeric', count, missing };
    if (count > 0) base.numeric = numericStats(xs, opts);
    return base;
  }
  return { name, kind: 'categorical', count, missing, categorical: { counts: categoricalCounts(values, opts) } };
}

function isMissing(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'number') return !Number.isFinite(v);
  if (v instanceof Date) return Number.isNaN(v.getTime());
  return false;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return (v as Date).getTime();
}

function numericStats(xs: Float64Array, opts: FeatureSummaryOptions): NonNullable<FeatureSummary['numeric']> {
  const sorted = xs.slice().sort();
  const n = sorted.length;
  // Two-pass mean/variance: exact enough for sensor magnitudes and no catastrophic cancellation.
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (sorted[i]! - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const quantiles: Record<string, number> = {};
  for (const [key, p] of Object.entries(SUMMARY_QUANTILES)) quantiles[key] = quantileSorted(sorted, p);
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  const bins = binCount(sorted, opts);
  return { mean, std, min, max, quantiles, histogram: histogram(sorted, min, max, bins) };
}

function binCount(sorted: Float64Array, opts: FeatureSummaryOptions): number {
  const n = sorted.length;
  const min = sorted[0]!;
  const max = sorted[n - 1]!;
  if (max === min) return 1;
  if (typeof opts.bins === 'number') {
    if (!Number.isInteger(opts.bins) || opts.bins < 1) {
      throw new MillwrightError('BAD_INPUT', `summarizeFeatures: bins must be a positive integer or "auto", got ${opts.bins}`);
    }
    return opts.bins;
  }
  const lo = opts.minBins ?? 10;
  const hi = opts.maxBins ?? 50;
  const iqr = quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25);
  const raw = iqr > 0 ? Math.ceil((max - min) / (2 * iqr * Math.cbrt(n))) : Math.ceil(Math.log2(n) + 1);
  return Math.max(lo, Math.min(hi, raw));
}

function histogram(sorted: Float64Array, min: number, max: number, bins: number): { edges: number[]; counts: number[] } {
  if (max === min) return { edges: [min, max], counts: [sorted.length] };
  const width = (max - min) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < sorted.length; i++) {
    const k = Math.min(bins - 1, Math.floor((sorted[i]! - min) / width));
    counts[k]!++;
  }
  return { edges, counts };
}

function categoricalCounts(values: ArrayLike<unknown>, opts: FeatureSummaryOptions): Record<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (isMissing(v)) continue;
    const key = v instanceof Date ? v.toISOString() : String(v);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const max = opts.maxCategories ?? 100;
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const out: Record<string, number> = {};
  for (const [k, c] of ranked.slice(0, max)) out[k] = c;
  if (ranked.length > max) {
    const other = opts.otherKey ?? '(other)';
    out[other] = (out[other] ?? 0) + ranked.slice(max).reduce((s, [, c]) => s + c, 0);
  }
  return out;
}
