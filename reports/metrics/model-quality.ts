import type { Frame, TableInput } from '../data.ts';
import { toFrame } from '../data.ts';
import type { CheckResult, Metric, MetricResult } from '../engine.ts';
import { num } from '../engine.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { binaryClassificationStatistics, regressionStatistics, rocAuc, type BinaryClassificationStatistics, type RegressionStatistics } from './quality-statistics.ts';

export { rocAuc };

export interface ModelQualityOptions {
  task: 'regression' | 'classification';
  /** Ground-truth column. Default `target`. */
  target?: string;
  /** Prediction column. Default `prediction`. */
  prediction?: string;
  /** Classification: score/probability of the positive class, for AUC. Optional. */
  score?: string;
  /** Classification: the positive label for precision/recall/F1. Default: the minority class of the truth. */
  positiveLabel?: string;
  /** Training (or holdout) metrics from the manifest, compared with the live ones. */
  trainingMetrics?: Record<string, number>;
  /** Relative degradation that warns / fails. Default { warn: 0.1, fail: 0.25 }. */
  tolerance?: { warn: number; fail: number };
}

export interface MetricComparison {
  metric: string;
  current: number | null;
  training: number | null;
  /** Relative change in the "worse" direction (positive = worse), null when not comparable. */
  degradation: number | null;
  status: 'pass' | 'warn' | 'fail' | 'n/a';
}

export interface ModelQualityResult extends MetricResult {
  type: 'model-quality';
  task: 'regression' | 'classification';
  rows: number;
  metrics: Record<string, number | null>;
  comparison: MetricComparison[];
  /** Up to 2000 (actual, predicted) pairs for the chart (regression) or the confusion matrix (classification). */
  sample: { actual: number; predicted: number }[] | null;
  confusion: { labels: string[]; counts: number[][] } | null;
  /** SageMaker Model Monitor's statistics (with bootstrap standard deviations from 200 pairs; best constant classifier). */
  statistics: { regression_metrics: RegressionStatistics } | { binary_classification_metrics: BinaryClassificationStatistics };
}

const LOWER_IS_BETTER = new Set(['mae', 'rmse', 'mape', 'mse']);

/**
 * Regression metrics on paired finite values. MAPE skips zero actuals.
 *
 * @example
 * regressionMetrics([1, 2, 3, 4], [1, 2, 3, 8]); // { mae: 1, rmse: 2, r2: -2.2, mape: 25, n: 4 }
 */
export function regressionMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>): Record<string, number | null> {
  let n = 0;
  let sa = 0;
  let sae = 0;
  let sse = 0;
  let sape = 0;
  let nape = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const p = predicted[i]!;
    if (!Number.isFinite(a) || !Number.isFinite(p)) continue;
    n++;
    sa += a;
    sae += Math.abs(a - p);
    sse += (a - p) ** 2;
    if (a !== 0) {
      sape += Math.abs((a - p) / a);
      nape++;
    }
  }
  if (n === 0) throw new MillwrightError('BAD_INPUT', 'model quality: no row has both a finite actual and a finite prediction');
  const mean = sa / n;
  let sst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    if (Number.isFinite(a) && Number.isFinite(predicted[i]!)) sst += (a - mean) ** 2;
  }
  return { mae: sae / n, rmse: Math.sqrt(sse / n), r2: num(sst > 0 ? 1 - sse / sst : Number.NaN), mape: nape ? (100 * sape) / nape : null, n };
}

/**
 * Classification metrics: accuracy, and precision/recall/F1 of `positive`; AUC when scores are given.
 *
 * @example
 * classificationMetrics(['a', 'b'], ['a', 'a'], 'a'); // { accuracy: 0.5, precision: 0.5, recall: 1, ... }
 */
export function classificationMetrics(actual: ArrayLike<string | null>, predicted: ArrayLike<string | null>, positive: string, score?: ArrayLike<number>) {
  let n = 0;
  let correct = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const p = predicted[i];
    if (a === null || p === null || a === undefined || p === undefined) continue;
    n++;
    if (a === p) correct++;
    if (p === positive && a === positive) tp++;
    else if (p === positive) fp++;
    else if (a === positive) fn++;
  }
  if (n === 0) throw new MillwrightError('BAD_INPUT', 'model quality: no row has both a label and a prediction');
  const precision = tp + fp ? tp / (tp + fp) : null;
  const recall = tp + fn ? tp / (tp + fn) : null;
  const f1 = precision !== null && recall !== null && precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : null;
  const auc = score ? rocAuc(Array.from(actual, (a) => a === positive), score) : null;
  return { accuracy: correct / n, precision, recall, f1, auc, n };
}

function labels(frame: Frame, name: string): (string | null)[] {
  const c = frame.columns.get(name);
  if (!c) throw new MillwrightError('BAD_INPUT', `model quality: column "${name}" not found (columns: ${frame.names.join(', ')})`);
  return c.kind === 'categorical' ? c.values : Array.from(c.values, (v) => (Number.isFinite(v) ? String(v) : null));
}

function numbers(frame: Frame, name: string): Float64Array {
  const c = frame.columns.get(name);
  if (!c) throw new MillwrightError('BAD_INPUT', `model quality: column "${name}" not found (columns: ${frame.names.join(', ')})`);
  if (c.kind !== 'numeric') throw new MillwrightError('BAD_INPUT', `model quality: column "${name}" must be numeric for regression`);
  return c.values;
}

/**
 * Model quality once ground truth has arrived: MAE/RMSE/R²/MAPE (regression) or
 * accuracy/precision/recall/F1/AUC (classification), compared with the training metrics.
 *
 * @example
 * new ModelQualityMetric({ task: 'regression', target: 'Usage_kWh', prediction: 'prediction', trainingMetrics: manifest.metrics.holdout })
 */
export class ModelQualityMetric implements Metric<ModelQualityResult> {
  readonly type = 'model-quality';
  constructor(readonly options: ModelQualityOptions) {}

  compute(current: Frame): ModelQualityResult {
    const o = this.options;
    const target = o.target ?? 'target';
    const prediction = o.prediction ?? 'prediction';
    let metrics: Record<string, number | null>;
    let sample: ModelQualityResult['sample'] = null;
    let confusion: ModelQualityResult['confusion'] = null;
    let statistics: ModelQualityResult['statistics'];
    if (o.task === 'regression') {
      const a = numbers(current, target);
      const p = numbers(current, prediction);
      metrics = regressionMetrics(a, p);
      statistics = { regression_metrics: regressionStatistics(a, p) };
      sample = [];
      const step = Math.max(1, current.rows / 2000);
      for (let x = 0; x < current.rows; x += step) {
        const i = Math.floor(x);
        if (Number.isFinite(a[i]!) && Number.isFinite(p[i]!)) sample.push({ actual: a[i]!, predicted: p[i]! });
      }
    } else {
      const a = labels(current, target);
      const p = labels(current, prediction);
      const counts = new Map<string, number>();
      for (const v of a) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
      const positive = o.positiveLabel ?? [...counts].sort((x, y) => x[1] - y[1])[0]?.[0] ?? '1';
      const score = o.score ? numbers(current, o.score) : undefined;
      metrics = classificationMetrics(a, p, positive, score);
      statistics = { binary_classification_metrics: binaryClassificationStatistics(a, p, positive, score) };
      const ls = [...new Set([...a, ...p].filter((v): v is string => v !== null))].sort();
      const pos = new Map(ls.map((l, i) => [l, i]));
      const m = ls.map(() => new Array<number>(ls.length).fill(0));
      for (let i = 0; i < a.length; i++) if (a[i] !== null && p[i] !== null) m[pos.get(a[i]!)!]![pos.get(p[i]!)!]!++;
      confusion = { labels: ls, counts: m };
    }
    const tol = o.tolerance ?? { warn: 0.1, fail: 0.25 };
    const comparison: MetricComparison[] = Object.entries(metrics)
      .filter(([k]) => k !== 'n')
      .map(([metric, value]) => {
        const training = o.trainingMetrics?.[metric] ?? null;
        let degradation: number | null = null;
        if (value !== null && training !== null && Number.isFinite(training)) {
          const scale = Math.max(Math.abs(training), 1e-12);
          degradation = LOWER_IS_BETTER.has(metric) ? (value - training) / scale : (training - value) / scale;
        }
        const status = degradation === null ? 'n/a' : degradation > tol.fail ? 'fail' : degradation > tol.warn ? 'warn' : 'pass';
        return { metric, current: value, training, degradation, status };
      });
    return { type: 'model-quality', title: 'Model quality', task: o.task, rows: current.rows, metrics, comparison, sample, confusion, statistics };
  }

  checks(r: ModelQualityResult): CheckResult[] {
    const compared = r.comparison.filter((c) => c.status !== 'n/a');
    if (compared.length === 0) {
      return [{ name: 'model quality', status: 'pass', reason: `measured on ${r.metrics.n ?? r.rows} rows; no training metrics to compare with` }];
    }
    const worstC = compared.reduce((a, b) => ((b.degradation ?? 0) > (a.degradation ?? 0) ? b : a));
    const status = compared.some((c) => c.status === 'fail') ? 'fail' : compared.some((c) => c.status === 'warn') ? 'warn' : 'pass';
    return [{
      name: 'model quality',
      status,
      reason: `${compared.map((c) => `${c.metric} ${fmt(c.current)} (training ${fmt(c.training)})`).join(', ')}; largest degradation ${worstC.metric} ${((worstC.degradation ?? 0) * 100).toFixed(1)}%`,
    }];
  }
}

function fmt(x: number | null): string {
  return x === null ? 'n/a' : Math.abs(x) >= 100 ? x.toFixed(1) : x.toPrecision(3);
}

export interface JoinOptions {
  /** Join key present in both tables (e.g. `id` or `ts`). */
  on: string;
  /** For time keys: match the nearest truth row within this many ms. Default 0 (exact). */
  toleranceMs?: number;
}

/**
 * Joins predictions with ground truth that arrived later, by id (exact) or by time (nearest within
 * a tolerance). Rows without truth are dropped. Truth columns win on name clashes except the key.
 *
 * @example
 * joinGroundTruth(predictions, labels, { on: 'ts', toleranceMs: 60_000 })
 */
export function joinGroundTruth(predictions: TableInput, truth: TableInput, options: JoinOptions): Frame {
  const p = toFrame(predictions);
  const t = toFrame(truth);
  const pk = p.columns.get(options.on);
  const tk = t.columns.get(options.on);
  if (!pk || !tk) throw new MillwrightError('BAD_INPUT', `join: key "${options.on}" must be a column of both tables`);
  const pairs: [number, number][] = [];
  const tol = options.toleranceMs ?? 0;
  if (tol > 0 && pk.kind === 'numeric' && tk.kind === 'numeric') {
    const order = Array.from({ length: t.rows }, (_, i) => i).filter((i) => Number.isFinite(tk.values[i]!)).sort((a, b) => tk.values[a]! - tk.values[b]!);
    const keys = order.map((i) => tk.values[i]!);
    for (let i = 0; i < p.rows; i++) {
      const k = pk.values[i]!;
      let lo = 0;
      let hi = keys.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (keys[mid]! < k) lo = mid + 1;
        else hi = mid;
      }
      let best = -1;
      for (const c of [lo - 1, lo]) if (c >= 0 && c < keys.length && Math.abs(keys[c]! - k) <= tol && (best < 0 || Math.abs(keys[c]! - k) < Math.abs(keys[best]! - k))) best = c;
      if (best >= 0) pairs.push([i, order[best]!]);
    }
  } else {
    const key = (c: typeof pk, i: number) => (c.kind === 'numeric' ? String(c.values[i]) : c.values[i]);
    const index = new Map<string, number>();
    for (let i = 0; i < t.rows; i++) {
      const k = key(tk, i);
      if (k !== null && k !== undefined) index.set(k, i);
    }
    for (let i = 0; i < p.rows; i++) {
      const j = index.get(key(pk, i) as string);
      if (j !== undefined) pairs.push([i, j]);
    }
  }
  const out: Record<string, ArrayLike<unknown>> = {};
  for (const [name, col] of p.columns) out[name] = pairs.map(([i]) => (col.kind === 'numeric' ? col.values[i]! : col.values[i]!));
  for (const [name, col] of t.columns) if (name !== options.on) out[name] = pairs.map(([, j]) => (col.kind === 'numeric' ? col.values[j]! : col.values[j]!));
  return toFrame(out);
}
