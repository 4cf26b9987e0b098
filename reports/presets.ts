/**
 * Ready-made reports (lists of metrics with sensible defaults) and writing a report to disk as
 * report.html, report.json and report.csv.
 */
import { AttributionDriftMetric, type AttributionDriftOptions } from './metrics/attribution-drift.ts';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FeatureSummary } from '../lib/model/contract.ts';
import { toFrame, type TableInput } from './data.ts';
import { runReport, type Metric, type MetricResult, type ReportResult, type RunReportOptions } from './engine.ts';
import { ColumnSummaryMetric, type ColumnSummaryOptions } from './metrics/summary.ts';
import { ConstraintViolationsMetric } from './metrics/constraints.ts';
import { SensorFaultsMetric, type SensorFaultsOptions } from './metrics/sensor-faults.ts';
import { DataDriftMetric, type DataDriftOptions } from './metrics/drift.ts';
import { MultivariateDriftMetric, type MultivariateDriftOptions } from './metrics/multivariate.ts';
import { ModelQualityMetric, type ModelQualityOptions } from './metrics/model-quality.ts';
import { PerformanceEstimationMetric, type PerformanceEstimationOptions } from './metrics/performance-estimation.ts';
import { EnergyDeviationMetric, type EnergyDeviationOptions } from './metrics/energy.ts';
import { EnergyPerformanceMetric, type EnergyPerformanceOptions } from './metrics/energy-performance.ts';
import { AlarmScoresMetric, type AlarmScoreOptions } from './metrics/alarm-scores.ts';
import { readAlarmIntervals, readAlarmedReadings, readFailures } from './alarm-store.ts';
import type { BaselineConstraints, BaselineStatistics } from './monitor-baseline.ts';
import { renderHtml } from './render/html.ts';
import { renderCsv } from './render/csv.ts';

export interface QualityReportOptions extends RunReportOptions {
  /** statistics.json + constraints.json to check against. */
  baseline?: { statistics: BaselineStatistics; constraints: BaselineConstraints };
  summary?: ColumnSummaryOptions;
  /**
   * Sensor-fault checks on long-form readings. Default: on when the current data has `ts`,
   * `signal` and `value` columns; pass `false` to skip.
   */
  faults?: SensorFaultsOptions | false;
}

/**
 * Data-quality report: column summary, baseline constraint violations, sensor faults.
 *
 * @example
 * const report = qualityReport(readings, { baseline: { statistics, constraints } });
 */
export function qualityReport(current: TableInput, reference?: TableInput, options: QualityReportOptions = {}): ReportResult {
  const cur = toFrame(current);
  const metrics: Metric<MetricResult>[] = [new ColumnSummaryMetric(options.summary)];
  if (options.baseline) metrics.push(new ConstraintViolationsMetric(options.baseline));
  const f = options.faults;
  const longForm = ['ts', 'value'].every((c) => cur.columns.has(c)) && (cur.columns.has('signal') || cur.columns.has('asset'));
  if (f !== false && (f !== undefined || longForm)) metrics.push(new SensorFaultsMetric(f || {}));
  return runReport('quality', metrics, cur, reference, options);
}

export interface DriftReportOptions extends RunReportOptions, DataDriftOptions {
  /** PCA reconstruction drift; default on when both datasets have at least 2 shared numeric columns. `false` skips it. */
  multivariate?: MultivariateDriftOptions | false;
  /** Feature attribution drift (nDCG of the global attribution ranking, SageMaker's rule): baseline and current analyses. */
  attributions?: AttributionDriftOptions;
}

/**
 * Drift report: per-column drift (optionally by operating state) and multivariate drift.
 * `reference` may be omitted when `baseline` (a manifest's FeatureSummary[]) is given.
 *
 * @example
 * driftReport(lastWeek, trainingTable, { state: runningState('power_kw', 5) })
 */
export function driftReport(current: TableInput, reference: TableInput | undefined, options: DriftReportOptions = {}): ReportResult {
  const cur = toFrame(current);
  const ref = reference === undefined ? undefined : toFrame(reference);
  const metrics: Metric<MetricResult>[] = [new DataDriftMetric(options)];
  if (ref && options.multivariate !== false) {
    const exclude = new Set([...(options.exclude ?? ['ts']), ...(typeof options.state === 'string' ? [options.state] : [])]);
    const shared = cur.names.filter((n) => !exclude.has(n) && cur.columns.get(n)?.kind === 'numeric' && ref.columns.get(n)?.kind === 'numeric' && (!options.columns || options.columns.includes(n)));
    if (shared.length >= 2) metrics.push(new MultivariateDriftMetric({ columns: shared, ...(options.multivariate || {}) }));
  }
  if (options.attributions !== undefined) metrics.push(new AttributionDriftMetric(options.attributions));
  return runReport('drift', metrics, cur, ref, options);
}

/** Drift against a model manifest's baseline only (no raw reference rows). */
export function driftReportFromFeatureSummary(current: TableInput, baseline: FeatureSummary[], options: DriftReportOptions = {}): ReportResult {
  return driftReport(current, undefined, { ...options, baseline, multivariate: false });
}

/**
 * Model-quality report on predictions joined with ground truth (see `joinGroundTruth`).
 *
 * @example
 * modelReport(joined, { task: 'regression', target: 'Usage_kWh', prediction: 'prediction', trainingMetrics: manifest.metrics.holdout })
 */
export function modelReport(joined: TableInput, options: ModelQualityOptions & RunReportOptions): ReportResult {
  return runReport('model', [new ModelQualityMetric(options)], joined, undefined, options);
}

/**
 * Estimated-performance report: DLE (regression) or CBPE (classification) per time chunk on
 * unlabelled traffic, from a labelled reference (see `PerformanceEstimationMetric`).
 *
 * @example
 * performanceReport(captured, validation, { task: 'regression', features: ['load', 'speed'], chunkMs: 3_600_000 })
 */
export function performanceReport(current: TableInput, reference: TableInput, options: PerformanceEstimationOptions & RunReportOptions): ReportResult {
  return runReport('performance', [new PerformanceEstimationMetric(options)], current, reference, options);
}

/**
 * Hourly energy-deviation report. `reference` (e.g. the training period with the same driver
 * columns) supplies the typical driver values behind the hints.
 *
 * @example
 * energyReport(octToDec, janToSep, { actual: 'Usage_kWh', drivers: ['Lagging_Current_Reactive.Power_kVarh'], pricePerKwh: 0.1 })
 */
export function energyReport(current: TableInput, reference: TableInput | undefined, options: EnergyDeviationOptions & RunReportOptions = {}): ReportResult {
  return runReport('energy', [new EnergyDeviationMetric(options)], current, reference, options);
}

/**
 * ISO 50006-style energy performance report: the energy baseline fitted on `baseline` (with
 * CalTRACK's balance-point search when a temperature is given), EnPIs, and the savings over
 * `reporting` with CUSUM and ASHRAE Guideline 14 uncertainty at 68 % and 90 %.
 *
 * @example
 * import { energyPerformanceReport } from 'millwright/reports';
 * const report = energyPerformanceReport(octToDec, janToSep, { energy: 'usage_kwh', production: 'tonnes', temperature: 't_out' });
 * report.metrics[0]; // { type: 'energy-performance', savings: { savings, uncertainty: [...] }, ... }
 */
export function energyPerformanceReport(reporting: TableInput, baseline: TableInput, options: EnergyPerformanceOptions & RunReportOptions = {}): ReportResult {
  return runReport('energy-performance', [new EnergyPerformanceMetric(options)], reporting, baseline, options);
}

export interface WrittenReport {
  dir: string;
  html: string;
  json: string;
  csv: string;
}

async function writeAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/**
 * Writes report.html, report.json and report.csv into `dir` (created if needed). Each file is
 * replaced atomically, so a server reading them never sees half a file.
 *
 * @example
 * const { html } = await writeReport(report, 'reports/drift');
 */
export async function writeReport(report: ReportResult, dir: string): Promise<WrittenReport> {
  const out = resolve(dir);
  await mkdir(out, { recursive: true });
  const paths = { dir: out, html: join(out, 'report.html'), json: join(out, 'report.json'), csv: join(out, 'report.csv') };
  await writeAtomic(paths.json, `${JSON.stringify(report)}\n`);
  await writeAtomic(paths.csv, renderCsv(report));
  await writeAtomic(paths.html, renderHtml(report));
  return paths;
}

/**
 * Alarm rules (and models that raise alarms) scored against recorded failures: per rule true and
 * false alarms, precision, recall, mean lead time, false alarms per asset-week, and a timeline per
 * asset. `readings` (ts, asset, signal, value) are drawn in the timelines.
 *
 * @example
 * import { alarmsReport } from 'millwright/reports';
 * const report = alarmsReport(readings, { alarms, failures, leadMs: 72 * 3_600_000, from, to });
 * report.metrics[0]; // { type: 'alarm-scores', rules: [{ rule, precision, recall, meanLeadHours, ... }], ... }
 */
export function alarmsReport(readings: TableInput, options: AlarmScoreOptions & RunReportOptions): ReportResult {
  return runReport('alarms', [new AlarmScoresMetric(options)], readings, undefined, options);
}

/**
 * {@link alarmsReport} over a store: alarm rows of its `events` table, its failure records, and the
 * alarmed signals' readings in [from, to).
 *
 * @example
 * import { alarmsReportFromStore } from 'millwright/reports';
 * const report = await alarmsReportFromStore('.millwright/store', { from, to, leadMs: 72 * 3_600_000 });
 */
export async function alarmsReportFromStore(root: string, options: Omit<AlarmScoreOptions, 'alarms' | 'failures'> & RunReportOptions): Promise<ReportResult> {
  const period = { from: options.from, to: options.to };
  const alarms = await readAlarmIntervals(root, period);
  const failures = await readFailures(root, period);
  const readings = await readAlarmedReadings(root, alarms, period);
  return alarmsReport(readings, { ...options, alarms, failures, source: options.source ?? root });
}
