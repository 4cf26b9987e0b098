/**
 * Performance without labels: direct loss estimation (DLE) for regression and confidence-based
 * performance estimation (CBPE) for classification, per time chunk, the methods NannyML names
 * DLE and CBPE, implemented here.
 *
 * Both learn on a labelled reference set how wrong the model is where, then read that off the
 * unlabelled analysis rows. They see covariate shift (traffic moving to where the model is worse)
 * and cannot see a pure concept shift (the same inputs now meaning another outcome): that needs
 * ground truth, which the model-quality report uses once it arrives.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MillwrightError } from '../../lib/errors/index.ts';
import { fitForest, predictForest, type Forest } from '../../lib/algorithms/forest/forest.ts';
import { compileForest, predictCompiled, type CompiledForest } from '../../lib/algorithms/forest/compiled-forest.ts';
import type { Frame } from '../data.ts';
import type { CheckResult, Metric, MetricResult } from '../engine.ts';

export type EstimatedMetric = 'mae' | 'mse' | 'rmse' | 'accuracy' | 'precision' | 'recall' | 'f1';

export interface PerformanceEstimationOptions {
  task: 'regression' | 'classification';
  /** Time column (epoch ms, or Date-like numbers). Default `capturedAt`. */
  ts?: string;
  /** Chunk length in ms (a shift: 8 h, a day: 24 h). Default 1 h. */
  chunkMs?: number;
  /** Input features the loss model sees (regression). Default: every numeric column but ts, target and prediction. */
  features?: string[];
  /** Prediction column. Default `prediction`. */
  prediction?: string;
  /** Ground truth, needed in the reference; used in the analysis for the realised metric when present. Default `target`. */
  target?: string;
  /** Classification: probability of the positive class. Default `score`. */
  score?: string;
  /** Classification: the positive label. Default `1`. */
  positiveLabel?: string;
  /** Metric to estimate. Default `mae` (regression) / `accuracy` (classification). */
  metric?: EstimatedMetric;
  /** Width of the band, in standard errors (default 3). */
  sigmas?: number;
  /** Chunks with fewer rows are reported but not judged. Default 30. */
  minChunkRows?: number;
  /** Seed of the DLE forest. */
  seed?: number;
  /**
   * DLE: reuse the loss forests fitted on the same reference (default true). They depend only on
   * the reference rows, the features, the metric and the seed, so they are fitted once per
   * reference and kept in memory, keyed by a SHA-256 of exactly those inputs; the result is the
   * same as a fresh fit's. `false` always refits.
   */
  reuseFit?: boolean;
  /**
   * DLE: a directory to keep the fitted loss model in as well (`dle-<hash>.json`), for processes
   * that do not live from one run to the next (the server's one-shot report worker).
   */
  fitCacheDir?: string;
}

export interface EstimatedChunk {
  /** Chunk start (epoch ms). */
  start: number;
  end: number;
  rows: number;
  period: 'reference' | 'analysis';
  estimate: number | null;
  /** Sampling band of the estimate: estimate +/- sigmas standard errors. */
  lower: number | null;
  upper: number | null;
  /** The realised metric when the chunk has labels. */
  realised: number | null;
  /** Estimate outside the reference thresholds. */
  alert: boolean;
}

export interface PerformanceEstimationResult extends MetricResult {
  type: 'performance-estimation';
  method: 'DLE' | 'CBPE';
  metric: EstimatedMetric;
  /** Thresholds from the reference chunks' estimates: mean +/- sigmas standard deviations. */
  thresholds: { lower: number; upper: number };
  chunks: EstimatedChunk[];
  alerts: number;
}

function numCol(frame: Frame, name: string, what: string): Float64Array {
  const c = frame.columns.get(name);
  if (!c) throw new MillwrightError('BAD_INPUT', `performance estimation: ${what} column "${name}" not found (columns: ${frame.names.join(', ')})`);
  if (c.kind !== 'numeric') throw new MillwrightError('BAD_INPUT', `performance estimation: ${what} column "${name}" must be numeric`);
  return c.values;
}

function labelCol(frame: Frame, name: string): (string | null)[] | undefined {
  const c = frame.columns.get(name);
  if (!c) return undefined;
  return c.kind === 'categorical' ? c.values : Array.from(c.values, (v) => (Number.isFinite(v) ? String(v) : null));
}

function chunkIndex(ts: Float64Array, chunkMs: number): Map<number, number[]> {
  // Two passes: count the rows of each chunk, then fill arrays made at their final size (a day
  // of rows pushed one by one into growing arrays was mostly the garbage collector's copying).
  // Rows come in time order, so the last chunk is usually the one (no map lookup per row).
  const counts = new Map<number, number>();
  let lastKey = Number.NaN;
  let run = 0;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    if (!Number.isFinite(t)) continue;
    const k = Math.floor(t / chunkMs) * chunkMs;
    if (k !== lastKey) {
      if (run > 0) counts.set(lastKey, (counts.get(lastKey) ?? 0) + run);
      lastKey = k;
      run = 0;
    }
    run++;
  }
  if (run > 0) counts.set(lastKey, (counts.get(lastKey) ?? 0) + run);
  const out = new Map<number, number[]>();
  const filled = new Map<number, number>();
  for (const [k, c] of counts) {
    out.set(k, new Array<number>(c));
    filled.set(k, 0);
  }
  lastKey = Number.NaN;
  let last: number[] = [];
  let at = 0;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    if (!Number.isFinite(t)) continue;
    const k = Math.floor(t / chunkMs) * chunkMs;
    if (k !== lastKey) {
      if (!Number.isNaN(lastKey)) filled.set(lastKey, at);
      lastKey = k;
      last = out.get(k)!;
      at = filled.get(k)!;
    }
    last[at++] = i;
  }
  return new Map([...out].sort((a, b) => a[0] - b[0]));
}

function meanSd(xs: number[]): { mean: number; sd: number } {
  const n = xs.length;
  const mean = xs.reduce((s, x) => s + x, 0) / Math.max(1, n);
  const v = n > 1 ? xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, sd: Math.sqrt(v) };
}

/** Rows per block of {@link fillLossInputs} (1024 rows of 21 float32: 86 KB, within L2). */
const LOSS_INPUT_BLOCK = 1024;

/** The loss model's input columns: the features and the prediction. */
function lossColumns(frame: Frame, features: string[], prediction: string): Float64Array[] {
  return [...features, prediction].map((f) => numCol(frame, f, 'feature'));
}

/**
 * Rows `r0 .. r1` of the loss model's inputs into `X` (row-major float32 from `X[0]`; missing
 * values as 0). In blocks of rows, column by column within a block: each column is read in
 * order and the block's rows stay in cache while they are filled. Row by row, a day's 21
 * columns were 21 read streams at once; column by column over all rows, every write was a new
 * cache line.
 */
function fillLossInputs(cols: Float64Array[], r0: number, r1: number, X: Float32Array): void {
  const F = cols.length;
  for (let b0 = r0; b0 < r1; b0 += LOSS_INPUT_BLOCK) {
    const b1 = Math.min(r1, b0 + LOSS_INPUT_BLOCK);
    for (let f = 0; f < F; f++) {
      const c = cols[f]!;
      for (let r = b0, o = (b0 - r0) * F + f; r < b1; r++, o += F) {
        const v = c[r]!;
        X[o] = Number.isFinite(v) ? v : 0;
      }
    }
  }
}

/** Row-major float32 matrix of the loss model's inputs: the features and the prediction. */
function lossInputs(frame: Frame, features: string[], prediction: string): { X: Float32Array; n: number; F: number } {
  const cols = lossColumns(frame, features, prediction);
  const n = frame.rows;
  const F = cols.length;
  const X = new Float32Array(n * F);
  fillLossInputs(cols, 0, n, X);
  return { X, n, F };
}

/** Rows of the current data whose loss inputs are built and predicted at a time (16384 x 21 float32: 1.4 MB). */
const PREDICT_BLOCK = 16_384;

/**
 * The loss forest's estimate (floored at 0) for every row of `frame`, its inputs built block by
 * block into one reused buffer instead of a day-sized matrix (73 MB for 864,000 rows, every page
 * of it new to the process). Each row's prediction is the same sum over the trees in the same
 * order whatever the block, so the values are those of one call on the whole matrix; a last
 * block shorter than 8 rows is merged into the one before (`predictCompiled` takes another
 * path for fewer than 8 rows).
 */
function predictLoss(forest: CompiledForest, frame: Frame, features: string[], prediction: string): Float64Array {
  const cols = lossColumns(frame, features, prediction);
  const n = frame.rows;
  const F = cols.length;
  const out = new Float64Array(n);
  const X = new Float32Array(Math.min(n, 2 * PREDICT_BLOCK) * F);
  for (let r0 = 0; r0 < n; ) {
    const r1 = n - r0 < PREDICT_BLOCK + 8 ? n : r0 + PREDICT_BLOCK;
    fillLossInputs(cols, r0, r1, X);
    predictCompiled(forest, X, r1 - r0, out.subarray(r0, r1));
    r0 = r1;
  }
  for (let i = 0; i < n; i++) out[i] = Math.max(0, out[i]!);
  return out;
}

function toColumnMajor(X: Float32Array, rows: number[], F: number): Float32Array {
  const n = rows.length;
  const out = new Float32Array(n * F);
  for (let i = 0; i < n; i++) for (let f = 0; f < F; f++) out[f * n + i] = X[rows[i]! * F + f]!;
  return out;
}

function subRows(X: Float32Array, rows: number[], F: number): Float32Array {
  const out = new Float32Array(rows.length * F);
  for (let i = 0; i < rows.length; i++) out.set(X.subarray(rows[i]! * F, rows[i]! * F + F), i * F);
  return out;
}

function fitLoss(X: Float32Array, rows: number[], F: number, loss: Float64Array, seed: number): Forest {
  const y = Float64Array.from(rows, (r) => loss[r]!);
  return fitForest(toColumnMajor(X, rows, F), rows.length, F, { kind: 'regression', y }, {
    nEstimators: 30, maxDepth: 10, minSamplesLeaf: 20, maxFeatures: F, maxSamples: 1, bins: 64, seed,
  });
}

/**
 * Isotonic calibration (pool adjacent violators) of scores against 0/1 outcomes: a step function
 * that maps a raw score to the observed positive rate of its neighbourhood.
 */
export function isotonicCalibration(score: ArrayLike<number>, positive: ArrayLike<boolean>): (s: number) => number {
  const idx = Array.from({ length: score.length }, (_, i) => i).filter((i) => Number.isFinite(score[i]!)).sort((a, b) => score[a]! - score[b]!);
  if (idx.length === 0) throw new MillwrightError('BAD_INPUT', 'CBPE: the reference has no finite scores to calibrate');
  const xs: number[] = [];
  const ys: number[] = [];
  const ws: number[] = [];
  for (const i of idx) {
    let y = positive[i] ? 1 : 0;
    let w = 1;
    let x = score[i]!;
    while (ys.length && ys[ys.length - 1]! >= y) {
      const pw = ws.pop()!;
      const py = ys.pop()!;
      xs.pop();
      y = (py * pw + y * w) / (pw + w);
      w += pw;
      x = score[i]!;
    }
    // Equal-valued blocks merge too, so each block's upper score is the next block's lower bound.
    xs.push(x);
    ys.push(y);
    ws.push(w);
  }
  return (s: number) => {
    if (!Number.isFinite(s)) return Number.NaN;
    let lo = 0;
    let hi = xs.length - 1;
    if (s >= xs[hi]!) return ys[hi]!;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    return ys[lo]!;
  };
}

function classCounts(pPos: ArrayLike<number>, predPos: ArrayLike<boolean>, rows: number[]): { tp: number; fp: number; fn: number; tn: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const r of rows) {
    const p = pPos[r]!;
    if (!Number.isFinite(p)) continue;
    if (predPos[r]) {
      tp += p;
      fp += 1 - p;
    } else {
      fn += p;
      tn += 1 - p;
    }
  }
  return { tp, fp, fn, tn };
}

function classMetric(m: EstimatedMetric, c: { tp: number; fp: number; fn: number; tn: number }): number | null {
  const n = c.tp + c.fp + c.fn + c.tn;
  if (n === 0) return null;
  switch (m) {
    case 'accuracy': return (c.tp + c.tn) / n;
    case 'precision': return c.tp + c.fp > 0 ? c.tp / (c.tp + c.fp) : null;
    case 'recall': return c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : null;
    case 'f1': return 2 * c.tp + c.fp + c.fn > 0 ? (2 * c.tp) / (2 * c.tp + c.fp + c.fn) : null;
    default: throw new MillwrightError('BAD_INPUT', `CBPE estimates accuracy, precision, recall or f1, not ${m}`);
  }
}

function regMetric(m: EstimatedMetric, loss: ArrayLike<number>, rows: number[]): number | null {
  let s = 0;
  let n = 0;
  for (const r of rows) {
    const v = loss[r]!;
    if (!Number.isFinite(v)) continue;
    s += v;
    n++;
  }
  if (n === 0) return null;
  return m === 'rmse' ? Math.sqrt(Math.max(0, s / n)) : s / n;
}

/** The four chunk measures and the standard error of a chunk of n rows, for one method. */
interface Estimator {
  refEst: (rows: number[]) => number | null;
  curEst: (rows: number[]) => number | null;
  refReal: (rows: number[]) => number | null;
  curReal?: (rows: number[]) => number | null;
  se: (n: number) => number;
}

interface Setup {
  o: PerformanceEstimationOptions;
  metric: EstimatedMetric;
  tsName: string;
  target: string;
  prediction: string;
  minRows: number;
  refChunks: Map<number, number[]>;
}

/** What DLE learns from the reference alone: out-of-fold loss estimates and the full-data loss forest. */
interface DleFit {
  refPred: Float64Array;
  full: Forest;
  /** `full` in the serving layout (bit-identical predictions, several times faster on a day of rows); built on first use. */
  compiled?: CompiledForest;
}

function fitDle(ref: { X: Float32Array; n: number; F: number }, ok: number[], refLoss: Float64Array, seed: number): DleFit {
  // Out of fold for the reference, so its thresholds are not flattered by in-sample fit.
  const refPred = new Float64Array(ref.n).fill(Number.NaN);
  const folds = [ok.filter((_, k) => k % 2 === 0), ok.filter((_, k) => k % 2 === 1)];
  for (let k = 0; k < 2; k++) {
    const f = fitLoss(ref.X, folds[1 - k]!, ref.F, refLoss, seed + k);
    const p = predictForest(f, subRows(ref.X, folds[k]!, ref.F), folds[k]!.length);
    folds[k]!.forEach((r, i) => (refPred[r] = Math.max(0, p[i]!)));
  }
  return { refPred, full: fitLoss(ref.X, ok, ref.F, refLoss, seed + 2) };
}

/** Fitted loss models by reference hash (a few references at most: a server serves one model). */
const dleFits = new Map<string, DleFit>();
const DLE_FITS_KEPT = 4;

/** How often the DLE fit was taken from the cache (memory or disk) or fitted; for tests and benchmarks. */
export const dleFitStats = { memory: 0, disk: 0, fitted: 0 };

/** Forgets the DLE fits kept in memory (the files in `fitCacheDir` stay). */
export function clearDleFits(): void {
  dleFits.clear();
}

/** Version of the fitting code and of the file layout: a change to either must change it. */
const DLE_FIT_VERSION = 'dle-1';

function dleKey(ref: { X: Float32Array; n: number; F: number }, refLoss: Float64Array, seed: number, meta: { features: string[]; prediction: string; metric: string }): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ v: DLE_FIT_VERSION, ...meta, seed, n: ref.n, F: ref.F }));
  h.update(new Uint8Array(ref.X.buffer, ref.X.byteOffset, ref.X.byteLength));
  h.update(new Uint8Array(refLoss.buffer, refLoss.byteOffset, refLoss.byteLength));
  return h.digest('hex');
}

function fitToJson(fit: DleFit): string {
  return JSON.stringify({
    v: DLE_FIT_VERSION,
    refPred: Array.from(fit.refPred, (v) => (Number.isNaN(v) ? null : v)),
    full: { ...fit.full, trees: fit.full.trees.map((t) => ({ feature: Array.from(t.feature), threshold: Array.from(t.threshold), left: Array.from(t.left), right: Array.from(t.right), value: Array.from(t.value) })) },
  });
}

function fitFromJson(text: string, n: number): DleFit | undefined {
  const d = JSON.parse(text) as { v: string; refPred: (number | null)[]; full: Omit<Forest, 'trees'> & { trees: Record<'feature' | 'threshold' | 'left' | 'right' | 'value', number[]>[] } };
  if (d.v !== DLE_FIT_VERSION || d.refPred.length !== n) return undefined;
  return {
    refPred: Float64Array.from(d.refPred, (v) => (v === null ? Number.NaN : v)),
    full: { ...d.full, trees: d.full.trees.map((t) => ({ feature: Int32Array.from(t.feature), threshold: Float32Array.from(t.threshold), left: Int32Array.from(t.left), right: Int32Array.from(t.right), value: Float32Array.from(t.value) })) },
  };
}

function cachedDle(ref: { X: Float32Array; n: number; F: number }, ok: number[], refLoss: Float64Array, seed: number, meta: { features: string[]; prediction: string; metric: string }, dir: string | undefined): DleFit {
  const key = dleKey(ref, refLoss, seed, meta);
  const kept = dleFits.get(key);
  if (kept) {
    dleFitStats.memory++;
    return kept;
  }
  const file = dir === undefined ? undefined : join(dir, `dle-${key}.json`);
  let fit: DleFit | undefined;
  if (file) {
    try {
      fit = fitFromJson(readFileSync(file, 'utf8'), ref.n);
    } catch {
      fit = undefined; // absent or unreadable: fit again (and rewrite it)
    }
    if (fit) dleFitStats.disk++;
  }
  if (!fit) {
    fit = fitDle(ref, ok, refLoss, seed);
    dleFitStats.fitted++;
    if (file) {
      mkdirSync(dir!, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, fitToJson(fit));
      renameSync(tmp, file);
    }
  }
  if (dleFits.size >= DLE_FITS_KEPT) dleFits.delete(dleFits.keys().next().value!);
  dleFits.set(key, fit);
  return fit;
}

/** DLE: a forest learns each reference row's loss from its features and prediction (out of fold for the reference). */
function dle(current: Frame, reference: Frame, { o, metric, tsName, target, prediction }: Setup): Estimator {
  let curReal: Estimator['curReal'];
  if (!['mae', 'mse', 'rmse'].includes(metric)) throw new MillwrightError('BAD_INPUT', `DLE estimates mae, mse or rmse, not ${metric}`);
  const features = o.features ?? reference.names.filter((n) => n !== tsName && n !== target && n !== prediction && reference.columns.get(n)!.kind === 'numeric' && current.columns.get(n)?.kind === 'numeric');
  const lossOf = (y: Float64Array, p: Float64Array) => Float64Array.from(y, (a, i) => (metric === 'mae' ? Math.abs(a - p[i]!) : (a - p[i]!) ** 2));
  const refLoss = lossOf(numCol(reference, target, 'target'), numCol(reference, prediction, 'prediction'));
  const ref = lossInputs(reference, features, prediction);
  const ok = Array.from({ length: ref.n }, (_, i) => i).filter((i) => Number.isFinite(refLoss[i]!));
  if (ok.length < 20) throw new MillwrightError('BAD_INPUT', `DLE: the reference has ${ok.length} labelled rows; at least 20 are needed to learn the loss`);
  const seed = o.seed ?? 7;
  const fit = o.reuseFit === false ? fitDle(ref, ok, refLoss, seed) : cachedDle(ref, ok, refLoss, seed, { features, prediction, metric }, o.fitCacheDir);
  const { refPred, full } = fit;
  const curPred = predictLoss((fit.compiled ??= compileForest(full)), current, features, prediction);
  const refEst = (rows: number[]) => regMetric(metric, refPred, rows);
  const curEst = (rows: number[]) => regMetric(metric, curPred, rows);
  const refReal = (rows: number[]) => regMetric(metric, refLoss, rows);
  const ct = current.columns.get(target);
  if (ct?.kind === 'numeric') {
    const curLoss = lossOf(ct.values, numCol(current, prediction, 'prediction'));
    curReal = (rows) => regMetric(metric, curLoss, rows);
  }
  // The residual spread the loss model cannot explain sets the band: sd of (loss - estimate).
  const resid = ok.map((r) => refLoss[r]! - refPred[r]!).filter(Number.isFinite);
  const { sd } = meanSd(resid);
  const meanLoss = meanSd(ok.map((r) => refLoss[r]!)).mean;
  const se = (n: number) => (metric === 'rmse' ? sd / Math.sqrt(n) / (2 * Math.sqrt(Math.max(meanLoss, 1e-300))) : sd / Math.sqrt(n));
  return { refEst, curEst, refReal, curReal, se };
}

/** CBPE: isotonic-calibrated probabilities give each chunk's expected confusion matrix. */
function cbpe(current: Frame, reference: Frame, { o, metric, target, prediction, minRows, refChunks }: Setup): Estimator {
  let curReal: Estimator['curReal'];
  if (!['accuracy', 'precision', 'recall', 'f1'].includes(metric)) throw new MillwrightError('BAD_INPUT', `CBPE estimates accuracy, precision, recall or f1, not ${metric}`);
  const pos = o.positiveLabel ?? '1';
  const scoreName = o.score ?? 'score';
  const refY = labelCol(reference, target);
  if (!refY) throw new MillwrightError('BAD_INPUT', `CBPE: reference target column "${target}" not found`);
  const refPredL = labelCol(reference, prediction);
  const curPredL = labelCol(current, prediction);
  if (!refPredL || !curPredL) throw new MillwrightError('BAD_INPUT', `CBPE: prediction column "${prediction}" must be in both tables`);
  const refScore = numCol(reference, scoreName, 'score');
  const curScore = numCol(current, scoreName, 'score');
  const refPos = refY.map((v) => v === pos);
  const calibrate = isotonicCalibration(refScore, refPos);
  const refP = Float64Array.from(refScore, (s, i) => (refY[i] === null ? Number.NaN : calibrate(s)));
  const curP = Float64Array.from(curScore, calibrate);
  const refPredPos = refPredL.map((v) => v === pos);
  const curPredPos = curPredL.map((v) => v === pos);
  const refEst = (rows: number[]) => classMetric(metric, classCounts(refP, refPredPos, rows));
  const curEst = (rows: number[]) => classMetric(metric, classCounts(curP, curPredPos, rows));
  const realCounts = (y: (string | null)[], pp: boolean[], rows: number[]) => {
    const c = { tp: 0, fp: 0, fn: 0, tn: 0 };
    for (const r of rows) {
      if (y[r] === null || y[r] === undefined) continue;
      const a = y[r] === pos;
      if (pp[r]) c[a ? 'tp' : 'fp']++;
      else c[a ? 'fn' : 'tn']++;
    }
    return c;
  };
  const refReal = (rows: number[]) => classMetric(metric, realCounts(refY, refPredPos, rows));
  const curY = labelCol(current, target);
  if (curY) curReal = (rows) => classMetric(metric, realCounts(curY, curPredPos, rows));
  // Standard error of a chunk of n rows: the reference chunks' realised spread scaled by sqrt(size).
  const refVals = [...refChunks.values()].filter((r) => r.length >= minRows).map((r) => ({ v: refReal(r), n: r.length })).filter((x) => x.v !== null);
  const all = [...refChunks.values()].flat();
  const p0 = refReal(all) ?? 0.5;
  const unit = refVals.length >= 3 ? meanSd(refVals.map((x) => x.v!)).sd * Math.sqrt(refVals.reduce((s, x) => s + x.n, 0) / refVals.length) : Math.sqrt(p0 * (1 - p0));
  const se = (n: number) => unit / Math.sqrt(n);
  return { refEst, curEst, refReal, curReal, se };
}

/**
 * Estimated model performance per time chunk without labels: DLE (regression; a forest trained
 * on the reference predicts each row's absolute or squared error from its features and
 * prediction) or CBPE (classification; isotonic-calibrated probabilities give the expected
 * confusion matrix). Each chunk gets a band (estimate +/- 3 standard errors of a chunk of its
 * size, from the reference rows) and an alert when the estimate leaves the reference thresholds
 * (mean +/- 3 standard deviations of the reference chunks' out-of-fold estimates).
 *
 * @example
 * import { PerformanceEstimationMetric, runReport } from 'millwright/reports';
 * const metric = new PerformanceEstimationMetric({ task: 'regression', ts: 'capturedAt', chunkMs: 3_600_000, features: ['load', 'speed'] });
 * const result = metric.compute(captured, reference); // reference has `target`
 */
export class PerformanceEstimationMetric implements Metric<PerformanceEstimationResult> {
  readonly type = 'performance-estimation';
  constructor(readonly options: PerformanceEstimationOptions) {}

  compute(current: Frame, reference?: Frame): PerformanceEstimationResult {
    if (!reference) throw new MillwrightError('BAD_INPUT', 'performance estimation needs a labelled reference table (the rows the model was validated on, with their targets)');
    const o = this.options;
    const metric = o.metric ?? (o.task === 'regression' ? 'mae' : 'accuracy');
    const tsName = o.ts ?? 'capturedAt';
    const chunkMs = o.chunkMs ?? 3_600_000;
    if (!(chunkMs > 0)) throw new MillwrightError('BAD_INPUT', `performance estimation: chunkMs must be > 0 (got ${chunkMs})`);
    const sigmas = o.sigmas ?? 3;
    const minRows = o.minChunkRows ?? 30;
    const target = o.target ?? 'target';
    const prediction = o.prediction ?? 'prediction';
    const refTs = numCol(reference, tsName, 'time');
    const curTs = numCol(current, tsName, 'time');
    const refChunks = chunkIndex(refTs, chunkMs);
    const curChunks = chunkIndex(curTs, chunkMs);
    const setup: Setup = { o, metric, tsName, target, prediction, minRows, refChunks };
    const { refEst, curEst, refReal, curReal, se } = o.task === 'regression' ? dle(current, reference, setup) : cbpe(current, reference, setup);
    const refEstimates = [...refChunks.values()].filter((r) => r.length >= minRows).map((r) => refEst(r)).filter((v): v is number => v !== null);
    if (refEstimates.length < 2) throw new MillwrightError('BAD_INPUT', `performance estimation: the reference has ${refEstimates.length} chunks of at least ${minRows} rows; at least 2 are needed for thresholds (use a shorter chunkMs)`);
    const { mean, sd } = meanSd(refEstimates);
    const thresholds = { lower: mean - sigmas * sd, upper: mean + sigmas * sd };
    const chunks: EstimatedChunk[] = [];
    const add = (period: 'reference' | 'analysis', start: number, rows: number[], est: (r: number[]) => number | null, real?: (r: number[]) => number | null) => {
      const estimate = est(rows);
      const band = estimate !== null ? sigmas * se(rows.length) : null;
      const judged = estimate !== null && rows.length >= minRows;
      chunks.push({
        start, end: start + chunkMs, rows: rows.length, period, estimate,
        lower: band === null ? null : estimate! - band, upper: band === null ? null : estimate! + band,
        realised: real ? real(rows) : null,
        alert: period === 'analysis' && judged && (estimate! < thresholds.lower || estimate! > thresholds.upper),
      });
    };
    for (const [start, rows] of refChunks) add('reference', start, rows, refEst, refReal);
    for (const [start, rows] of curChunks) add('analysis', start, rows, curEst, curReal);
    return {
      type: 'performance-estimation', title: `Estimated ${metric} (${o.task === 'regression' ? 'DLE' : 'CBPE'})`,
      method: o.task === 'regression' ? 'DLE' : 'CBPE', metric, thresholds, chunks, alerts: chunks.filter((c) => c.alert).length,
    };
  }

  checks(r: PerformanceEstimationResult): CheckResult[] {
    const analysis = r.chunks.filter((c) => c.period === 'analysis');
    const bad = analysis.filter((c) => c.alert);
    return [{
      name: `estimated ${r.metric}`,
      status: bad.length ? 'fail' : 'pass',
      reason: bad.length
        ? `${r.method} estimate outside the reference band [${r.thresholds.lower.toPrecision(4)}, ${r.thresholds.upper.toPrecision(4)}] in ${bad.length} of ${analysis.length} chunks, first at ${new Date(bad[0]!.start).toISOString()}`
        : `${r.method} estimate inside the reference band [${r.thresholds.lower.toPrecision(4)}, ${r.thresholds.upper.toPrecision(4)}] in all ${analysis.length} chunks`,
    }];
  }
}
