/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion, Lee 2018, "Consistent Individualized Feature
 * Attribution for Tree Ensembles", Algorithm 2), ported from the reference implementation's
 * EXTEND / UNWIND / unwound-sum steps. A feature's attribution is its Shapley value for the game
 * "expected tree output given the features in S", where the expectation over the features not in
 * S follows each node's cover (training rows that reached it). Attributions of a row add up to
 * its prediction minus the base value (the cover-weighted expected prediction).
 */
import { MillwrightError } from '../../errors/index.ts';
import type { Forest } from './forest.ts';
import type { ForestCover } from './tree-cover.ts';
import type { Tree } from './tree.ts';

/** Attributions of `rows` rows: `values[(r * nFeatures + f) * nOutputs + k]`. */
export interface TreeShapValues {
  rows: number;
  nFeatures: number;
  nOutputs: number;
  values: Float64Array;
  /** Expected prediction per output (the attributions of a row sum to prediction - base). */
  base: Float64Array;
}

/** The growing unique path of one recursion, as parallel arrays laid out level after level. */
interface PathScratch {
  feat: Int32Array;
  zero: Float64Array;
  one: Float64Array;
  w: Float64Array;
}

/** Per-tree values TreeSHAP reads at every node: cover and the children's cover shares. */
interface PreparedTree {
  tree: Tree;
  cover: Float64Array;
  depth: number;
}

/**
 * Cover-weighted mean of the leaf values per output for each tree, averaged over the forest:
 * the prediction expected before any feature is known.
 *
 * @example
 * const base = forestExpectedValue(forest, cover); // Float64Array of nOutputs
 */
export function forestExpectedValue(forest: Forest, cover: ForestCover): Float64Array {
  checkCover(forest, cover);
  const K = forest.nOutputs;
  const base = new Float64Array(K);
  forest.trees.forEach((t, i) => {
    const e = treeExpectation(t, cover[i]!, K);
    for (let k = 0; k < K; k++) base[k]! += e[k]!;
  });
  for (let k = 0; k < K; k++) base[k]! /= forest.trees.length;
  return base;
}

/** Expected value of one tree per output: children have larger indices, so one backward pass. */
function treeExpectation(t: Tree, cover: Float64Array, K: number): Float64Array {
  const m = t.feature.length;
  const e = new Float64Array(m * K);
  for (let i = m - 1; i >= 0; i--) {
    const l = t.left[i]!;
    if (l < 0) {
      for (let k = 0; k < K; k++) e[i * K + k] = t.value[i * K + k]!;
    } else {
      const r = t.right[i]!;
      const c = cover[i]!;
      for (let k = 0; k < K; k++) e[i * K + k] = (cover[l]! * e[l * K + k]! + cover[r]! * e[r * K + k]!) / c;
    }
  }
  return e.subarray(0, K);
}

function checkCover(forest: Forest, cover: ForestCover): void {
  if (cover.length !== forest.trees.length) {
    throw new MillwrightError('BAD_INPUT', `TreeSHAP: cover has ${cover.length} trees, the forest ${forest.trees.length}`);
  }
  forest.trees.forEach((t, i) => {
    const c = cover[i]!;
    if (c.length !== t.feature.length) throw new MillwrightError('BAD_INPUT', `TreeSHAP: cover of tree ${i} has ${c.length} nodes, the tree ${t.feature.length}`);
    for (let j = 0; j < c.length; j++) {
      if (!(c[j]! > 0)) throw new MillwrightError('BAD_INPUT', `TreeSHAP: node ${j} of tree ${i} has cover ${c[j]} (expected > 0: every node saw training rows)`);
    }
  });
}

/** Each node's depth (the root's is 0); children come after their parent in the arrays. */
function nodeDepths(t: Tree): Int32Array {
  const d = new Int32Array(t.feature.length);
  for (let i = 0; i < d.length; i++) {
    const l = t.left[i]!;
    if (l < 0) continue;
    d[l] = d[i]! + 1;
    d[t.right[i]!] = d[i]! + 1;
  }
  return d;
}

function treeDepth(t: Tree): number {
  return nodeDepths(t).reduce((max, x) => Math.max(max, x), 0);
}

/**
 * The work {@link forestShap} does per row: the sum over every tree's leaves of the leaf's depth
 * (each leaf credits the features on its path, so this is what one row costs, whatever its
 * values). Callers size how many rows to explain from it (see `generateReports`'
 * `attributions.sampleRows`); on the development machine one core does 3.3-4.3e7 of these
 * steps a second (measured on forests of 20 x depth 6 to 100 x depth 10).
 *
 * @example
 * import { treeShapSteps } from 'millwright';
 * const perRow = treeShapSteps(forest); // 100 trees of depth 10 on 20,000 rows: ~7e5
 */
export function treeShapSteps(forest: Forest): number {
  let steps = 0;
  for (const t of forest.trees) {
    const d = nodeDepths(t);
    for (let i = 0; i < d.length; i++) if (t.left[i]! < 0) steps += d[i]!;
  }
  return steps;
}

/**
 * TreeSHAP attributions of every row of a row-major float32 matrix (`r * nFeatures + f`) for
 * every output of the forest (regression: the prediction; classification: each class
 * probability). The forest's prediction is the mean of its trees, so are the attributions.
 *
 * How: in path-dependent TreeSHAP a leaf credits each feature e on its path with
 * (o_e - z_e) * value * (sum of the path's permutation weights without e), where z is the
 * product of the cover shares of e's splits and o is 1 when the row satisfies all of them, else
 * 0. That sum equals the integral over [0, 1] of the product, over the path's other features j,
 * of (z_j (1 - t) + o_j t) (a polynomial of degree below the depth; the Shapley weights are
 * Beta integrals). Gauss-Legendre quadrature with ceil(depth / 2) nodes integrates it exactly,
 * so each node of the walk multiplies the product at those few nodes by its split's factor
 * (no path copy, no EXTEND), and each leaf divides one factor out per feature; a feature the
 * row fails (o = 0) needs no division at all, its credit is -value * sum_k w_k G(t_k) / (1 - t_k).
 * O(trees x leaves x depth) per row, the same values as Algorithm 2 (`forestShapAlgorithm2`)
 * to rounding (~1e-15).
 *
 * @example
 * import { fitForest, forestCover, forestShap } from 'millwright';
 * const cover = forestCover(forest, Xcol, n, { seed: 42, maxSamples: 1 });
 * const { values, base } = forestShap(forest, cover, Xrow, rows);
 * // sum over f of values[(r * F + f) * K + k] === prediction[r * K + k] - base[k]
 */
export function forestShap(forest: Forest, cover: ForestCover, X: Float32Array, n: number): TreeShapValues {
  const F = forest.nFeatures;
  const K = forest.nOutputs;
  if (X.length !== n * F) throw new MillwrightError('BAD_INPUT', `TreeSHAP: matrix has ${X.length} values, expected ${n} rows x ${F} features`);
  checkCover(forest, cover);
  const prepared: PreparedTree[] = forest.trees.map((t, i) => ({ tree: t, cover: cover[i]!, depth: treeDepth(t) }));
  const maxDepth = prepared.reduce((s, p) => Math.max(s, p.depth), 0);
  const q = quadratureScratch(maxDepth, F);
  const values = new Float64Array(n * F * K);
  // Tree by tree, every row through it: one tree's nodes stay in cache across the rows (row by
  // row, each row swept the whole forest's ~20 MB).
  for (const p of prepared) {
    for (let r = 0; r < n; r++) walk(p, X, r * F, values, r * F * K, K, 0, 0, q);
  }
  const inv = 1 / forest.trees.length;
  for (let i = 0; i < values.length; i++) values[i]! *= inv;
  return { rows: n, nFeatures: F, nOutputs: K, values, base: forestExpectedValue(forest, cover) };
}

/** Gauss-Legendre nodes and weights on [0, 1] (`m` nodes: exact for polynomials of degree <= 2m - 1). */
export function gaussLegendre(m: number): { t: Float64Array; w: Float64Array } {
  const t = new Float64Array(m);
  const w = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    // Newton on the Legendre polynomial P_m from the usual cosine guess.
    let x = Math.cos((Math.PI * (i + 0.75)) / (m + 0.5));
    let dp = 1;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = x;
      for (let j = 2; j <= m; j++) {
        const p2 = ((2 * j - 1) * x * p1 - (j - 1) * p0) / j;
        p0 = p1;
        p1 = p2;
      }
      dp = (m * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) <= 1e-17) break;
    }
    t[i] = (1 - x) / 2;
    w[i] = 1 / ((1 - x * x) * dp * dp);
  }
  return { t, w };
}

/** What the quadrature walk keeps: the product at the nodes per depth, each path feature's (z, o), the path's features. */
interface QuadratureScratch {
  m: number;
  t: Float64Array;
  w: Float64Array;
  /** w_k / (1 - t_k): the cold features' shared sum. */
  coldW: Float64Array;
  /** Product of the path's factors at each node, level after level (`level * m + k`). */
  g: Float64Array;
  z: Float64Array;
  o: Float64Array;
  /** Whether feature f is on the current path. */
  on: Uint8Array;
  /** The path's features (each once), `len` of them. */
  path: Int32Array;
  len: number;
}

const quadratureCache = new Map<number, { t: Float64Array; w: Float64Array }>();

function quadratureScratch(maxDepth: number, F: number): QuadratureScratch {
  // The polynomial at a leaf has a factor per other path feature: degree <= depth - 1.
  const m = Math.max(1, Math.ceil(maxDepth / 2));
  let rule = quadratureCache.get(m);
  if (!rule) quadratureCache.set(m, (rule = gaussLegendre(m)));
  const { t, w } = rule;
  const g = new Float64Array((maxDepth + 2) * m);
  g.fill(1, 0, m);
  return { m, t, w, coldW: Float64Array.from(w, (wk, k) => wk / (1 - t[k]!)), g, z: new Float64Array(F), o: new Float64Array(F), on: new Uint8Array(F), path: new Int32Array(maxDepth + 1), len: 0 };
}

/** One node of the quadrature walk at `level` (its product at `g[level * m ...]`). */
function walk(p: PreparedTree, X: Float32Array, xOff: number, phi: Float64Array, phiOff: number, K: number, node: number, level: number, q: QuadratureScratch): void {
  const t = p.tree;
  const m = q.m;
  const g = q.g;
  const at = level * m;
  const left = t.left[node]!;
  if (left < 0) {
    const v = node * K;
    const { z, o, path, w, coldW } = q;
    const tk = q.t;
    let cold = Number.NaN;
    for (let s = 0; s < q.len; s++) {
      const f = path[s]!;
      let scale: number;
      if (o[f] === 0) {
        if (Number.isNaN(cold)) {
          cold = 0;
          for (let k = 0; k < m; k++) cold += coldW[k]! * g[at + k]!;
        }
        scale = -cold;
      } else {
        const zf = z[f]!;
        let sum = 0;
        for (let k = 0; k < m; k++) sum += (w[k]! * g[at + k]!) / (zf + (1 - zf) * tk[k]!);
        scale = (1 - zf) * sum;
      }
      const off = phiOff + f * K;
      for (let k = 0; k < K; k++) phi[off + k]! += scale * t.value[v + k]!;
    }
    return;
  }
  const right = t.right[node]!;
  const f = t.feature[node]!;
  const goLeft = X[xOff + f]! <= t.threshold[node]!;
  const hot = goLeft ? left : right;
  const cold = goLeft ? right : left;
  const c = p.cover[node]!;
  const again = q.on[f] === 1;
  // A feature already on the path: its earlier factor is divided out and merged into this one (Algorithm 2's UNWIND).
  const iz = again ? q.z[f]! : 1;
  const io = again ? q.o[f]! : 1;
  if (!again) {
    q.on[f] = 1;
    q.path[q.len++] = f;
  }
  const next = at + m;
  const tk = q.t;
  for (let side = 0; side < 2; side++) {
    const child = side === 0 ? hot : cold;
    const zc = (p.cover[child]! / c) * iz;
    const oc = side === 0 ? io : 0;
    for (let k = 0; k < m; k++) {
      const x = tk[k]!;
      const factor = zc * (1 - x) + oc * x;
      g[next + k] = again ? (g[at + k]! * factor) / (iz * (1 - x) + io * x) : g[at + k]! * factor;
    }
    q.z[f] = zc;
    q.o[f] = oc;
    walk(p, X, xOff, phi, phiOff, K, child, level + 1, q);
  }
  if (again) {
    q.z[f] = iz;
    q.o[f] = io;
  } else {
    q.on[f] = 0;
    q.len--;
  }
}

/**
 * The same attributions by the paper's Algorithm 2 (EXTEND / UNWIND over the unique path,
 * O(trees x leaves x depth^2) per row). `forestShap` computes them by quadrature; this one is
 * kept as its independent cross-check on trees too deep for brute force (the tests compare the
 * two on depth-10 forests).
 *
 * @example
 * import { forestShapAlgorithm2 } from 'millwright';
 * const { values } = forestShapAlgorithm2(forest, cover, Xrow, rows); // = forestShap's to ~1e-15
 */
export function forestShapAlgorithm2(forest: Forest, cover: ForestCover, X: Float32Array, n: number): TreeShapValues {
  const F = forest.nFeatures;
  const K = forest.nOutputs;
  if (X.length !== n * F) throw new MillwrightError('BAD_INPUT', `TreeSHAP: matrix has ${X.length} values, expected ${n} rows x ${F} features`);
  checkCover(forest, cover);
  const prepared: PreparedTree[] = forest.trees.map((t, i) => ({ tree: t, cover: cover[i]!, depth: treeDepth(t) }));
  const maxDepth = prepared.reduce((s, p) => Math.max(s, p.depth), 0);
  const size = ((maxDepth + 3) * (maxDepth + 4)) / 2 + 4;
  if (INV.length < maxDepth + 3) INV = inverses(maxDepth + 3);
  const s: PathScratch = { feat: new Int32Array(size), zero: new Float64Array(size), one: new Float64Array(size), w: new Float64Array(size) };
  const values = new Float64Array(n * F * K);
  for (let r = 0; r < n; r++) {
    for (const p of prepared) recurse(p, X, r * F, values, r * F * K, K, 0, 0, 0, 1, 1, -1, s);
  }
  const inv = 1 / forest.trees.length;
  for (let i = 0; i < values.length; i++) values[i]! *= inv;
  return { rows: n, nFeatures: F, nOutputs: K, values, base: forestExpectedValue(forest, cover) };
}

/**
 * One node of Algorithm 2: copy the parent's unique path one level up, extend it with the
 * feature that led here, then either credit every feature on the path (leaf) or recurse into the
 * child the row follows ("hot", one fraction 1) and the other ("cold", one fraction 0), undoing
 * an earlier split on the same feature first so each feature appears once on the path.
 */
function recurse(p: PreparedTree, X: Float32Array, xOff: number, phi: Float64Array, phiOff: number, K: number, node: number, depth: number, parentOff: number, pz: number, po: number, pf: number, s: PathScratch): void {
  const { feat, zero, one, w } = s;
  const off = parentOff + depth + 1;
  for (let i = 0; i <= depth; i++) {
    feat[off + i] = feat[parentOff + i]!;
    zero[off + i] = zero[parentOff + i]!;
    one[off + i] = one[parentOff + i]!;
    w[off + i] = w[parentOff + i]!;
  }
  extendPath(s, off, depth, pz, po, pf);
  const t = p.tree;
  const left = t.left[node]!;
  if (left < 0) {
    const v = node * K;
    // Cold elements (one fraction 0) all get the same scale, -(depth + 1) * sum_j w[j] / (depth - j):
    // the unwound sum's z cancels against (one - zero). Computed once per leaf, on first need.
    let coldScale = Number.NaN;
    for (let i = 1; i <= depth; i++) {
      let scale: number;
      if (one[off + i] === 0) {
        if (Number.isNaN(coldScale)) {
          let sum = 0;
          for (let j = depth - 1; j >= 0; j--) sum += w[off + j]! * INV[depth - j]!;
          coldScale = -(depth + 1) * sum;
        }
        scale = coldScale;
      } else {
        scale = hotUnwoundSum(w, off, depth, zero[off + i]!) * (1 - zero[off + i]!);
      }
      const o = phiOff + feat[off + i]! * K;
      for (let k = 0; k < K; k++) phi[o + k]! += scale * t.value[v + k]!;
    }
    return;
  }
  const right = t.right[node]!;
  const f = t.feature[node]!;
  const goLeft = X[xOff + f]! <= t.threshold[node]!;
  const hot = goLeft ? left : right;
  const cold = goLeft ? right : left;
  const c = p.cover[node]!;
  let iz = 1;
  let io = 1;
  let d = depth;
  let k = 1;
  while (k <= d && feat[off + k] !== f) k++;
  if (k <= d) {
    iz = zero[off + k]!;
    io = one[off + k]!;
    unwindPath(s, off, d, k);
    d--;
  }
  recurse(p, X, xOff, phi, phiOff, K, hot, d + 1, off, (p.cover[hot]! / c) * iz, io, f, s);
  recurse(p, X, xOff, phi, phiOff, K, cold, d + 1, off, (p.cover[cold]! / c) * iz, 0, f, s);
}

/** EXTEND: adds one feature to the path and updates the permutation weights of every subset size. */
function extendPath(s: PathScratch, off: number, depth: number, pz: number, po: number, pf: number): void {
  const { feat, zero, one, w } = s;
  feat[off + depth] = pf;
  zero[off + depth] = pz;
  one[off + depth] = po;
  w[off + depth] = depth === 0 ? 1 : 0;
  // po / (depth + 1) and pz / (depth + 1) once, not a division per weight.
  const inv = INV[depth + 1]!;
  const a = po * inv;
  const b = pz * inv;
  for (let i = depth - 1; i >= 0; i--) {
    const wi = w[off + i]!;
    w[off + i + 1]! += a * wi * (i + 1);
    w[off + i] = b * wi * (depth - i);
  }
}

/** UNWIND: removes path element `index`, inverting its EXTEND (used when a feature splits again). */
function unwindPath(s: PathScratch, off: number, depth: number, index: number): void {
  const { feat, zero, one, w } = s;
  const o = one[off + index]!;
  const z = zero[off + index]!;
  let next = w[off + depth]!;
  const d1 = depth + 1;
  for (let i = depth - 1; i >= 0; i--) {
    if (o !== 0) {
      const tmp = w[off + i]!;
      w[off + i] = (next * d1) / ((i + 1) * o);
      next = tmp - (w[off + i]! * z * (depth - i)) / d1;
    } else {
      w[off + i] = (w[off + i]! * d1) / (z * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    feat[off + i] = feat[off + i + 1]!;
    zero[off + i] = zero[off + i + 1]!;
    one[off + i] = one[off + i + 1]!;
  }
}

/** 1/k for the path lengths and positions TreeSHAP divides by (a multiply instead of a division in the inner loops). */
let INV = inverses(66);

function inverses(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, k) => (k === 0 ? 0 : 1 / k));
}

/**
 * The unwound sum of a "hot" path element (one fraction 1, zero fraction `z`): UNWIND's
 * recurrence with o = 1 and the divisions by (i + 1) as multiplies. One fractions are 0 or 1 in
 * path-dependent TreeSHAP (the row goes down a split or it does not), so this and the cold
 * case at the leaf are the only two.
 */
function hotUnwoundSum(w: Float64Array, off: number, depth: number, z: number): number {
  let next = w[off + depth]!;
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    const a = next * INV[i + 1]!;
    total += a;
    next = w[off + i]! - a * z * (depth - i);
  }
  return total * (depth + 1);
}

/**
 * Global importance: mean |attribution| over the rows, per feature and output
 * (`out[f * nOutputs + k]`), the ranking SageMaker Clarify and Model Monitor compare.
 *
 * @example
 * const importance = meanAbsShap(forestShap(forest, cover, X, n));
 */
export function meanAbsShap(shap: TreeShapValues): Float64Array {
  const { rows, nFeatures: F, nOutputs: K, values } = shap;
  const out = new Float64Array(F * K);
  for (let r = 0; r < rows; r++) for (let j = 0; j < F * K; j++) out[j]! += Math.abs(values[r * F * K + j]!);
  if (rows > 0) for (let j = 0; j < F * K; j++) out[j]! /= rows;
  return out;
}
