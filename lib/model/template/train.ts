/**
 * Training entry point of this model package: ridge-regularised least-squares linear
 * regression of `target` on numeric feature columns, with a seeded holdout split.
 *
 * Run it in the SageMaker layout (`<base>/input/data/train/*.csv|parquet` ->
 * `<base>/model/`):
 *
 * @example
 * // millwright train ./my-model --base /tmp/ml --channel train=./my-model/sample --hp l2=0.1
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HyperparameterSchema, Metrics, TrainFn } from '../contract.ts';
import { chooseFeatures, featureMatrix, toNumber } from './features.ts';

/** Typed hyperparameters, after the runner parsed the strings of hyperparameters.json. */
export interface Hyperparameters {
  target: string;
  features: string;
  l2: number;
  holdout_fraction: number;
  seed: number;
}

/** Declared schema: the runner parses, bounds-checks and defaults values against it. */
export const hyperparameters: HyperparameterSchema = {
  target: { type: 'string', description: 'column to predict', default: 'energy_kwh' },
  features: { type: 'string', description: 'comma-separated feature columns (empty: every numeric column but the target)', default: '' },
  l2: { type: 'number', description: 'ridge penalty on standardised coefficients', min: 0, default: 1e-6 },
  holdout_fraction: { type: 'number', description: 'share of rows held out for holdout metrics', min: 0, max: 0.5, default: 0.2 },
  seed: { type: 'integer', description: 'seed of the holdout shuffle', min: 0, default: 42 },
};

/** Channels this package needs (the runner fails clearly when one is missing). */
export const channels = ['train'] as const;

/** What predict.ts loads: everything needed to reproduce a prediction. */
export interface LinearModel {
  features: string[];
  means: number[];
  scales: number[];
  coefficients: number[];
  intercept: number;
}

export const train: TrainFn<Hyperparameters> = async ({ hyperparameters: hp, channels: ch, modelDir, log }) => {
  const table = await ch.train!.load();
  if (!table.columnNames().includes(hp.target)) {
    throw new Error(`target column "${hp.target}" is not in the training data (columns: ${table.columnNames().join(', ')}); set --hp target=<column>`);
  }
  const features = chooseFeatures(table, hp.target, hp.features);
  const X = featureMatrix(table, features);
  const yAll = (table.array(hp.target) as ArrayLike<unknown>);
  // Rows with any missing value cannot be fitted by least squares: drop them, and say so.
  const keep: number[] = [];
  for (let i = 0; i < X.length; i++) if (Number.isFinite(toNumber(yAll[i])) && X[i]!.every(Number.isFinite)) keep.push(i);
  if (keep.length < features.length + 2) throw new Error(`only ${keep.length} complete rows: too few to fit ${features.length} coefficients`);
  if (keep.length < X.length) log.warn('dropped rows with missing values', { dropped: X.length - keep.length });

  const order = shuffle(keep, hp.seed);
  const nHold = Math.floor(order.length * hp.holdout_fraction);
  const holdout = order.slice(0, nHold);
  const fit = order.slice(nHold);
  const model = fitRidge(fit.map((i) => X[i]!), fit.map((i) => toNumber(yAll[i])), features.map((f) => f.name), hp.l2);
  await writeFile(join(modelDir, 'coefficients.json'), `${JSON.stringify(model, null, 2)}\n`);
  log.info('fitted', { rows: fit.length, holdout: holdout.length, features: model.features });

  const score = (rows: number[]): Metrics => regressionMetrics(rows.map((i) => toNumber(yAll[i])), rows.map((i) => applyLinear(model, X[i]!)));
  return {
    task: 'regression',
    features,
    target: { name: hp.target, type: 'number' },
    metrics: { training: score(fit), ...(holdout.length > 1 ? { holdout: score(holdout) } : {}) },
    trainingTable: table.select([...features.map((f) => f.name), hp.target]),
  };
};

/** Ridge regression on standardised features (closed form, Cholesky); the intercept is not penalised. */
export function fitRidge(X: Float64Array[], y: number[], names: string[], l2: number): LinearModel {
  const n = X.length;
  const p = names.length;
  const means = names.map((_, j) => X.reduce((s, r) => s + r[j]!, 0) / n);
  const scales = names.map((_, j) => Math.sqrt(X.reduce((s, r) => s + (r[j]! - means[j]!) ** 2, 0) / n) || 1);
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  const A = Array.from({ length: p }, () => new Float64Array(p));
  const b = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const z = names.map((_, j) => (X[i]![j]! - means[j]!) / scales[j]!);
    for (let j = 0; j < p; j++) {
      b[j]! += z[j]! * (y[i]! - yMean);
      for (let k = 0; k <= j; k++) A[j]![k]! += z[j]! * z[k]!;
    }
  }
  for (let j = 0; j < p; j++) {
    A[j]![j]! += l2 * n + 1e-12 * n; // tiny jitter keeps Cholesky defined for constant columns
    for (let k = 0; k < j; k++) A[k]![j] = A[j]![k]!;
  }
  const beta = solveCholesky(A, b);
  return { features: names, means, scales, coefficients: Array.from(beta), intercept: yMean };
}

/** Prediction of a fitted linear model for one feature row. */
export function applyLinear(m: LinearModel, row: ArrayLike<number>): number {
  let y = m.intercept;
  for (let j = 0; j < m.features.length; j++) y += (m.coefficients[j]! * (row[j]! - m.means[j]!)) / m.scales[j]!;
  return y;
}

function solveCholesky(A: Float64Array[], b: Float64Array): Float64Array {
  const p = b.length;
  const L = Array.from({ length: p }, () => new Float64Array(p));
  for (let j = 0; j < p; j++) {
    let d = A[j]![j]!;
    for (let k = 0; k < j; k++) d -= L[j]![k]! ** 2;
    if (!(d > 0)) throw new Error('features are linearly dependent; drop a duplicate column or raise l2');
    L[j]![j] = Math.sqrt(d);
    for (let i = j + 1; i < p; i++) {
      let s = A[i]![j]!;
      for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
      L[i]![j] = s / L[j]![j]!;
    }
  }
  const z = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i]![k]! * z[k]!;
    z[i] = s / L[i]![i]!;
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = z[i]!;
    for (let k = i + 1; k < p; k++) s -= L[k]![i]! * x[k]!;
    x[i] = s / L[i]![i]!;
  }
  return x;
}

/** RMSE, MAE and R² of predictions against actuals. */
export function regressionMetrics(actual: number[], predicted: number[]): Metrics {
  const n = actual.length;
  const mean = actual.reduce((a, b) => a + b, 0) / n;
  let se = 0;
  let ae = 0;
  let st = 0;
  for (let i = 0; i < n; i++) {
    const e = actual[i]! - predicted[i]!;
    se += e * e;
    ae += Math.abs(e);
    st += (actual[i]! - mean) ** 2;
  }
  return { rmse: Math.sqrt(se / n), mae: ae / n, r2: st > 0 ? 1 - se / st : 0, rows: n };
}

/** Seeded Fisher–Yates shuffle (mulberry32), so the holdout split is reproducible. */
function shuffle(items: number[], seed: number): number[] {
  const out = items.slice();
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
