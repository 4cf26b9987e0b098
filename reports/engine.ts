/**
 * Metric → result → report: a metric is a settings object with a pure `compute`; a report runs
 * a list of metrics on (current, reference) and collects their checks. The result is plain JSON
 * (`ReportResult`), which the renderers turn into HTML and CSV.
 */
import type { Frame, TableInput } from './data.ts';
import { toFrame } from './data.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail';

/** One verdict of a report: what was checked, how it went and why. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  reason: string;
}

/** Every metric result is JSON with a `type` naming the metric that produced it (the renderer keys on it). */
export interface MetricResult {
  type: string;
  title: string;
}

/**
 * A metric: settings captured at construction, a pure `compute(current, reference)` returning a
 * JSON result, and `checks` turning that result into pass/warn/fail verdicts.
 */
export interface Metric<R extends MetricResult = MetricResult> {
  type: string;
  compute(current: Frame, reference?: Frame): R;
  checks?(result: R): CheckResult[];
}

export type ReportKind = 'quality' | 'drift' | 'model' | 'performance' | 'energy' | 'energy-performance' | 'alarms';

/** A report as JSON: everything the HTML and CSV renderers need. */
export interface ReportResult {
  format: 1;
  kind: ReportKind;
  title: string;
  generatedAt: string;
  /** Worst status among the checks (`pass` when there are none). */
  status: CheckStatus;
  checks: CheckResult[];
  data: { currentRows: number; referenceRows?: number; source?: string; reference?: string };
  metrics: MetricResult[];
}

export interface RunReportOptions {
  title?: string;
  /** Describes where the current / reference data came from (shown in the report header). */
  source?: string;
  referenceSource?: string;
  /** Fixed clock for reproducible output (snapshot tests). Default: now. */
  now?: Date;
}

const ORDER: Record<CheckStatus, number> = { pass: 0, warn: 1, fail: 2 };

/** The worst of several statuses. */
export function worst(statuses: CheckStatus[]): CheckStatus {
  return statuses.reduce<CheckStatus>((w, s) => (ORDER[s] > ORDER[w] ? s : w), 'pass');
}

const DEFAULT_TITLES: Record<ReportKind, string> = {
  quality: 'Data quality',
  drift: 'Data drift',
  model: 'Model quality',
  performance: 'Estimated performance (no labels)',
  energy: 'Energy deviation (hourly)',
  'energy-performance': 'Energy performance (ISO 50006)',
  alarms: 'Alarm rules against recorded failures',
};

/**
 * Runs `metrics` on the data and assembles the report JSON.
 *
 * @example
 * const report = runReport('drift', [new DataDriftMetric()], currentTable, referenceTable);
 * report.status; // 'warn'
 */
export function runReport(
  kind: ReportKind,
  metrics: Metric<MetricResult>[],
  current: TableInput,
  reference?: TableInput,
  options: RunReportOptions = {},
): ReportResult {
  const cur = toFrame(current);
  const ref = reference === undefined ? undefined : toFrame(reference);
  const results: MetricResult[] = [];
  const checks: CheckResult[] = [];
  for (const m of metrics) {
    const r = m.compute(cur, ref);
    results.push(r);
    if (m.checks) checks.push(...m.checks(r));
  }
  return {
    format: 1,
    kind,
    title: options.title ?? DEFAULT_TITLES[kind],
    generatedAt: (options.now ?? new Date()).toISOString(),
    status: worst(checks.map((c) => c.status)),
    checks,
    data: {
      currentRows: cur.rows,
      ...(ref ? { referenceRows: ref.rows } : {}),
      ...(options.source ? { source: options.source } : {}),
      ...(options.referenceSource ? { reference: options.referenceSource } : {}),
    },
    metrics: results,
  };
}

/** JSON numbers cannot be NaN/Infinity: such values become null. */
export function num(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}
