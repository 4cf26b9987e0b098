/**
 * Attributions for a loaded model: TreeSHAP over the built-in forests (both random-forest
 * packages and the energy load curve's `expected` output). The energy model's inputs are its
 * calendar features (hour, weekday, holiday, ...) and drivers, so its attributions are per model
 * input, not per raw column (`ts` becomes hour + weekday + ...). Its `best` output is
 * min(leaf quantile, expected), which is not additive over trees, so it is not attributed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import type { LoadedModel } from '../model/contract.ts';
import { prepareInput } from '../model/load-model.ts';
import type { Forest } from './forest/forest.ts';
import { loadForest } from './forest/io.ts';
import type { ForestModelMeta } from './forest/package.ts';
import { loadForestCover, type ForestCover } from './forest/tree-cover.ts';
import { forestShap, meanAbsShap, treeShapSteps } from './forest/tree-shap.ts';
import { energyMatrix, type EnergyModelMeta } from './energy-load-curve/model.ts';
import { featureMatrix } from './table.ts';

/** Attributions of a batch of rows. */
export interface Explanation {
  /** Names the attributions are for (the model's inputs, in order). */
  features: string[];
  /** What is explained: `['prediction']` (regression), the class names (probabilities) or `['expected']` (energy). */
  outputs: string[];
  /** Expected prediction per output: each row's attributions sum to its prediction minus this. */
  baseValue: number[];
  rows: number;
  /** `values[(r * features.length + f) * outputs.length + k]`. */
  values: Float64Array;
}

/** A model ready to explain: its forest, covers, and how to turn a table into forest inputs. */
interface Explainer {
  forest: Forest;
  cover: ForestCover;
  features: string[];
  outputs: string[];
  /** Forest outputs to keep, in `outputs` order. */
  keep: number[];
  matrix(table: ColumnTable): Float32Array;
}

const cache = new WeakMap<LoadedModel, Promise<Explainer>>();

async function readJson<T>(dir: string, file: string): Promise<T> {
  try {
    return JSON.parse(await readFile(join(dir, file), 'utf8')) as T;
  } catch (err) {
    throw new MillwrightError('INTEGRITY', `explain: cannot read ${file} in ${dir}: ${(err as Error).message}`, { cause: err });
  }
}

async function buildExplainer(model: LoadedModel): Promise<Explainer> {
  const algorithm = model.manifest.algorithm;
  const dir = model.dir;
  if (algorithm === 'random-forest-regression' || algorithm === 'random-forest-classification') {
    const meta = await readJson<ForestModelMeta>(dir, 'rf.json');
    const forest = await loadForest(dir);
    const cover = await loadForestCover(dir, forest);
    return {
      forest,
      cover,
      features: meta.features,
      outputs: meta.kind === 'regression' ? ['prediction'] : meta.classes!,
      keep: meta.kind === 'regression' ? [0] : meta.classes!.map((_, k) => k),
      matrix: (table) => featureMatrix(table, meta.features, { layout: 'row', allowMissing: false, what: 'explain input' }),
    };
  }
  if (algorithm === 'energy-load-curve') {
    const meta = await readJson<EnergyModelMeta>(dir, 'energy.json');
    const forest = await loadForest(dir);
    const cover = await loadForestCover(dir, forest);
    return { forest, cover, features: meta.inputs, outputs: ['expected'], keep: [0], matrix: (table) => energyMatrix(meta, table, 'explain input') };
  }
  throw new MillwrightError(
    'BAD_INPUT',
    `explain: model ${model.manifest.name}@${model.manifest.version} uses ${algorithm}; attributions are available for random-forest-regression, random-forest-classification and energy-load-curve`,
  );
}

/** The model's explainer, built once per loaded model. */
function explainerOf(model: LoadedModel): Promise<Explainer> {
  let pending = cache.get(model);
  if (pending === undefined) {
    pending = buildExplainer(model);
    cache.set(model, pending);
    pending.catch(() => cache.delete(model));
  }
  return pending;
}

/**
 * TreeSHAP attributions of every row of `table` for a loaded model (the forest and its covers are
 * read from the model dir once per model).
 *
 * @example
 * import { loadModel, explainModel } from 'millwright';
 * const model = await loadModel('/opt/ml/model');
 * const ex = await explainModel(model, aq.table({ speed: [1200], load: [0.7] }));
 * // ex.baseValue[0] + sum of ex.values over features === the prediction
 */
export async function explainModel(model: LoadedModel, table: ColumnTable): Promise<Explanation> {
  const ex = await explainerOf(model);
  const input = prepareInput(table, model.manifest.features);
  const n = input.numRows();
  const shap = forestShap(ex.forest, ex.cover, ex.matrix(input), n);
  const F = ex.features.length;
  const K = ex.keep.length;
  const Kf = shap.nOutputs;
  const values = new Float64Array(n * F * K);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < F; f++) for (let k = 0; k < K; k++) values[(r * F + f) * K + k] = shap.values[(r * F + f) * Kf + ex.keep[k]!]!;
  }
  return { features: ex.features, outputs: ex.outputs, baseValue: ex.keep.map((k) => shap.base[k]!), rows: n, values };
}

/**
 * What explaining one row costs for this model, in TreeSHAP steps (see `treeShapSteps`): lets a
 * caller choose how many rows to explain before spending the time.
 *
 * @example
 * import { loadModel, explainSteps } from 'millwright';
 * const perRow = await explainSteps(await loadModel('/opt/ml/model')); // 3-4e7 steps take a second on one core
 */
export async function explainSteps(model: LoadedModel): Promise<number> {
  return treeShapSteps((await explainerOf(model)).forest);
}

/**
 * Global importance per output: mean |attribution| over the rows, `{feature: value}` per output
 * name, the ranking attribution drift compares.
 *
 * @example
 * globalAttribution(await explainModel(model, baseline)); // { prediction: { speed: 3.1, load: 0.4 } }
 */
export function globalAttribution(ex: Explanation): Record<string, Record<string, number>> {
  const F = ex.features.length;
  const K = ex.outputs.length;
  const mean = meanAbsShap({ rows: ex.rows, nFeatures: F, nOutputs: K, values: ex.values, base: Float64Array.from(ex.baseValue) });
  return Object.fromEntries(ex.outputs.map((o, k) => [o, Object.fromEntries(ex.features.map((f, j) => [f, mean[j * K + k]!]))]));
}

/**
 * Attributions of row `r` as `{output: {feature: value}}` (the shape the CLI and the serving
 * container write).
 */
export function rowAttribution(ex: Explanation, r: number): Record<string, Record<string, number>> {
  const F = ex.features.length;
  const K = ex.outputs.length;
  return Object.fromEntries(ex.outputs.map((o, k) => [o, Object.fromEntries(ex.features.map((f, j) => [f, ex.values[(r * F + j) * K + k]!]))]));
}
