/**
 * The train/load/predict logic shared by the `random-forest-regression` and
 * `random-forest-classification` packages (they differ in target handling and defaults only).
 */
import { writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../../errors/index.ts';
import type { FeatureSpec, HyperparameterSchema, Metrics, ModelManifest, Prediction, TrainContext, TrainOutput } from '../../model/contract.ts';
import { loadChannel, nameList, resolveHyperparameters } from '../hyperparameters.ts';
import { accuracy, mae, r2, rmse } from '../metrics.ts';
import { chooseFeatures, featureMatrix, requireColumns } from '../table.ts';
import { compileForest, predictCompiled, type CompiledForest } from './compiled-forest.ts';
import { chooseForestEngine, predictOnnxForest, type ForestEngineChoice, type ForestOnnx } from './engine.ts';
import { resolveMaxFeatures, type Forest } from './forest.ts';
import { fitForestParallel, resolveThreads } from './forest-parallel.ts';
import { loadForest, saveForest } from './io.ts';
import { forestToOnnx } from './onnx.ts';
import { mulberry32 } from './rng.ts';
import { forestCover, saveForestCover } from './tree-cover.ts';
import type { Target } from './tree.ts';

/** Hyperparameters of both random-forest packages (names as in `hyperparameters.json`). */
export interface ForestHyperparameters {
  target: string;
  features?: string[] | string;
  n_estimators: number;
  max_depth: number;
  min_samples_leaf: number;
  max_features: string;
  max_samples: number;
  bins: number;
  seed: number;
  holdout_fraction: number;
  export_onnx: boolean;
  n_jobs: number;
}

/** The schema, with the defaults that differ between regression and classification. */
export function forestSchema(defaults: { minSamplesLeaf: number; maxFeatures: string }): HyperparameterSchema {
  return {
    target: { type: 'string', required: true, description: 'Column to predict.' },
    features: {
      type: 'json',
      description: 'Feature columns in order (JSON array or comma-separated). Default: every numeric column except the target.',
    },
    n_estimators: { type: 'integer', default: 100, min: 1, max: 5000, description: 'Number of trees.' },
    max_depth: { type: 'integer', default: 0, min: 0, max: 64, description: 'Maximum tree depth; 0 = unlimited.' },
    min_samples_leaf: {
      type: 'integer',
      default: defaults.minSamplesLeaf,
      min: 1,
      description: 'Minimum (bootstrap) rows per leaf; larger values give smaller, smoother trees.',
    },
    max_features: {
      type: 'string',
      default: defaults.maxFeatures,
      description: "Features tried per split: 'sqrt', 'log2', 'all', a fraction like '0.5' or a count like '7'.",
    },
    max_samples: {
      type: 'number',
      default: 1,
      min: 0.0001,
      max: 1,
      description: 'Bootstrap sample per tree, as a fraction of the training rows (drawn with replacement).',
    },
    bins: { type: 'integer', default: 255, min: 2, max: 256, description: 'Histogram bins per feature (split candidates + 1).' },
    seed: { type: 'integer', default: 42, min: 0, max: 2 ** 31 - 1, description: 'Random seed: same seed + data = same model.' },
    holdout_fraction: {
      type: 'number',
      default: 0.2,
      min: 0,
      max: 0.9,
      description: 'Share of rows held out (seeded random) for holdout metrics when there is no `validation` channel; 0 = none.',
    },
    export_onnx: { type: 'boolean', default: true, description: 'Also write model.onnx (ai.onnx.ml TreeEnsemble).' },
    n_jobs: {
      type: 'integer',
      default: 1,
      min: -1,
      max: 256,
      description: 'Threads that grow trees (worker threads sharing the binned data); -1 or 0 = one per core. The model is identical for every value.',
    },
  };
}

/** What `rf.json` holds besides the forest files. */
export interface ForestModelMeta {
  format: 'millwright-rf';
  version: 1;
  kind: 'regression' | 'classification';
  features: string[];
  target: string;
  classes?: string[];
}

export interface LoadedForestModel {
  meta: ForestModelMeta;
  /** The trees as trained (what forest.bin holds; TreeSHAP and the ONNX export read these). */
  forest: Forest;
  /** The prediction layout built from `forest` at load (same predictions, bit for bit). */
  compiled?: CompiledForest;
  /** Set when the load-time calibration chose onnxruntime on model.onnx. */
  onnx?: ForestOnnx;
  /** What the calibration measured and chose (absent when the model was not loaded for serving). */
  engine?: ForestEngineChoice;
}

function splitRows(n: number, fraction: number, seed: number): { train: number[]; holdout: number[] } {
  const rng = mulberry32(seed ^ 0x5bd1e995);
  const train: number[] = [];
  const holdout: number[] = [];
  for (let i = 0; i < n; i++) (rng() < fraction ? holdout : train).push(i);
  if (train.length === 0) return { train: holdout, holdout: [] };
  return { train, holdout };
}

function takeRows(table: ColumnTable, rows: number[]): ColumnTable {
  if (rows.length === table.numRows()) return table;
  const cols: Record<string, unknown[]> = {};
  for (const name of table.columnNames()) {
    const col = table.array(name) as ArrayLike<unknown>;
    cols[name] = rows.map((i) => col[i]);
  }
  return aq.table(cols);
}

/** Trains a forest package: reads `train` (+ optional `validation`), fits, writes rf.json + forest files (+ model.onnx). */
export async function trainForestPackage(
  kind: 'regression' | 'classification',
  schema: HyperparameterSchema,
  ctx: TrainContext<unknown>,
): Promise<TrainOutput> {
  const hp = resolveHyperparameters<ForestHyperparameters>(schema, ctx.hyperparameters as Record<string, unknown>);
  const all = await loadChannel(ctx, 'train');
  requireColumns(all, [hp.target], 'random forest target');
  const featureSpecs: FeatureSpec[] = chooseFeatures(all, nameList(hp.features, 'features'), hp.target);
  const features = featureSpecs.map((f) => f.name);

  // rows without a target cannot be learned from
  const targetCol = all.array(hp.target) as ArrayLike<unknown>;
  const labelled: number[] = [];
  for (let i = 0; i < targetCol.length; i++) {
    const v = targetCol[i];
    const ok = kind === 'regression' ? Number.isFinite(typeof v === 'string' ? Number(v) : (v as number)) && v !== null && v !== '' : v !== null && v !== undefined && v !== '';
    if (ok) labelled.push(i);
  }
  if (labelled.length === 0) {
    throw new MillwrightError('BAD_INPUT', `target ${JSON.stringify(hp.target)} has no ${kind === 'regression' ? 'finite numeric ' : ''}values`);
  }
  if (labelled.length < targetCol.length) {
    ctx.log.warn('dropping rows without a target', { target: hp.target, dropped: targetCol.length - labelled.length });
  }
  const labelledTable = takeRows(all, labelled);
  // validate every feature on all rows first, so the message counts rows of the whole input
  featureMatrix(labelledTable, features, { layout: 'row', allowMissing: false, what: 'training data' });

  let trainTable = labelledTable;
  let holdoutTable: ColumnTable | undefined;
  if (ctx.channels.validation !== undefined) {
    holdoutTable = await loadChannel(ctx, 'validation');
  } else if (hp.holdout_fraction > 0 && labelledTable.numRows() >= 10) {
    const split = splitRows(labelledTable.numRows(), hp.holdout_fraction, hp.seed);
    trainTable = takeRows(labelledTable, split.train);
    holdoutTable = split.holdout.length > 0 ? takeRows(labelledTable, split.holdout) : undefined;
  }

  const n = trainTable.numRows();
  const X = featureMatrix(trainTable, features, { layout: 'column', allowMissing: false, what: 'training data' });
  let classes: string[] | undefined;
  let target: Target;
  const yRaw = trainTable.array(hp.target) as ArrayLike<unknown>;
  if (kind === 'regression') {
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) y[i] = Number(yRaw[i]);
    target = { kind, y };
  } else {
    classes = [...new Set(Array.from(yRaw, (v) => String(v)))].sort();
    if (classes.length < 2) {
      throw new MillwrightError('BAD_INPUT', `target ${JSON.stringify(hp.target)} has a single class ${JSON.stringify(classes[0])} (expected at least 2)`);
    }
    const index = new Map(classes.map((c, i) => [c, i]));
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) y[i] = index.get(String(yRaw[i]))!;
    target = { kind, y, nClasses: classes.length };
  }
  const maxFeatures = resolveMaxFeatures(hp.max_features, features.length);
  const threads = Math.min(resolveThreads(hp.n_jobs), hp.n_estimators);
  ctx.log.info('training random forest', { kind, rows: n, features: features.length, trees: hp.n_estimators, maxFeatures, threads });
  const t0 = performance.now();
  const forest = await fitForestParallel(X, n, features.length, target, {
    nJobs: threads,
    nEstimators: hp.n_estimators,
    maxDepth: hp.max_depth,
    minSamplesLeaf: hp.min_samples_leaf,
    maxFeatures,
    maxSamples: hp.max_samples,
    bins: hp.bins,
    seed: hp.seed,
    onTree: (done, total) => ctx.log.progress(done, total, 'trees'),
  });
  const trainSeconds = (performance.now() - t0) / 1000;

  const meta: ForestModelMeta = { format: 'millwright-rf', version: 1, kind, features, target: hp.target, ...(classes ? { classes } : {}) };
  await saveForest(forest, ctx.modelDir);
  await saveForestCover(forestCover(forest, X, n, { seed: hp.seed, maxSamples: hp.max_samples }), ctx.modelDir);
  await writeFile(join(ctx.modelDir, 'rf.json'), JSON.stringify(meta, null, 2) + '\n');
  if (hp.export_onnx) {
    await writeFile(
      join(ctx.modelDir, 'model.onnx'),
      forestToOnnx(forest, { featureNames: features, classes, description: `millwright random-forest-${kind}, target ${hp.target}` }),
    );
  }

  const model: LoadedForestModel = { meta, forest, compiled: compileForest(forest) };
  const score = (table: ColumnTable): Metrics => {
    const preds = predictForestTable(model, table, {});
    const actual = table.array(hp.target) as ArrayLike<unknown>;
    if (kind === 'regression') {
      const a = Float64Array.from(actual as ArrayLike<number>, Number);
      const p = Float64Array.from(preds as number[]);
      return { rmse: rmse(a, p), mae: mae(a, p), r2: r2(a, p), rows: table.numRows() };
    }
    return { accuracy: accuracy(Array.from(actual, (v) => String(v)), preds as string[]), rows: table.numRows() };
  };
  const training = { ...score(trainTable), train_seconds: trainSeconds, nodes: forest.trees.reduce((s, t) => s + t.feature.length, 0) };
  const holdout = holdoutTable !== undefined ? score(holdoutTable) : undefined;
  ctx.log.info('random forest trained', { seconds: trainSeconds, training, holdout });
  return {
    task: kind,
    features: featureSpecs,
    target: kind === 'regression' ? { name: hp.target, type: 'number' } : { name: hp.target, type: 'string', classes },
    metrics: { training, ...(holdout ? { holdout } : {}) },
    trainingTable: trainTable.select([...features, hp.target]),
    trainingData: { rows: n },
  };
}

/** Loads rf.json + the forest files written by `trainForestPackage`. */
export async function loadForestPackage(modelDir: string, kind: 'regression' | 'classification'): Promise<LoadedForestModel> {
  let meta: ForestModelMeta;
  try {
    meta = JSON.parse(await readFile(join(modelDir, 'rf.json'), 'utf8')) as ForestModelMeta;
  } catch (err) {
    throw new MillwrightError('INTEGRITY', `random forest: cannot read rf.json in ${modelDir}: ${(err as Error).message}`, { cause: err });
  }
  if (meta.format !== 'millwright-rf' || meta.kind !== kind) {
    throw new MillwrightError('INTEGRITY', `random forest: rf.json in ${modelDir} is not a ${kind} forest`);
  }
  const forest = await loadForest(modelDir);
  if (forest.nFeatures !== meta.features.length) {
    throw new MillwrightError('INTEGRITY', `random forest: forest has ${forest.nFeatures} features but rf.json lists ${meta.features.length}`);
  }
  return { meta, forest, compiled: compileForest(forest) };
}

/**
 * Loads a forest package for serving: the compiled JS forest, and onnxruntime on model.onnx when
 * the load-time calibration finds it faster (see `chooseForestEngine`).
 */
export async function loadForestForServing(modelDir: string, kind: 'regression' | 'classification', baseline?: ModelManifest['baseline']): Promise<LoadedForestModel> {
  const model = await loadForestPackage(modelDir, kind);
  const { choice, onnx } = await chooseForestEngine(model.compiled!, modelDir, model.meta.features, baseline);
  return { ...model, engine: choice, ...(onnx ? { onnx } : {}) };
}

/** Raw forest outputs (`nOutputs` per row) for a row-major matrix, on the engine the model serves with. */
export function forestOutputs(model: LoadedForestModel, X: Float32Array | Float64Array, n: number): Float64Array | Promise<Float64Array> {
  if (model.onnx) {
    const X32 = X instanceof Float32Array ? X : Float32Array.from(X);
    return predictOnnxForest(model.onnx, X32, n, model.forest.nFeatures);
  }
  return predictCompiled(model.compiled ?? compileForest(model.forest), X, n);
}

/** Predictions from raw outputs: numbers (regression), labels, or records of class probabilities. */
export function forestPredictions(meta: ForestModelMeta, out: Float64Array, n: number, params: ForestPredictParams): Prediction[] {
  if (meta.kind === 'regression') return Array.from(out.subarray(0, n));
  const classes = meta.classes!;
  const K = classes.length;
  const res: (string | Record<string, number | string>)[] = new Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (out[r * K + k]! > out[r * K + best]!) best = k;
    if (params.output === 'probabilities') {
      const rec: Record<string, number | string> = { label: classes[best]! };
      for (let k = 0; k < K; k++) rec[classes[k]!] = out[r * K + k]!;
      res[r] = rec;
    } else res[r] = classes[best]!;
  }
  return res;
}

/**
 * Serving predict on a numeric row-major matrix (features in `meta.features` order, float64):
 * regression gives the outputs themselves (one float per row), classification its labels or
 * probability records. The request parser's CSV fast path calls this without building a table.
 */
export function predictForestMatrix(model: LoadedForestModel, X: Float64Array, n: number, params: ForestPredictParams): Float64Array | Prediction[] | Promise<Float64Array | Prediction[]> {
  const out = forestOutputs(model, X, n);
  // no closure on the synchronous path: this runs once per single-row request
  if (out instanceof Float64Array) return matrixPredictions(model, out, n, params);
  return out.then((o) => matrixPredictions(model, o, n, params));
}

function matrixPredictions(model: LoadedForestModel, out: Float64Array, n: number, params: ForestPredictParams): Float64Array | Prediction[] {
  return model.meta.kind === 'regression' ? out : forestPredictions(model.meta, out, n, params);
}

/**
 * Serving predict on a table: {@link forestOutputs} on the feature matrix, then
 * {@link forestPredictions}. Synchronous on the JS engine (errors throw at the call, as before).
 */
export function predictForestServing(model: LoadedForestModel, table: ColumnTable, params: ForestPredictParams): Prediction[] | Promise<Prediction[]> {
  const n = table.numRows();
  if (n === 0) return [];
  const X = featureMatrix(table, model.meta.features, { layout: 'row', allowMissing: false, what: 'prediction input' });
  const out = forestOutputs(model, X, n);
  return out instanceof Float64Array ? forestPredictions(model.meta, out, n, params) : out.then((o) => forestPredictions(model.meta, o, n, params));
}

/** Options of `predict` for the forest packages. */
export interface ForestPredictParams {
  /** Classification: 'label' (default) or 'probabilities' ({label, <class>: p, ...} per row). */
  output?: 'label' | 'probabilities';
}

/** One prediction per row on the compiled JS forest (training metrics, in-process use): a number, a label or a record of class probabilities. */
export function predictForestTable(
  model: LoadedForestModel,
  table: ColumnTable,
  params: ForestPredictParams,
): (number | string | Record<string, number | string>)[] {
  const n = table.numRows();
  if (n === 0) return [];
  const { meta } = model;
  const X = featureMatrix(table, meta.features, { layout: 'row', allowMissing: false, what: 'prediction input' });
  const out = predictCompiled(model.compiled ?? compileForest(model.forest), X, n);
  return forestPredictions(meta, out, n, params) as (number | string | Record<string, number | string>)[];
}
