/**
 * Which predictor serves a forest model: the compiled JS forest, or onnxruntime on the model's
 * own `model.onnx` export. Decided once at load by a short calibration (the same realistic rows
 * through both, best of a few runs) because the answer depends on the forest's shape and the
 * machine: onnxruntime walks every tree per row and loses on big forests, and wins nowhere we
 * measured, but a user's forest or CPU may differ. ONNX is kept only if it agrees with JS to
 * float32 rounding on the calibration rows.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { FeatureSummary } from '../../model/contract.ts';
import { SUMMARY_QUANTILES } from '../../model/feature-summary.ts';
import { openOnnx } from '../onnx/session.ts';
import { predictCompiled, type CompiledForest } from './compiled-forest.ts';
import { mulberry32 } from './rng.ts';

/** Rows per calibration run: a typical batch, large enough that per-call overhead shows as it would in serving. */
export const CALIBRATION_ROWS = 1000;

/** What the load-time calibration measured and chose (logged by the server as `model engine`). */
export interface ForestEngineChoice {
  engine: 'js' | 'onnx';
  /** Rows per second of each path on the calibration rows (best of the runs). */
  jsRowsPerSecond: number;
  onnxRowsPerSecond?: number;
  rows: number;
  /** Largest |ONNX - JS| over the calibration outputs. */
  maxDifference?: number;
  reason: string;
}

/** The ONNX side of a forest model, when it serves. */
export interface ForestOnnx {
  session: ort.InferenceSession;
  input: string;
  /** `variable` (regression) or `probabilities` (classification). */
  output: string;
}

/**
 * Realistic input rows for calibration: each feature drawn from the training data's summary
 * (piecewise-linear between its quantiles), or, without one, near the forest's own thresholds.
 *
 * @example
 * import { calibrationRows, compileForest } from 'millwright';
 * const X = calibrationRows(compileForest(forest), featureNames, manifest.baseline, 1000);
 */
export function calibrationRows(forest: CompiledForest, features: readonly string[], baseline: readonly FeatureSummary[] | undefined, n: number, seed = 1): Float32Array {
  const F = forest.nFeatures;
  const rng = mulberry32(seed);
  const X = new Float32Array(n * F);
  const thresholds = thresholdsByFeature(forest);
  for (let f = 0; f < F; f++) {
    const s = baseline?.find((b) => b.name === features[f])?.numeric;
    const knots = s ? [[0, s.min], ...Object.entries(s.quantiles).map(([k, v]) => [SUMMARY_QUANTILES[k] ?? Number.NaN, v] as [number, number]), [1, s.max]].sort((a, b) => a[0]! - b[0]!) : undefined;
    const th = thresholds[f]!;
    for (let r = 0; r < n; r++) {
      const u = rng();
      let v: number;
      if (knots && knots.every((k) => Number.isFinite(k[0]) && Number.isFinite(k[1]))) {
        let j = 1;
        while (j < knots.length - 1 && knots[j]![0]! < u) j++;
        const [p0, v0] = knots[j - 1]! as [number, number];
        const [p1, v1] = knots[j]! as [number, number];
        v = p1 > p0 ? v0 + ((u - p0) / (p1 - p0)) * (v1 - v0) : v1;
      } else v = th.length > 0 ? th[Math.floor(u * th.length)]! * (1 + (rng() - 0.5) * 1e-3) : 0;
      X[r * F + f] = v;
    }
  }
  return X;
}

function thresholdsByFeature(forest: CompiledForest): number[][] {
  const out: number[][] = Array.from({ length: forest.nFeatures }, () => []);
  const L = forest.layout;
  const limit = Math.min(L.feature.length, 20_000);
  for (let i = 0; i < limit; i++) {
    if (L.kind === 'sparse' && L.split[i] === 0) continue;
    out[L.feature[i]!]!.push(L.threshold[i]!);
  }
  return out;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/** Runs the ONNX forest on a row-major float32 matrix: `nOutputs` float64 values per row. */
export async function predictOnnxForest(onnx: ForestOnnx, X: Float32Array, n: number, nFeatures: number): Promise<Float64Array> {
  const result = await onnx.session.run({ [onnx.input]: new ort.Tensor('float32', X.length === n * nFeatures ? X : X.subarray(0, n * nFeatures), [n, nFeatures]) });
  return Float64Array.from(result[onnx.output]!.data as Float32Array);
}

async function bestRate(rows: number, runs: number, fn: () => unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return rows / (Math.max(best, 1e-3) / 1000);
}

/**
 * Times the compiled JS forest and, when `<modelDir>/model.onnx` exists, onnxruntime on the same
 * calibration rows, and returns the faster (ONNX only when it also agrees to float32 rounding).
 *
 * @example
 * import { chooseForestEngine, compileForest } from 'millwright';
 * const { choice } = await chooseForestEngine(compileForest(forest), '/opt/ml/model', featureNames, manifest.baseline);
 * console.log(choice.engine, choice.jsRowsPerSecond, choice.onnxRowsPerSecond);
 */
export async function chooseForestEngine(
  forest: CompiledForest,
  modelDir: string,
  features: readonly string[],
  baseline: readonly FeatureSummary[] | undefined,
): Promise<{ choice: ForestEngineChoice; onnx?: ForestOnnx }> {
  const n = CALIBRATION_ROWS;
  const X = calibrationRows(forest, features, baseline, n);
  const js = predictCompiled(forest, X, n);
  const jsRate = await bestRate(n, 5, () => predictCompiled(forest, X, n));
  const file = join(modelDir, 'model.onnx');
  if (!(await exists(file))) return { choice: { engine: 'js', jsRowsPerSecond: jsRate, rows: n, reason: 'no model.onnx' } };
  const { session, info } = await openOnnx(file, features);
  const output = forest.kind === 'classification' ? 'probabilities' : 'variable';
  if (info.inputMode.kind !== 'matrix' || info.inputMode.type !== 'float32' || !info.outputs.includes(output)) {
    await session.release();
    return { choice: { engine: 'js', jsRowsPerSecond: jsRate, rows: n, reason: 'model.onnx is not a millwright forest export' } };
  }
  const onnx: ForestOnnx = { session, input: info.inputMode.input, output };
  const o = await predictOnnxForest(onnx, X, n, forest.nFeatures);
  let maxDifference = 0;
  let agrees = o.length === js.length;
  for (let i = 0; agrees && i < js.length; i++) {
    const d = Math.abs(o[i]! - js[i]!);
    maxDifference = Math.max(maxDifference, d);
    // float32 outputs of a float32 sum over trees: a few ulps of float32 at the value's scale
    if (d > 1e-5 * Math.max(1, Math.abs(js[i]!))) agrees = false;
  }
  const onnxRate = await bestRate(n, 5, () => predictOnnxForest(onnx, X, n, forest.nFeatures));
  const base = { jsRowsPerSecond: jsRate, onnxRowsPerSecond: onnxRate, rows: n, maxDifference };
  if (agrees && onnxRate > jsRate) return { choice: { engine: 'onnx', ...base, reason: 'onnxruntime was faster on the calibration rows' }, onnx };
  await session.release();
  return { choice: { engine: 'js', ...base, reason: agrees ? 'compiled JS forest was faster on the calibration rows' : 'model.onnx disagrees with the forest beyond float32 rounding' } };
}
