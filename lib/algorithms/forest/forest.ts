/**
 * Random forest on binned features (the histogram learner). Bootstrap rows per tree, draw
 * `maxFeatures` candidate features per node, average the trees' leaf values — the same
 * algorithm as scikit-learn's RandomForest, but with at most 255 split candidates per feature.
 */
import { MillwrightError } from '../../errors/index.ts';
import { binRows, fitBins } from './binning.ts';
import { bootstrap, bootstrapSize } from './bootstrap.ts';
import { TreeGrower, type Target, type Tree, type TreeOptions } from './tree.ts';

export interface ForestOptions {
  nEstimators: number;
  /** 0 = unlimited. */
  maxDepth: number;
  minSamplesLeaf: number;
  /** Features drawn per node, as a count (resolve 'sqrt' etc. with `resolveMaxFeatures`). */
  maxFeatures: number;
  /** Bootstrap sample size as a fraction of the rows (drawn with replacement). */
  maxSamples: number;
  /** At most 256. */
  bins: number;
  seed: number;
  /** Regression only: extra outputs per leaf, the q-quantiles of its targets. */
  leafQuantiles?: readonly number[];
  /** Called after each tree. */
  onTree?: (done: number, total: number) => void;
}

/** A trained forest: plain typed arrays, serialisable with `forest/io.ts`. */
export interface Forest {
  kind: 'regression' | 'classification';
  nFeatures: number;
  /** Values per prediction: 1 (+ quantiles) for regression, the class count for classification. */
  nOutputs: number;
  trees: Tree[];
}

/** 'sqrt' | 'log2' | 'all' | a fraction in (0, 1] | an integer count -> a count of features. */
export function resolveMaxFeatures(spec: string | number, nFeatures: number): number {
  const s = String(spec).trim();
  let k: number;
  if (s === 'sqrt') k = Math.floor(Math.sqrt(nFeatures));
  else if (s === 'log2') k = Math.floor(Math.log2(nFeatures));
  else if (s === 'all') k = nFeatures;
  else {
    const v = Number(s);
    if (!Number.isFinite(v) || v <= 0) {
      throw new MillwrightError(
        'BAD_INPUT',
        `max_features: ${JSON.stringify(spec)} is not valid (expected 'sqrt', 'log2', 'all', a fraction in (0, 1] or a count >= 1)`,
      );
    }
    k = v <= 1 && s.includes('.') ? Math.floor(v * nFeatures) : Math.floor(v);
  }
  return Math.max(1, Math.min(nFeatures, k));
}

/**
 * Fits a forest on a column-major float32 matrix (`f * n + r`, finite values), on this thread
 * (`fitForestParallel` spreads the trees over worker threads and returns the same forest).
 *
 * @example
 * const forest = fitForest(X, n, 20, { kind: 'regression', y }, { nEstimators: 100, maxDepth: 0,
 *   minSamplesLeaf: 5, maxFeatures: 20, maxSamples: 1, bins: 255, seed: 42 });
 */
export function fitForest(X: Float32Array, n: number, nFeatures: number, target: Target, options: ForestOptions): Forest {
  checkForestInput(n, options);
  const edges = fitBins(X, n, nFeatures, { maxBins: options.bins, seed: options.seed });
  const grower = new TreeGrower(binRows(X, n, edges), n, edges, target, treeOptions(options));
  const draws = new Int32Array(bootstrapSize(options.maxSamples, n));
  const trees: Tree[] = [];
  for (let k = 0; k < options.nEstimators; k++) {
    trees.push(grower.grow(draws, bootstrap(options.seed, k, n, draws)));
    options.onTree?.(k + 1, options.nEstimators);
  }
  const nOutputs = target.kind === 'regression' ? 1 + (options.leafQuantiles?.length ?? 0) : target.nClasses;
  return { kind: target.kind, nFeatures, nOutputs, trees };
}

/** Refuses an empty training set and a bin count outside 2..256 (`BAD_INPUT`). */
export function checkForestInput(n: number, options: ForestOptions): void {
  if (n === 0) throw new MillwrightError('BAD_INPUT', 'random forest: no training rows');
  if (options.bins < 2 || options.bins > 256) {
    throw new MillwrightError('BAD_INPUT', `bins: ${options.bins} is out of range (expected 2..256)`);
  }
}

/** The per-tree part of the forest options. */
export function treeOptions(options: ForestOptions): TreeOptions {
  return { maxDepth: options.maxDepth, minSamplesLeaf: options.minSamplesLeaf, maxFeatures: options.maxFeatures, leafQuantiles: options.leafQuantiles };
}

/**
 * Average of the trees' leaf values for each row of a row-major float32 matrix
 * (`r * nFeatures + f`). Returns `nOutputs` floats per row. Comparisons are float32, like ONNX.
 */
export function predictForest(forest: Forest, X: Float32Array, n: number): Float64Array {
  const F = forest.nFeatures;
  const K = forest.nOutputs;
  if (X.length !== n * F) {
    throw new MillwrightError('BAD_INPUT', `predict: matrix has ${X.length} values, expected ${n} rows x ${F} features`);
  }
  const out = new Float64Array(n * K);
  for (const t of forest.trees) {
    const { feature, threshold, left, right, value } = t;
    for (let r = 0; r < n; r++) {
      const base = r * F;
      let node = 0;
      while (left[node]! >= 0) {
        node = X[base + feature[node]!]! <= threshold[node]! ? left[node]! : right[node]!;
      }
      const o = r * K;
      const v = node * K;
      for (let k = 0; k < K; k++) out[o + k]! += value[v + k]!;
    }
  }
  const inv = 1 / forest.trees.length;
  for (let i = 0; i < out.length; i++) out[i]! *= inv;
  return out;
}

/** Total node count (size of the model). */
export function nodeCount(forest: Forest): number {
  return forest.trees.reduce((s, t) => s + t.feature.length, 0);
}
