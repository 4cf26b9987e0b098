/**
 * SageMaker Model Monitor's model-quality statistics: regression mae, mse, rmse, r2 and binary
 * classification confusion matrix, precision, recall, F1, accuracy and AUC, each with a standard
 * deviation from the bootstrap when there are at least 200 pairs (null below, as SageMaker leaves
 * it out), and the classification metrics of the best constant classifier beside them.
 */
import { MillwrightError } from '../../lib/errors/index.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';

/** One metric as SageMaker writes it. */
export interface QualityValue {
  value: number | null;
  standard_deviation: number | null;
}

export interface RegressionStatistics {
  mae: QualityValue;
  mse: QualityValue;
  rmse: QualityValue;
  r2: QualityValue;
}

export interface BinaryClassificationStatistics {
  confusion_matrix: Record<string, Record<string, number>>;
  accuracy: QualityValue;
  precision: QualityValue;
  recall: QualityValue;
  f1: QualityValue;
  auc: QualityValue;
  accuracy_best_constant_classifier: QualityValue;
  precision_best_constant_classifier: QualityValue;
  recall_best_constant_classifier: QualityValue;
  f1_best_constant_classifier: QualityValue;
  auc_best_constant_classifier: QualityValue;
}

/** Pairs below this many get no standard deviation. */
export const BOOTSTRAP_MIN_PAIRS = 200;
/** Bootstrap resamples per metric. */
export const BOOTSTRAP_RESAMPLES = 100;

function sd(xs: number[]): number | null {
  const f = xs.filter(Number.isFinite);
  if (f.length < 2) return null;
  const m = f.reduce((s, x) => s + x, 0) / f.length;
  return Math.sqrt(f.reduce((s, x) => s + (x - m) ** 2, 0) / (f.length - 1));
}

/** The same resamples for every metric of one table (seeded), so a rerun gives the same numbers. */
function resamples(n: number, seed: number): Int32Array[] {
  if (n < BOOTSTRAP_MIN_PAIRS) return [];
  const rng = mulberry32(seed);
  return Array.from({ length: BOOTSTRAP_RESAMPLES }, () => Int32Array.from({ length: n }, () => Math.floor(rng() * n)));
}

function regression(a: Float64Array, p: Float64Array, idx: ArrayLike<number>): [number, number, number, number] {
  const n = idx.length;
  let sa = 0;
  let sae = 0;
  let sse = 0;
  for (let k = 0; k < n; k++) {
    const i = idx[k]!;
    sa += a[i]!;
    sae += Math.abs(a[i]! - p[i]!);
    sse += (a[i]! - p[i]!) ** 2;
  }
  const mean = sa / n;
  let sst = 0;
  for (let k = 0; k < n; k++) sst += (a[idx[k]!]! - mean) ** 2;
  return [sae / n, sse / n, Math.sqrt(sse / n), sst > 0 ? 1 - sse / sst : Number.NaN];
}

/**
 * Regression statistics on the finite (actual, predicted) pairs.
 *
 * @example
 * import { regressionStatistics } from 'millwright/reports';
 * regressionStatistics([1, 2, 3, 4], [1, 2, 3, 8]).mse; // { value: 4, standard_deviation: null }
 */
export function regressionStatistics(actual: ArrayLike<number>, predicted: ArrayLike<number>, seed = 1): RegressionStatistics {
  const a: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < actual.length; i++) if (Number.isFinite(actual[i]!) && Number.isFinite(predicted[i]!)) {
    a.push(actual[i]!);
    p.push(predicted[i]!);
  }
  if (a.length === 0) throw new MillwrightError('BAD_INPUT', 'model quality: no row has both a finite actual and a finite prediction');
  const A = Float64Array.from(a);
  const P = Float64Array.from(p);
  const all = regression(A, P, Array.from({ length: a.length }, (_, i) => i));
  const boot = resamples(a.length, seed).map((idx) => regression(A, P, idx));
  const q = (k: number): QualityValue => ({ value: Number.isFinite(all[k]!) ? all[k]! : null, standard_deviation: boot.length ? sd(boot.map((b) => b[k]!)) : null });
  return { mae: q(0), mse: q(1), rmse: q(2), r2: q(3) };
}

function binary(y: Uint8Array, yhat: Uint8Array, score: Float64Array | undefined, idx: ArrayLike<number>): [number, number | null, number | null, number | null, number | null, number, number, number, number] {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    if (yhat[i]) {
      if (y[i]) tp++;
      else fp++;
    } else if (y[i]) fn++;
    else tn++;
  }
  const n = idx.length;
  const precision = tp + fp ? tp / (tp + fp) : null;
  const recall = tp + fn ? tp / (tp + fn) : null;
  const f1 = 2 * tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : null;
  let auc: number | null = null;
  if (score) {
    const pos = Array.from(idx, (i) => y[i] === 1);
    const sc = Array.from(idx, (i) => score[i]!);
    auc = rocAuc(pos, sc);
  }
  return [(tp + tn) / n, precision, recall, f1, auc, tp, fp, fn, tn];
}

/**
 * Binary classification statistics of `positive` against every other label, with the best
 * constant classifier: accuracy of always answering the majority class; precision, recall and
 * F1 of always answering `positive` (the constant that maximises F1); AUC 0.5.
 *
 * @example
 * import { binaryClassificationStatistics } from 'millwright/reports';
 * binaryClassificationStatistics(['1', '0', '1'], ['1', '1', '1'], '1').precision.value; // 0.666...
 */
export function binaryClassificationStatistics(actual: ArrayLike<string | null>, predicted: ArrayLike<string | null>, positive: string, score?: ArrayLike<number>, seed = 1): BinaryClassificationStatistics {
  const keep: number[] = [];
  for (let i = 0; i < actual.length; i++) if (actual[i] !== null && actual[i] !== undefined && predicted[i] !== null && predicted[i] !== undefined) keep.push(i);
  if (keep.length === 0) throw new MillwrightError('BAD_INPUT', 'model quality: no row has both a label and a prediction');
  const y = Uint8Array.from(keep, (i) => (actual[i] === positive ? 1 : 0));
  const yhat = Uint8Array.from(keep, (i) => (predicted[i] === positive ? 1 : 0));
  const s = score ? Float64Array.from(keep, (i) => score[i]!) : undefined;
  const all = binary(y, yhat, s, Array.from({ length: keep.length }, (_, i) => i));
  const boot = resamples(keep.length, seed).map((idx) => binary(y, yhat, s, idx));
  const q = (k: number): QualityValue => ({ value: all[k] as number | null, standard_deviation: boot.length ? sd(boot.map((b) => b[k] ?? Number.NaN) as number[]) : null });
  const n = keep.length;
  const prevalence = y.reduce((a, b) => a + b, 0) / n;
  const c = (v: number | null): QualityValue => ({ value: v, standard_deviation: null });
  const labels = [...new Set(keep.flatMap((i) => [actual[i]!, predicted[i]!]))].sort();
  const confusion: Record<string, Record<string, number>> = {};
  for (const a of labels) confusion[a] = Object.fromEntries(labels.map((p) => [p, 0]));
  for (const i of keep) confusion[actual[i]!]![predicted[i]!]!++;
  return {
    confusion_matrix: confusion,
    accuracy: q(0), precision: q(1), recall: q(2), f1: q(3), auc: score ? q(4) : c(null),
    accuracy_best_constant_classifier: c(Math.max(prevalence, 1 - prevalence)),
    precision_best_constant_classifier: c(prevalence),
    recall_best_constant_classifier: c(prevalence > 0 ? 1 : null),
    f1_best_constant_classifier: c(prevalence > 0 ? (2 * prevalence) / (1 + prevalence) : null),
    auc_best_constant_classifier: c(score ? 0.5 : null),
  };
}

/**
 * ROC AUC by the rank-sum (Mann-Whitney) formula, ties averaged.
 *
 * @example
 * rocAuc([true, false, true, false], [0.9, 0.1, 0.4, 0.6]); // 0.75
 */
export function rocAuc(positive: ArrayLike<boolean>, score: ArrayLike<number>): number | null {
  const idx: number[] = [];
  for (let i = 0; i < score.length; i++) if (Number.isFinite(score[i]!)) idx.push(i);
  idx.sort((a, b) => score[a]! - score[b]!);
  let rankSum = 0;
  let np = 0;
  for (let k = 0; k < idx.length; ) {
    let e = k;
    while (e + 1 < idx.length && score[idx[e + 1]!] === score[idx[k]!]) e++;
    const rank = (k + e) / 2 + 1;
    for (let t = k; t <= e; t++) if (positive[idx[t]!]) {
      rankSum += rank;
      np++;
    }
    k = e + 1;
  }
  const nn = idx.length - np;
  if (np === 0 || nn === 0) return null;
  return (rankSum - (np * (np + 1)) / 2) / (np * nn);
}
