/**
 * One histogram decision tree. Rows are pre-binned bytes; each node builds a histogram per
 * candidate feature over its rows (one pass) and scans bin boundaries, so a split costs
 * O(rows + bins) instead of sorting rows like ml-random-forest.
 */
import type { BinEdges } from './binning.ts';
import { quantileSorted } from '../../stats/index.ts';

/** A tree as flat arrays; `left[i] === -1` marks a leaf. `value` has `nOutputs` floats per node. */
export interface Tree {
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
}

export interface TreeOptions {
  /** 0 = no limit. */
  maxDepth: number;
  minSamplesLeaf: number;
  /** Features drawn per node. */
  maxFeatures: number;
  /** Regression only: extra leaf outputs, the q-quantiles of the leaf's targets (e.g. [0.1]). */
  leafQuantiles?: readonly number[];
}

export type Target =
  | { kind: 'regression'; y: Float64Array }
  | { kind: 'classification'; y: Int32Array; nClasses: number };

interface Growing {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  value: number[];
  /** Outputs per node (leaf value floats). */
  nOut: number;
}

/** Buffers every node of one tree reuses: histograms, class totals, the leaf-quantile buffer. */
interface Scratch {
  /** Rows per bin (regression) or per bin and class (classification, `b * C + c`). */
  cnt: Int32Array;
  /** Sum of targets per bin (regression). */
  sum: Float64Array;
  classTotals: Float64Array;
  left: Float64Array;
  qbuf: Float64Array;
}

/** The best split found so far at one node. */
interface Best {
  gain: number;
  feature: number;
  bin: number;
}

/** Node index range of `rows` and its depth, as the work stack holds it. */
interface NodeRange {
  node: number;
  start: number;
  end: number;
  depth: number;
}

/**
 * Grows one tree on `rows` (bootstrap indices, duplicates allowed; the array is reordered in place).
 * `binned` is column-major (`f * n + r`). Depth-first with an explicit stack: each node gets its
 * leaf value, then (unless it is pure, deep or small) the best split over `mtry` drawn features,
 * and its rows are partitioned for the two children.
 */
export function growTree(
  binned: Uint8Array,
  n: number,
  edges: BinEdges,
  target: Target,
  rows: Int32Array,
  options: TreeOptions,
  rng: () => number,
): Tree {
  const F = edges.length;
  const nOut = target.kind === 'regression' ? 1 + (options.leafQuantiles?.length ?? 0) : target.nClasses;
  const t: Growing = { feature: [], threshold: [], left: [], right: [], value: [], nOut };
  const features = new Int32Array(F);
  for (let f = 0; f < F; f++) features[f] = f;
  const maxDepth = options.maxDepth > 0 ? options.maxDepth : Infinity;
  const minLeaf = Math.max(1, options.minSamplesLeaf);
  const mtry = Math.max(1, Math.min(F, options.maxFeatures));
  const C = target.kind === 'classification' ? target.nClasses : 1;
  const scratch: Scratch = { cnt: new Int32Array(256 * C), sum: new Float64Array(256), classTotals: new Float64Array(C), left: new Float64Array(C), qbuf: new Float64Array(0) };
  const best: Best = { gain: 0, feature: -1, bin: -1 };

  const stack: number[] = [newNode(t), 0, rows.length, 0]; // node, start, end, depth
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const end = stack.pop()!;
    const start = stack.pop()!;
    const node = stack.pop()!;
    const range: NodeRange = { node, start, end, depth };
    const parentScore = nodeValue(t, target, rows, range, options.leafQuantiles, scratch);
    if (Number.isNaN(parentScore) || depth >= maxDepth || end - start < 2 * minLeaf) continue;

    drawFeatures(features, mtry, rng);
    best.gain = parentScore + 1e-10 * Math.abs(parentScore);
    best.feature = -1;
    best.bin = -1;
    for (let k = 0; k < mtry; k++) {
      const f = features[k]!;
      if (target.kind === 'regression') scanRegression(binned, f * n, target.y, rows, range, t.value[node * nOut]!, minLeaf, scratch, f, best);
      else scanClassification(binned, f * n, target.y, C, rows, range, parentScore, minLeaf, scratch, f, best);
    }
    if (best.feature < 0) continue;

    const mid = partitionRows(binned, best.feature * n, best.bin, rows, start, end);
    const l = newNode(t);
    const r = newNode(t);
    t.feature[node] = best.feature;
    t.threshold[node] = edges[best.feature]![best.bin]!;
    t.left[node] = l;
    t.right[node] = r;
    stack.push(r, mid, end, depth + 1, l, start, mid, depth + 1);
  }
  return {
    feature: Int32Array.from(t.feature),
    threshold: Float32Array.from(t.threshold),
    left: Int32Array.from(t.left),
    right: Int32Array.from(t.right),
    value: Float32Array.from(t.value),
  };
}

/** Appends a leaf (no split yet) with zeroed outputs; returns its index. */
function newNode(t: Growing): number {
  t.feature.push(-1);
  t.threshold.push(0);
  t.left.push(-1);
  t.right.push(-1);
  for (let k = 0; k < t.nOut; k++) t.value.push(0);
  return t.feature.length - 1;
}

/**
 * Writes the node's leaf value (mean and leaf quantiles, or class shares) and returns the parent
 * score a split must beat (sum^2 / n, or the sum of squared class counts / n), or NaN when the node
 * is pure and cannot be split.
 */
function nodeValue(t: Growing, target: Target, rows: Int32Array, range: NodeRange, qs: readonly number[] | undefined, scratch: Scratch): number {
  const { node, start, end } = range;
  const count = end - start;
  const nOut = t.nOut;
  let pure = true;
  let parentScore: number;
  if (target.kind === 'regression') {
    const y = target.y;
    let s = 0;
    const y0 = y[rows[start]!]!;
    for (let i = start; i < end; i++) {
      const v = y[rows[i]!]!;
      s += v;
      if (v !== y0) pure = false;
    }
    t.value[node * nOut] = s / count;
    parentScore = (s * s) / count;
    if (qs !== undefined && qs.length > 0) {
      if (scratch.qbuf.length < count) scratch.qbuf = new Float64Array(Math.max(count, scratch.qbuf.length * 2));
      const view = scratch.qbuf.subarray(0, count);
      for (let i = 0; i < count; i++) view[i] = y[rows[start + i]!]!;
      view.sort();
      for (let k = 0; k < qs.length; k++) t.value[node * nOut + 1 + k] = quantileSorted(view, qs[k]!);
    }
  } else {
    const y = target.y;
    const classTotals = scratch.classTotals;
    classTotals.fill(0);
    for (let i = start; i < end; i++) classTotals[y[rows[i]!]!]!++;
    let sq = 0;
    let nonZero = 0;
    for (let c = 0; c < classTotals.length; c++) {
      const v = classTotals[c]!;
      t.value[node * nOut + c] = v / count;
      sq += v * v;
      if (v > 0) nonZero++;
    }
    pure = nonZero <= 1;
    parentScore = sq / count;
  }
  return pure ? Number.NaN : parentScore;
}

/** Moves `mtry` randomly drawn features to the front of `features` (partial Fisher-Yates). */
function drawFeatures(features: Int32Array, mtry: number, rng: () => number): void {
  const F = features.length;
  for (let k = 0; k < mtry; k++) {
    const j = k + Math.floor(rng() * (F - k));
    const tmp = features[k]!;
    features[k] = features[j]!;
    features[j] = tmp;
  }
}

/**
 * Regression: one pass builds the feature's histogram of counts and target sums over the node's
 * rows, a second scans bin boundaries for the largest sL^2/nL + sR^2/nR; updates `best` in place.
 * The histogram is cleared over the bins used, ready for the next feature.
 */
function scanRegression(binned: Uint8Array, col: number, y: Float64Array, rows: Int32Array, range: NodeRange, mean: number, minLeaf: number, scratch: Scratch, f: number, best: Best): void {
  const { start, end } = range;
  const count = end - start;
  const { cnt, sum } = scratch;
  let minB = 255;
  let maxB = 0;
  for (let i = start; i < end; i++) {
    const r = rows[i]!;
    const b = binned[col + r]!;
    cnt[b]!++;
    sum[b]! += y[r]!;
    if (b < minB) minB = b;
    if (b > maxB) maxB = b;
  }
  let nL = 0;
  let sL = 0;
  const total = mean * count;
  for (let b = minB; b < maxB; b++) {
    const c = cnt[b]!;
    if (c === 0) continue;
    nL += c;
    sL += sum[b]!;
    if (nL < minLeaf) continue;
    const nR = count - nL;
    if (nR < minLeaf) break;
    const sR = total - sL;
    const gain = (sL * sL) / nL + (sR * sR) / nR;
    if (gain > best.gain) {
      best.gain = gain;
      best.feature = f;
      best.bin = b;
    }
  }
  cnt.fill(0, minB, maxB + 1);
  sum.fill(0, minB, maxB + 1);
}

/**
 * Classification: per-bin class counts in one pass, then a scan of bin boundaries that keeps the
 * left and right sums of squared class counts up to date incrementally (Gini); updates `best`.
 */
function scanClassification(binned: Uint8Array, col: number, y: Int32Array, C: number, rows: Int32Array, range: NodeRange, parentScore: number, minLeaf: number, scratch: Scratch, f: number, best: Best): void {
  const { start, end } = range;
  const count = end - start;
  const { cnt, classTotals, left } = scratch;
  let minB = 255;
  let maxB = 0;
  for (let i = start; i < end; i++) {
    const r = rows[i]!;
    const b = binned[col + r]!;
    cnt[b * C + y[r]!]!++;
    if (b < minB) minB = b;
    if (b > maxB) maxB = b;
  }
  left.fill(0);
  let nL = 0;
  let sqL = 0;
  let sqR = parentScore * count;
  for (let b = minB; b < maxB; b++) {
    const o = b * C;
    let added = 0;
    for (let c = 0; c < C; c++) {
      const m = cnt[o + c]!;
      if (m === 0) continue;
      const l = left[c]!;
      const r = classTotals[c]! - l;
      sqL += 2 * l * m + m * m;
      sqR += -2 * r * m + m * m;
      left[c] = l + m;
      added += m;
    }
    if (added === 0) continue;
    nL += added;
    if (nL < minLeaf) continue;
    const nR = count - nL;
    if (nR < minLeaf) break;
    const gain = sqL / nL + sqR / nR;
    if (gain > best.gain) {
      best.gain = gain;
      best.feature = f;
      best.bin = b;
    }
  }
  cnt.fill(0, minB * C, (maxB + 1) * C);
}

/** Partitions rows[start, end) in place so that rows with bin <= `bin` come first; returns the boundary. */
function partitionRows(binned: Uint8Array, col: number, bin: number, rows: Int32Array, start: number, end: number): number {
  let i = start;
  let j = end - 1;
  while (i <= j) {
    if (binned[col + rows[i]!]! <= bin) i++;
    else {
      const tmp = rows[i]!;
      rows[i] = rows[j]!;
      rows[j] = tmp;
      j--;
    }
  }
  return i;
}

