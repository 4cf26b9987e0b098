import type { Frame } from '../data.ts';
import { quantileSorted } from '../../lib/stats/index.ts';
import { sortedOf, meanStd, distinctSorted, valueCounts, warmSortedStats } from '../data.ts';
import type { CheckResult, Metric, MetricResult } from '../engine.ts';
import { num } from '../engine.ts';

/** Per-column statistics of one dataset. */
export interface ColumnSummary {
  column: string;
  kind: 'numeric' | 'categorical';
  count: number;
  missing: number;
  missingShare: number;
  distinct: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  /** p01 .. p99, numeric columns only. */
  quantiles: Record<string, number | null> | null;
  /** Most frequent value (categorical) and its count. */
  top: { value: string; count: number } | null;
}

export interface ColumnSummaryResult extends MetricResult {
  type: 'column-summary';
  rows: number;
  current: ColumnSummary[];
  reference: ColumnSummary[] | null;
  maxMissingShare: number;
}

const QUANTILES: Record<string, number> = { p01: 0.01, p05: 0.05, p25: 0.25, p50: 0.5, p75: 0.75, p95: 0.95, p99: 0.99 };

/**
 * Summary of every column of a frame (std is the sample std, n - 1, as pandas).
 *
 * @example
 * summarize(toFrame({ temp: [20, 21, null] }))[0].missing; // 1
 */
export function summarize(frame: Frame, columns?: string[]): ColumnSummary[] {
  const out: ColumnSummary[] = [];
  const numeric = (columns ?? frame.names).map((n) => frame.columns.get(n)).filter((c) => c?.kind === 'numeric');
  warmSortedStats(numeric.map((c) => sortedOf(c)));
  for (const name of columns ?? frame.names) {
    const col = frame.columns.get(name);
    if (!col) continue;
    if (col.kind === 'numeric') {
      const s = sortedOf(col);
      const { mean, std } = meanStd(s);
      const q: Record<string, number | null> = {};
      for (const [k, p] of Object.entries(QUANTILES)) q[k] = num(quantileSorted(s, p));
      out.push({
        column: name, kind: 'numeric', count: s.length, missing: frame.rows - s.length, missingShare: frame.rows ? (frame.rows - s.length) / frame.rows : 0,
        distinct: distinctSorted(s), min: s.length ? s[0]! : null, max: s.length ? s[s.length - 1]! : null, mean: num(mean), std: num(std), quantiles: q, top: null,
      });
    } else {
      const counts = valueCounts(col.values);
      let present = 0;
      let top: { value: string; count: number } | null = null;
      for (const [value, count] of counts) {
        present += count;
        if (!top || count > top.count) top = { value, count };
      }
      out.push({
        column: name, kind: 'categorical', count: present, missing: frame.rows - present, missingShare: frame.rows ? (frame.rows - present) / frame.rows : 0,
        distinct: counts.size, min: null, max: null, mean: null, std: null, quantiles: null, top,
      });
    }
  }
  return out;
}

export interface ColumnSummaryOptions {
  /** Columns to summarise. Default: all. */
  columns?: string[];
  /** Warn when a column's missing share exceeds this. Default 0.05. */
  maxMissingShare?: number;
}

/**
 * Per-column summary (count, missing, min, max, mean, std, quantiles, distinct) of the current
 * data, and of the reference beside it when one is given.
 *
 * @example
 * runReport('quality', [new ColumnSummaryMetric({ maxMissingShare: 0.01 })], table);
 */
export class ColumnSummaryMetric implements Metric<ColumnSummaryResult> {
  readonly type = 'column-summary';
  constructor(readonly options: ColumnSummaryOptions = {}) {}
  compute(current: Frame, reference?: Frame): ColumnSummaryResult {
    return {
      type: 'column-summary',
      title: 'Column summary',
      rows: current.rows,
      current: summarize(current, this.options.columns),
      reference: reference ? summarize(reference, this.options.columns) : null,
      maxMissingShare: this.options.maxMissingShare ?? 0.05,
    };
  }
  checks(r: ColumnSummaryResult): CheckResult[] {
    const bad = r.current.filter((c) => c.missingShare > r.maxMissingShare);
    return [{
      name: 'missing values',
      status: bad.length ? 'warn' : 'pass',
      reason: bad.length
        ? `${bad.map((c) => `${c.column} (${(c.missingShare * 100).toFixed(1)}%)`).join(', ')} exceed ${(r.maxMissingShare * 100).toFixed(1)}% missing`
        : `no column has more than ${(r.maxMissingShare * 100).toFixed(1)}% missing values`,
    }];
  }
}
