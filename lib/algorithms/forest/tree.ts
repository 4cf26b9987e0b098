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
}

/**
 * Grows one tree on `rows` (bootstrap indices, duplicates allowed; the array is reordered in place).
 * `binned` is column-major (`f * n + r`).
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
  const t: Growing = { feature: [], threshold: [], left: [], right: [], value: [] };
  const features = new Int32Array(F);
  for (let f = 0; f < F; f++) features[f] = f;
  const maxDepth = options.maxDepth > 0 ? options.maxDepth : Infinity;
  const minLeaf = Math.max(1, options.minSamplesLeaf);
  const mtry = Math.max(1, Math.min(F, options.maxFeatures));

  const newNode = (): number => {
    t.feature.push(-1);
    t.threshold.push(0);
    t.left.push(-1);
    t.right.push(-1);
    for (let k = 0; k < nOut; k++) t.value.push(0);
    return t.feature.length - 1;
  };

  // scratch, reused by every node
  const C = target.kind === 'classification' ? target.nClasses : 1;
  const cnt = new Int32Array(256 * C);
  const sum = new Float64Array(256);
  const classTotals = new Float64Array(C);
  const left = new Float64Array(C);
  let qbuf = new Float64Array(0);

  const stack: number[] = [newNode(), 0, rows.length, 0]; // node, start, end, depth
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const end = stack.pop()!;
    const start = stack.pop()!;
    const node = stack.pop()!;
    const count = end - start;

    // node statistics and leaf value
    let parentScore = 0;
    let pure = true;
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
      const qs = options.leafQuantiles;
      if (qs !== undefined && qs.length > 0) {
        if (qbuf.length < count) qbuf = new Float64Array(Math.max(count, qbuf.length * 2));
        const view = qbuf.subarray(0, count);
        for (let i = 0; i < count; i++) view[i] = y[rows[start + i]!]!;
        view.sort();
        for (let k = 0; k < qs.length; k++) t.value[node * nOut + 1 + k] = quantileSorted(view, qs[k]!);
      }
    } else {
      const y = target.y;
      classTotals.fill(0);
      for (let i = start; i < end; i++) classTotals[y[rows[i]!]!]!++;
      let sq = 0;
      let nonZero = 0;
      for (let c = 0; c < C; c++) {
        const v = classTotals[c]!;
        t.value[node * nOut + c] = v / count;
        sq += v * v;
        if (v > 0) nonZero++;
      }
      pure = nonZero <= 1;
      parentScore = sq / count;
    }
    if (pure || depth >= maxDepth || count < 2 * minLeaf) continue;

    // draw mtry features (partial Fisher-Yates)
    for (let k = 0; k < mtry; k++) {
      const j = k + Math.floor(rng() * (F - k));
      const tmp = features[k]!;
      features[k] = features[j]!;
      features[j] = tmp;
    }

    let bestGain = parentScore + 1e-10 * Math.abs(parentScore);
    let bestFeature = -1;
    let bestBin = -1;
    for (let k = 0; k < mtry; k++) {
      const f = features[k]!;
      const col = f * n;
      let minB = 255;
      let maxB = 0;
      if (target.kind === 'regression') {
        const y = target.y;
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
        const total = t.value[node * nOut]! * count;
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
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = f;
            bestBin = b;
          }
        }
        cnt.fill(0, minB, maxB + 1);
        sum.fill(0, minB, maxB + 1);
      } else {
        const y = target.y;
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
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = f;
            bestBin = b;
          }
        }
        cnt.fill(0, minB * C, (maxB + 1) * C);
      }
    }
    if (bestFeature < 0) continue;

    // partition rows[start, end) so that bin <= bestBin comes first
    const col = bestFeature * n;
    let i = start;
    let j = end - 1;
    while (i <= j) {
      if (binned[col + rows[i]!]! <= bestBin) i++;
      else {
        const tmp = rows[i]!;
        rows[i] = rows[j]!;
        rows[j] = tmp;
        j--;
      }
    }
    const l = newNode();
    const r = newNode();
    t.feature[node] = bestFeature;
    t.threshold[node] = edges[bestFeature]![bestBin]!;
    t.left[node] = l;
    t.right[node] = r;
    stack.push(r, i, end, depth + 1, l, start, i, depth + 1);
  }
  return {
    feature: Int32Array.from(t.feature),
    threshold: Float32Array.from(t.threshold),
    left: Int32Array.from(t.left),
    right: Int32Array.from(t.right),
    value: Float32Array.from(t.value),
  };
}

