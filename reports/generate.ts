/**
 * `generateReports`: everything the serving container (or cron) needs to refresh the reports
 * from captured traffic in one call.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ModelManifest } from '../lib/model/contract.ts';
import { MillwrightError } from '../lib/errors/index.ts';
import { readManifest } from '../lib/model/artifact.ts';
import { toFrame, type Frame, type TableInput } from './data.ts';
import { readCapture } from './capture.ts';
import { loadSource, readBaselineDir } from './load.ts';
import type { BaselineConstraints, BaselineStatistics } from './monitor-baseline.ts';
import type { CheckStatus, ReportKind, ReportResult } from './engine.ts';
import { qualityReport, driftReport, driftReportFromFeatureSummary, modelReport, performanceReport, energyReport, writeReport } from './presets.ts';
import type { PerformanceEstimationOptions } from './metrics/performance-estimation.ts';
import { joinGroundTruth } from './metrics/model-quality.ts';
import { mergeGroundTruth, type MergeGroundTruthOptions, type MergeGroundTruthResult } from './ground-truth.ts';
import { readGroundTruth } from '../lib/ground-truth/index.ts';
import type { EnergyDeviationOptions } from './metrics/energy.ts';
import type { DataDriftOptions } from './metrics/drift.ts';
import * as aq from 'arquero';
import { loadModel } from '../lib/model/load-model.ts';
import { explainModel, explainSteps, globalAttribution } from '../lib/algorithms/explain.ts';
import { attributionAnalysis, type AttributionAnalysis } from './metrics/attribution-drift.ts';

export interface GenerateReportsOptions {
  /** Capture directory (SageMaker data-capture JSON Lines, as written by the server). */
  captureDir: string;
  /** Where to write `<kind>/report.{html,json,csv}` and `summary.json`. */
  outDir: string;
  /** Model dir (model.json): features to parse captured CSV, baseline for drift, task, training metrics. */
  modelDir?: string;
  /** Or the manifest itself (already loaded by the server). */
  manifest?: ModelManifest;
  /** Baseline dir with statistics.json + constraints.json (from `millwright baseline`), for the quality report. */
  baselineDir?: string;
  baseline?: { statistics: BaselineStatistics; constraints: BaselineConstraints };
  /** Raw reference rows for drift (a table or a file path); default: the manifest's baseline histograms. */
  reference?: TableInput | string;
  /** Only traffic captured at or after this time (default: everything in captureDir). */
  since?: Date;
  /** Ground truth that arrived later (table or file), joined to captured rows for the model-quality report. */
  groundTruth?: { source: TableInput | string; on: string; toleranceMs?: number; target?: string };
  /**
   * Label store written by `POST /ground-truth` and the watched folder (lib/ground-truth), merged
   * with the capture by inference id or business key; used when `groundTruth` is not given.
   */
  groundTruthDir?: string;
  /** Capture columns for labels keyed by a business key (asset + time, lot). */
  groundTruthKeys?: Omit<MergeGroundTruthOptions, 'target'>;
  /** Drift options (thresholds, state, ...). */
  drift?: DataDriftOptions;
  /**
   * Feature attribution drift in the drift report: the baseline analysis (the constraints, e.g.
   * `attributionAnalysis` of the training rows' global attributions); the current analysis is
   * computed by TreeSHAP over the captured rows with the model in `modelDir` unless given, on
   * `sampleRows` of them, evenly spaced through the window so every hour is represented. The
   * default follows the model's size: as many rows as about one second of TreeSHAP on one core
   * (a budget of 3e7 steps, see `explainSteps`), at least 48 (two an hour over a day) and at most
   * 2000. So a 20-tree forest of depth 6 explains 2000 rows and 100 trees of depth 10 (~20 ms a
   * row) about 60; set it to trade time for a steadier ranking.
   */
  attributions?: { baseline: AttributionAnalysis; current?: AttributionAnalysis; threshold?: number; sampleRows?: number };
  /**
   * Estimated performance without labels (DLE / CBPE per chunk, the `performance` report): a
   * labelled reference (table or file with the features, `prediction`, the target and the time
   * column) and the estimation options. The captured rows are the analysis data.
   */
  estimation?: PerformanceEstimationOptions & { reference: TableInput | string };
  /** Energy report options; used when the model's task is `energy` and actual energy is known (ground truth). */
  energy?: EnergyDeviationOptions;
  /** Fixed clock for reproducible output. */
  now?: Date;
}

export interface GeneratedReport {
  kind: ReportKind;
  status: CheckStatus;
  /** The report's JSON (what report.json holds). */
  report: ReportResult;
  html: string;
  json: string;
  csv: string;
}

export interface GenerateReportsResult {
  /** Captured rows used. */
  rows: number;
  records: number;
  /** Capture lines that could not be parsed (also listed in summary.json). */
  skipped: { file: string; line: number; reason: string }[];
  reports: GeneratedReport[];
  /** How the label store merged with the capture (when groundTruthDir is given). */
  groundTruth?: Omit<MergeGroundTruthResult, 'frame' | 'mismatched'> & { mismatched: number };
  /** Reports not produced and why (e.g. no ground truth yet). */
  notProduced: { kind: ReportKind; reason: string }[];
  summary: string;
}

/** At most this many rows are explained per run by default (see `attributions.sampleRows`). */
export const ATTRIBUTION_SAMPLE_ROWS = 2000;
/** At least this many (two an hour over a day), however large the model. */
export const ATTRIBUTION_MIN_ROWS = 48;
/** The default's budget in TreeSHAP steps (`explainSteps` per row): about a second on one core here. */
export const ATTRIBUTION_STEP_BUDGET = 3e7;

/** The default `sampleRows` for a model explaining `stepsPerRow` TreeSHAP steps a row. */
export function defaultAttributionRows(stepsPerRow: number): number {
  if (!(stepsPerRow > 0)) return ATTRIBUTION_SAMPLE_ROWS;
  return Math.max(ATTRIBUTION_MIN_ROWS, Math.min(ATTRIBUTION_SAMPLE_ROWS, Math.floor(ATTRIBUTION_STEP_BUDGET / stepsPerRow)));
}

/** `k` row indices evenly spaced over `n` rows (first at 0), or undefined when all `n` fit. */
function sampleIndices(n: number, k: number): number[] | undefined {
  if (!(k >= 1) || n <= k) return undefined;
  return Array.from({ length: Math.floor(k) }, (_, i) => Math.floor((i * n) / Math.floor(k)));
}

/** TreeSHAP global attributions of (a sample of) the captured rows with the served model. */
async function captureAttributions(modelDir: string | undefined, features: Frame, sampleRows?: number): Promise<AttributionAnalysis> {
  if (modelDir === undefined) throw new MillwrightError('BAD_INPUT', 'generateReports: attributions without a current analysis need modelDir (the model to explain the captured rows with)');
  const model = await loadModel(modelDir);
  const pick = sampleIndices(features.rows, sampleRows ?? defaultAttributionRows(await explainSteps(model)));
  const table = aq.table(Object.fromEntries(features.names.map((n) => {
    const v = features.columns.get(n)!.values;
    return [n, pick ? pick.map((r) => v[r]) : v];
  })));
  const ex = await explainModel(model, table);
  return attributionAnalysis(globalAttribution(ex), Object.fromEntries(ex.outputs.map((o, k) => [o, ex.baseValue[k]!])));
}

/** The estimated-performance report, or why not: a reference that cannot calibrate the estimate costs this report, not the run's others. */
async function estimationReport(
  capture: Frame,
  features: string[],
  options: NonNullable<GenerateReportsOptions['estimation']>,
  run: { source: string; now: Date },
): Promise<{ report: ReportResult } | { reason: string }> {
  const { reference, ...estimation } = options;
  const ref = await asFrame(reference);
  try {
    return { report: performanceReport(capture, ref, { features, ...estimation, source: run.source, referenceSource: typeof reference === 'string' ? reference : 'reference table', now: run.now }) };
  } catch (err) {
    if (!(err instanceof MillwrightError) || err.code !== 'BAD_INPUT') throw err;
    return { reason: err.message };
  }
}

async function asFrame(x: TableInput | string): Promise<Frame> {
  return typeof x === 'string' ? loadSource(x) : toFrame(x);
}

/**
 * Reads captured traffic and writes the data-quality, drift, and (when ground truth / energy
 * actuals exist) model-quality and energy reports under `outDir`, plus `summary.json`.
 *
 * @example
 * await generateReports({ captureDir: '/opt/ml/capture', modelDir: '/opt/ml/model', outDir: '/opt/ml/reports' });
 */
export async function generateReports(options: GenerateReportsOptions): Promise<GenerateReportsResult> {
  if (!options.captureDir || !options.outDir) throw new MillwrightError('BAD_INPUT', 'generateReports: captureDir and outDir are required');
  const manifest = options.manifest ?? (options.modelDir ? await readManifest(options.modelDir) : undefined);
  // Business keys of late labels (lot, asset, a time column) are read from the captured bodies beside the features.
  const gk = options.groundTruthDir ? options.groundTruthKeys : undefined;
  const keys = [gk?.lot, gk?.asset, gk?.time].filter((k): k is string => k !== undefined && k !== 'capturedAt');
  const cap = await readCapture(options.captureDir, { features: manifest?.features, from: options.since?.getTime(), ...(keys.length ? { keys } : {}) });
  const outDir = resolve(options.outDir);
  const result: GenerateReportsResult = { rows: cap.frame.rows, records: cap.records, skipped: cap.skipped, reports: [], notProduced: [], summary: '' };
  const now = options.now ?? new Date();
  const source = `capture ${options.captureDir}${options.since ? ` since ${options.since.toISOString()}` : ''} (${cap.records} records)`;
  if (cap.frame.rows === 0) {
    result.notProduced.push({ kind: 'quality', reason: `no captured rows${cap.skipped.length ? ` (${cap.skipped.length} unreadable lines)` : ''}` });
  } else {
    const featureNames = manifest ? manifest.features.map((f) => f.name) : cap.frame.names.filter((n) => n !== 'capturedAt' && n !== 'eventId' && n !== 'inferenceId' && !n.startsWith('prediction') && !keys.includes(n));
    const features: Frame = { names: featureNames, columns: new Map(featureNames.map((n) => [n, cap.frame.columns.get(n)!])), rows: cap.frame.rows };
    const baseline = options.baseline ?? (options.baselineDir ? await readBaselineDir(options.baselineDir) : undefined);
    const add = async (kind: ReportKind, report: ReturnType<typeof qualityReport>) => {
      const w = await writeReport(report, join(outDir, kind));
      result.reports.push({ kind, status: report.status, report, html: w.html, json: w.json, csv: w.csv });
    };
    await add('quality', qualityReport(features, undefined, { baseline, faults: false, source, now }));
    const attributions = options.attributions === undefined ? undefined : {
      baseline: options.attributions.baseline,
      current: options.attributions.current ?? (await captureAttributions(options.modelDir, features, options.attributions.sampleRows)),
      ...(options.attributions.threshold !== undefined ? { threshold: options.attributions.threshold } : {}),
    };
    if (options.reference !== undefined) {
      const ref = await asFrame(options.reference);
      await add('drift', driftReport(features, ref, { ...options.drift, ...(attributions ? { attributions } : {}), source, referenceSource: typeof options.reference === 'string' ? options.reference : 'reference table', now }));
    } else if (manifest?.baseline?.length) {
      await add('drift', driftReportFromFeatureSummary(features, manifest.baseline, { ...options.drift, ...(attributions ? { attributions } : {}), source, referenceSource: `baseline of ${manifest.name} ${manifest.version}`, now }));
    } else {
      result.notProduced.push({ kind: 'drift', reason: 'no reference data and no model baseline' });
    }
    if (options.estimation) {
      const est = await estimationReport(cap.frame, featureNames, options.estimation, { source, now });
      if ('reason' in est) result.notProduced.push({ kind: 'performance', reason: est.reason });
      else await add('performance', est.report);
    }
    let merged: { joined: Frame; target: string; on: string } | undefined;
    if (options.groundTruth) {
      const truth = await asFrame(options.groundTruth.source);
      merged = { joined: joinGroundTruth(cap.frame, truth, { on: options.groundTruth.on, toleranceMs: options.groundTruth.toleranceMs }), target: options.groundTruth.target ?? manifest?.target?.name ?? 'target', on: options.groundTruth.on };
    } else if (options.groundTruthDir !== undefined) {
      const m = mergeGroundTruth(cap.frame, await readGroundTruth(options.groundTruthDir), { ...options.groundTruthKeys, target: 'target' });
      const { frame: _f, ...counts } = m;
      result.groundTruth = { ...counts, mismatched: m.mismatched.length };
      if (m.labels > 0) merged = { joined: m.frame, target: 'target', on: 'the inference id or business key' };
    }
    if (merged) {
      const { joined, target } = merged;
      if (joined.rows === 0) {
        result.notProduced.push({ kind: 'model', reason: `no captured row matched the ground truth on ${merged.on}` });
      } else if (manifest?.task === 'energy' || joined.columns.has('prediction_expected')) {
        // The model's own interval timestamp when it has one, else the time of the request.
        const ts = joined.columns.has('ts') ? 'ts' : 'capturedAt';
        await add('energy', energyReport(joined, undefined, { ts, actual: target, expected: 'prediction_expected', best: 'prediction_best', ...options.energy, source, now }));
      } else if (manifest?.task === 'regression' || manifest?.task === 'classification' || joined.columns.has('prediction')) {
        const task = manifest?.task === 'classification' ? 'classification' : 'regression';
        await add('model', modelReport(joined, { task, target, prediction: 'prediction', trainingMetrics: manifest?.metrics.holdout ?? manifest?.metrics.training, source, now }));
      }
    } else {
      result.notProduced.push({ kind: manifest?.task === 'energy' ? 'energy' : 'model', reason: 'no ground truth (actuals) supplied yet' });
    }
  }
  result.summary = [
    `${result.rows} captured rows from ${result.records} records${cap.skipped.length ? `, ${cap.skipped.length} unreadable lines skipped` : ''}.`,
    ...result.reports.map((r) => `${r.kind}: ${r.status} -> ${r.html}`),
    ...result.notProduced.map((n) => `${n.kind}: not produced (${n.reason})`),
  ].join('\n');
  await mkdir(outDir, { recursive: true });
  const summaryPath = join(outDir, 'summary.json');
  const tmp = `${summaryPath}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify({ generatedAt: now.toISOString(), ...result, reports: result.reports.map(({ report: _r, ...rest }) => rest) }, null, 2)}\n`);
  await rename(tmp, summaryPath);
  return result;
}
