import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import { floatColumn, groupRows } from './columns.ts';
import { parseDuration } from '../units/index.ts';

/** Statistics of {@link windowFeatures}. */
export type WindowStat = 'count' | 'mean' | 'std' | 'min' | 'max' | 'slope' | 'first' | 'last';

/** Options of {@link windowFeatures}. */
export interface WindowFeatureOptions {
  /** Window length, aligned to the UTC epoch (e.g. `'10m'` gives :00, :10, :20 ...) (required). */
  every: number | string;
  /** Statistics (default `['count', 'mean', 'std', 'min', 'max', 'slope']`). */
  stats?: readonly WindowStat[];
  /** Series columns (default `['asset', 'signal']`). */
  by?: string[];
  /** Local time offset in minutes, so daily/hourly windows follow the plant clock (default 0). */
  utcOffsetMinutes?: number;
}

/**
 * Tumbling windows aligned to the wall clock, per asset and signal: one row per series and
 * window that has readings (`window_start`, epoch ms; windows inside a gap produce no row rather
 * than a row of zeros). `std` is the sample standard deviation, `slope` the least-squares slope
 * against time in units per second. The trailing-window counterpart is {@link rollingFeatures}.
 *
 * @example
 * windowFeatures(readings, { every: '10m', stats: ['mean', 'max', 'slope'] }).print();
 */
export function windowFeatures(table: ColumnTable, options: WindowFeatureOptions): ColumnTable {
  const every = parseDuration(options.every, { what: 'every' });
  if (!(every > 0)) throw new MillwrightError('BAD_INPUT', 'windowFeatures: every must be > 0');
  const stats = options.stats ?? ['count', 'mean', 'std', 'min', 'max', 'slope'];
  const by = options.by ?? ['asset', 'signal'];
  const offset = (options.utcOffsetMinutes ?? 0) * 60_000;
  const ts = floatColumn(table, 'ts');
  const value = floatColumn(table, 'value');
  const keys: unknown[][] = by.map(() => []);
  const start: number[] = [];
  const out: Record<string, number[]> = Object.fromEntries(stats.map((s) => [s, []]));
  for (const g of groupRows(table, by, ts)) {
    const r = g.rows;
    let i = 0;
    while (i < r.length) {
      const w = Math.floor((ts[r[i]!]! + offset) / every);
      let j = i;
      let sx = 0;
      let lo = Infinity;
      let hi = -Infinity;
      while (j < r.length && Math.floor((ts[r[j]!]! + offset) / every) === w) {
        const v = value[r[j]!]!;
        sx += v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        j++;
      }
      const k = j - i;
      const mean = sx / k;
      const t0 = ts[r[i]!]!;
      let tm = 0;
      for (let q = i; q < j; q++) tm += (ts[r[q]!]! - t0) / 1000;
      tm /= k;
      let sxx = 0;
      let stt = 0;
      let stx = 0;
      for (let q = i; q < j; q++) {
        const dx = value[r[q]!]! - mean;
        const dt = (ts[r[q]!]! - t0) / 1000 - tm;
        sxx += dx * dx;
        stt += dt * dt;
        stx += dt * dx;
      }
      const vals: Record<WindowStat, number> = {
        count: k, mean, min: lo, max: hi, std: k > 1 ? Math.sqrt(sxx / (k - 1)) : NaN,
        slope: k > 1 && stt > 0 ? stx / stt : NaN, first: value[r[i]!]!, last: value[r[j - 1]!]!,
      };
      by.forEach((_, c) => keys[c]!.push(g.key[c]));
      start.push(w * every - offset);
      for (const s of stats) out[s]!.push(vals[s]);
      i = j;
    }
  }
  const cols: Record<string, unknown[] | Float64Array> = {};
  by.forEach((b, c) => (cols[b] = keys[c]!));
  cols.window_start = Float64Array.from(start);
  for (const s of stats) cols[s] = Float64Array.from(out[s]!);
  return aq.table(cols);
}
