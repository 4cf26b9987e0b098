import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitForest, predictForest, type Forest } from '../../lib/algorithms/forest/forest.ts';
import { forestCover, type ForestCover } from '../../lib/algorithms/forest/tree-cover.ts';
import { forestShap, forestShapAlgorithm2, forestExpectedValue, gaussLegendre, meanAbsShap, treeShapSteps } from '../../lib/algorithms/forest/tree-shap.ts';
import type { Tree } from '../../lib/algorithms/forest/tree.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';
import { synthetic } from './fixtures.ts';

/**
 * E[f(x) | x_S] the path-dependent way (Lundberg 2018, Algorithm 1): follow x on features in S,
 * average both children by cover elsewhere.
 */
function conditional(t: Tree, cover: Float64Array, x: Float32Array, inS: boolean[], K: number, k: number, node = 0): number {
  const l = t.left[node]!;
  if (l < 0) return t.value[node * K + k]!;
  const r = t.right[node]!;
  const f = t.feature[node]!;
  if (inS[f]) return conditional(t, cover, x, inS, K, k, x[f]! <= t.threshold[node]! ? l : r);
  return (cover[l]! * conditional(t, cover, x, inS, K, k, l) + cover[r]! * conditional(t, cover, x, inS, K, k, r)) / cover[node]!;
}

/** Exact Shapley values by enumerating every subset: sum over S of |S|!(M-|S|-1)!/M! [v(S+i) - v(S)]. */
function bruteForce(forest: Forest, cover: ForestCover, x: Float32Array, k: number): number[] {
  const M = forest.nFeatures;
  const fact = [1];
  for (let i = 1; i <= M; i++) fact.push(fact[i - 1]! * i);
  const v = new Float64Array(1 << M);
  for (let mask = 0; mask < 1 << M; mask++) {
    const inS = Array.from({ length: M }, (_, f) => (mask & (1 << f)) !== 0);
    let s = 0;
    forest.trees.forEach((t, i) => (s += conditional(t, cover[i]!, x, inS, forest.nOutputs, k)));
    v[mask] = s / forest.trees.length;
  }
  const phi = new Array<number>(M).fill(0);
  for (let i = 0; i < M; i++) {
    for (let mask = 0; mask < 1 << M; mask++) {
      if (mask & (1 << i)) continue;
      let size = 0;
      for (let b = mask; b; b &= b - 1) size++;
      phi[i]! += ((fact[size]! * fact[M - size - 1]!) / fact[M]!) * (v[mask | (1 << i)]! - v[mask]!);
    }
  }
  return phi;
}

function columnMajor(rowMajor: Float32Array, n: number, F: number): Float32Array {
  const X = new Float32Array(n * F);
  for (let r = 0; r < n; r++) for (let f = 0; f < F; f++) X[f * n + r] = rowMajor[r * F + f]!;
  return X;
}

/** n rows of the synthetic process restricted to its first F features, row-major. */
function rows(n: number, F: number, seed: number): { X: Float32Array; y: Float64Array; label: Int32Array } {
  const s = synthetic(n, seed);
  const X = new Float32Array(n * F);
  for (let r = 0; r < n; r++) for (let f = 0; f < F; f++) X[r * F + f] = s.columns[f]![r]!;
  const classes = ['low', 'normal', 'high'];
  return { X, y: s.y, label: Int32Array.from(s.label, (l) => classes.indexOf(l)) };
}

function assertAdditive(forest: Forest, cover: ForestCover, X: Float32Array, n: number): void {
  const F = forest.nFeatures;
  const K = forest.nOutputs;
  const shap = forestShap(forest, cover, X, n);
  const pred = predictForest(forest, X, n);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < K; k++) {
      let s = shap.base[k]!;
      for (let f = 0; f < F; f++) s += shap.values[(r * F + f) * K + k]!;
      assert.ok(Math.abs(s - pred[r * K + k]!) <= 1e-9, `row ${r} output ${k}: base + sum ${s} vs prediction ${pred[r * K + k]}`);
    }
  }
}

test('cover recomputed from the bootstrap draws is the training count: children add up, class shares times cover are whole', () => {
  const F = 6;
  const n = 1500;
  const { X, label } = rows(n, F, 3);
  const Xc = columnMajor(X, n, F);
  const opts = { nEstimators: 8, maxDepth: 6, minSamplesLeaf: 3, maxFeatures: 3, maxSamples: 0.8, bins: 64, seed: 11 };
  const forest = fitForest(Xc, n, F, { kind: 'classification', y: label, nClasses: 3 }, opts);
  const cover = forestCover(forest, Xc, n, opts);
  forest.trees.forEach((t, i) => {
    const c = cover[i]!;
    assert.equal(c[0], Math.round(0.8 * n));
    for (let j = 0; j < c.length; j++) {
      if (t.left[j]! >= 0) assert.equal(c[j], c[t.left[j]!]! + c[t.right[j]!]!);
      else {
        assert.ok(c[j]! >= 3, `leaf ${j} of tree ${i} has cover ${c[j]} < min_samples_leaf`);
        // leaf values are class counts / cover in float32: whole counts back, or the cover is wrong
        for (let k = 0; k < 3; k++) {
          const count = t.value[j * 3 + k]! * c[j]!;
          assert.ok(Math.abs(count - Math.round(count)) < 1e-3, `tree ${i} leaf ${j}: share x cover = ${count}`);
        }
      }
    }
  });
});

test('TreeSHAP equals brute-force exact Shapley values on small forests (2..8 features, regression and classification)', () => {
  for (const F of [2, 3, 5, 8]) {
    const n = 600;
    const { X, y, label } = rows(n, F, 20 + F);
    const Xc = columnMajor(X, n, F);
    const opts = { nEstimators: 3, maxDepth: 5, minSamplesLeaf: 4, maxFeatures: F, maxSamples: 1, bins: 32, seed: F };
    const reg = fitForest(Xc, n, F, { kind: 'regression', y }, opts);
    const cls = fitForest(Xc, n, F, { kind: 'classification', y: label, nClasses: 3 }, opts);
    for (const forest of [reg, cls]) {
      const cover = forestCover(forest, Xc, n, opts);
      const test = rows(25, F, 99).X;
      const shap = forestShap(forest, cover, test, 25);
      for (let r = 0; r < 25; r++) {
        const x = test.subarray(r * F, (r + 1) * F);
        for (let k = 0; k < forest.nOutputs; k++) {
          const want = bruteForce(forest, cover, x, k);
          for (let f = 0; f < F; f++) {
            const got = shap.values[(r * F + f) * forest.nOutputs + k]!;
            assert.ok(Math.abs(got - want[f]!) <= 1e-9, `F=${F} ${forest.kind} row ${r} feature ${f} class ${k}: ${got} vs brute force ${want[f]}`);
          }
        }
      }
    }
  }
});

test('a tree that splits the same feature twice on a path (UNWIND) still matches brute force', () => {
  // root x0 <= 0.5, then x1, then x0 again, hand-made with explicit covers
  const tree: Tree = {
    feature: Int32Array.from([0, 1, -1, 0, -1, -1, -1]),
    threshold: Float32Array.from([0.5, 0.3, 0, 0.2, 0, 0, 0]),
    left: Int32Array.from([1, 3, -1, 5, -1, -1, -1]),
    right: Int32Array.from([2, 4, -1, 6, -1, -1, -1]),
    value: Float32Array.from([0, 0, 7, 0, -2, 3, 11]),
  };
  const forest: Forest = { kind: 'regression', nFeatures: 3, nOutputs: 1, trees: [tree] };
  const cover = [Float64Array.from([100, 60, 40, 45, 15, 20, 25])];
  const rng = mulberry32(5);
  const X = Float32Array.from({ length: 30 }, () => rng());
  const shap = forestShap(forest, cover, X, 10);
  for (let r = 0; r < 10; r++) {
    const want = bruteForce(forest, cover, X.subarray(r * 3, r * 3 + 3), 0);
    for (let f = 0; f < 3; f++) assert.ok(Math.abs(shap.values[r * 3 + f]! - want[f]!) < 1e-12, `row ${r} f ${f}`);
    assert.equal(shap.values[r * 3 + 2], 0, 'a feature no node uses gets 0');
  }
  assert.ok(Math.abs(forestExpectedValue(forest, cover)[0]! - (40 * 7 + 15 * -2 + 20 * 3 + 25 * 11) / 100) < 1e-12);
});

test('attributions add up to prediction minus base value on every row of a 20-feature forest; importance ranks the drivers first', () => {
  const F = 20;
  const n = 3000;
  const { X, y, label } = rows(n, F, 8);
  const Xc = columnMajor(X, n, F);
  const opts = { nEstimators: 20, maxDepth: 10, minSamplesLeaf: 5, maxFeatures: 7, maxSamples: 1, bins: 255, seed: 3 };
  const reg = fitForest(Xc, n, F, { kind: 'regression', y }, opts);
  const cls = fitForest(Xc, n, F, { kind: 'classification', y: label, nClasses: 3 }, opts);
  const test = rows(500, F, 9).X;
  for (const forest of [reg, cls]) assertAdditive(forest, forestCover(forest, Xc, n, opts), test, 500);
  const imp = meanAbsShap(forestShap(reg, forestCover(reg, Xc, n, opts), test, 500));
  // x3 (10 * x3) and its noisy copy corr3 carry the most signal; pure noise columns (10..19) the least
  const order = Array.from(imp.keys()).sort((a, b) => imp[b]! - imp[a]!);
  assert.ok(order.slice(0, 6).includes(3), `x3 in the top 6: ${order}`);
  for (let f = 10; f < 20; f++) assert.ok(imp[f]! < imp[3]! / 5, `noise feature ${f}: ${imp[f]} vs x3 ${imp[3]}`);
});

test('forestShap (quadrature) gives Algorithm 2\'s attributions on deep forests (depth 4, 10, 16; regression and classification)', () => {
  const F = 20;
  const n = 4000;
  const { X, y, label } = rows(n, F, 21);
  const Xc = columnMajor(X, n, F);
  const test = rows(40, F, 22).X;
  for (const maxDepth of [4, 10, 16]) {
    const opts = { nEstimators: 8, maxDepth, minSamplesLeaf: 2, maxFeatures: 7, maxSamples: 1, bins: 255, seed: 5 };
    for (const forest of [fitForest(Xc, n, F, { kind: 'regression', y }, opts), fitForest(Xc, n, F, { kind: 'classification', y: label, nClasses: 3 }, opts)]) {
      const cover = forestCover(forest, Xc, n, opts);
      const a = forestShap(forest, cover, test, 40);
      const b = forestShapAlgorithm2(forest, cover, test, 40);
      let scale = 0;
      for (let i = 0; i < b.values.length; i++) scale = Math.max(scale, Math.abs(b.values[i]!));
      assert.ok(scale > 0);
      for (let i = 0; i < a.values.length; i++) assert.ok(Math.abs(a.values[i]! - b.values[i]!) <= 1e-12 * scale, `depth ${maxDepth} ${forest.kind} value ${i}: ${a.values[i]} vs ${b.values[i]}`);
      assert.deepEqual(a.base, b.base);
    }
  }
});

test('gaussLegendre: m nodes on [0, 1] integrate t^j exactly up to j = 2m - 1, and not t^2m', () => {
  for (let m = 1; m <= 40; m++) {
    const { t, w } = gaussLegendre(m);
    for (let j = 0; j <= 2 * m; j++) {
      let s = 0;
      for (let k = 0; k < m; k++) s += w[k]! * t[k]! ** j;
      const err = Math.abs(s - 1 / (j + 1));
      if (j < 2 * m) assert.ok(err <= 1e-14, `m=${m} j=${j}: ${s} vs ${1 / (j + 1)}`);
      // Degree 2m is beyond the rule: its error is (m!)^4 / ((2m + 1) ((2m)!)^2), visible up to m = 8.
      else if (m <= 8) assert.ok(err > 1e-11, `m=${m} j=${j} is beyond the rule's degree, yet exact: the test would not see too few nodes`);
    }
  }
});

test('a cover that does not fit the forest is a clear BAD_INPUT', () => {
  const forest: Forest = { kind: 'regression', nFeatures: 1, nOutputs: 1, trees: [{ feature: Int32Array.from([-1]), threshold: new Float32Array(1), left: Int32Array.from([-1]), right: Int32Array.from([-1]), value: Float32Array.from([1]) }] };
  assert.throws(() => forestShap(forest, [], new Float32Array(1), 1), /cover has 0 trees/);
  assert.throws(() => forestShap(forest, [Float64Array.from([0])], new Float32Array(1), 1), /cover 0/);
});

test('treeShapSteps: the sum of leaf depths over the trees (what a row costs), on a hand-built forest and a fitted one', () => {
  // root -> (leaf, node -> (leaf, leaf)): leaves at depths 1, 2, 2 = 5; a stump (one leaf) adds 0
  const t: Tree = { feature: Int32Array.from([0, -1, 1, -1, -1]), threshold: new Float32Array(5), left: Int32Array.from([1, -1, 3, -1, -1]), right: Int32Array.from([2, -1, 4, -1, -1]), value: new Float32Array(5) };
  const stump: Tree = { feature: Int32Array.from([-1]), threshold: new Float32Array(1), left: Int32Array.from([-1]), right: Int32Array.from([-1]), value: new Float32Array(1) };
  assert.equal(treeShapSteps({ kind: 'regression', nFeatures: 2, nOutputs: 1, trees: [t, stump, t] }), 10);
  // a complete tree of depth d has 2^d leaves at depth d
  const { X, y } = rows(4000, 6, 3);
  const deep = fitForest(columnMajor(X, 4000, 6), 4000, 6, { kind: 'regression', y }, { nEstimators: 3, maxDepth: 4, minSamplesLeaf: 1, maxFeatures: 6, maxSamples: 1, bins: 64, seed: 1 });
  const steps = treeShapSteps(deep);
  assert.ok(steps > 0 && steps <= 3 * 16 * 4, `${steps}`);
});
