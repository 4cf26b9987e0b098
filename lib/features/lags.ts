import type { ColumnTable } from 'arquero';
import { floatColumn, groupRows } from './columns.ts';
import { parseDuration } from '../units/index.ts';

/** Options of {@link lagFeatures}. */
export interface LagOptions {
  /** Lags in readings (default `[1]`): adds `lag_<k>` = value k readings earlier in the same series. */
  lags?: number[];
  /** Differences (default `[1]`): adds `diff_<k>` = value - value k readings earlier. */
  diffs?: number[];
  /**
   * Largest time span a lag may reach back, ms or duration string (default: unlimited). A lag
   * or difference reaching across a longer gap is NaN, so a reading after an outage is not
   * compared with one from before it.
   */
  maxGap?: number | string;
  /** Series columns (default `['asset', 'signal']`). */
  by?: string[];
  /** Time column (default `'ts'`). */
  ts?: string;
  /** Value column (default `'value'`). */
  value?: string;
}

/**
 * Lags and differences per asset and signal (row order unchanged, each series in time order).
 * The first k readings of a series have NaN lags.
 *
 * @example
 * lagFeatures(table, { lags: [1, 6], diffs: [1], maxGap: '5m' }).columnNames();
 * // [..., 'lag_1', 'lag_6', 'diff_1']
 */
export function lagFeatures(table: ColumnTable, options: LagOptions = {}): ColumnTable {
  const lags = options.lags ?? [1];
  const diffs = options.diffs ?? [1];
  const maxGap = options.maxGap === undefined ? Infinity : parseDuration(options.maxGap, { what: 'maxGap' });
  const ts = floatColumn(table, options.ts ?? 'ts');
  const value = floatColumn(table, options.value ?? 'value');
  const n = table.numRows();
  const cols: Record<string, Float64Array> = {};
  const specs: Array<{ name: string; k: number; diff: boolean }> = [
    ...lags.map((k) => ({ name: `lag_${k}`, k, diff: false })),
    ...diffs.map((k) => ({ name: `diff_${k}`, k, diff: true })),
  ];
  for (const s of specs) cols[s.name] = new Float64Array(n).fill(NaN);
  for (const g of groupRows(table, options.by ?? ['asset', 'signal'], ts)) {
    const r = g.rows;
    for (const s of specs) {
      const out = cols[s.name]!;
      for (let i = s.k; i < r.length; i++) {
        const cur = r[i]!;
        const past = r[i - s.k]!;
        if (ts[cur]! - ts[past]! > maxGap) continue;
        out[cur] = s.diff ? value[cur]! - value[past]! : value[past]!;
      }
    }
  }
  return table.assign(cols);
}
