/**
 * The serving layout of a trained forest, built from the trees at load time (the trained
 * `Tree` arrays and the forest.bin format stay as they are; TreeSHAP and the ONNX export read
 * those). Two layouts:
 *
 * - **complete** (every tree at most {@link COMPLETE_MAX_DEPTH} deep): each tree becomes a
 *   complete binary tree of its own depth d, internal nodes in breadth-first order (children of
 *   i at 2i+1, 2i+2) and 2^d leaf slots; a leaf above depth d is pushed down by padding nodes
 *   whose two children lead to copies of it. Every row then takes exactly d branch-free steps
 *   (`i = 2i + 2 - (x <= t)`), so a block of rows walks the tree in lockstep with no
 *   mispredicted branches and independent loads the CPU overlaps.
 * - **sparse** (deeper or unlimited trees): the trained node order (parents first, depth-first)
 *   with absolute child links in one Int32Array (`child[2i]`, `child[2i + 1]`); a leaf links to
 *   itself, so rows in lockstep that reach a leaf early just wait there.
 *
 * Each tree is walked over a block of rows at a time (many rows per tree pass), eight rows in
 * lockstep, into a reused slot buffer: no allocation per row. Leaf values are the trained
 * float32 values held as float64 and added per row in tree order, then scaled by 1/trees: the same
 * arithmetic in the same order as `predictForest`, so predictions are bit-identical.
 * Missing values (NaN) fail `x <= t` and go right, as in `predictForest` and ONNX BRANCH_LEQ.
 *
 * Both layouts are also copied into WebAssembly memory (forest-wasm.ts): batches of at least
 * eight rows are walked there, the same steps in the same order, two to three times as fast as V8
 * runs the JS walkers (no bounds checks). Fewer rows of a one-output complete forest (single-row
 * serving) go through the wasm row walker, eight trees at a time: 1.9 µs a row on the bench's
 * 100 x depth-10 forest against 3.5 µs for the JS four-tree lockstep. The JS walkers stay for the
 * rest and wherever WebAssembly is unavailable or turned off (`{ wasm: false }`).
 */
import { MillwrightError } from '../../errors/index.ts';
import type { Forest } from './forest.ts';
import type { Tree } from './tree.ts';
import { addRowWasm, addTreesWasm, wasmComplete, wasmSparse, type CompleteArrays, type WasmForest } from './forest-wasm.ts';

/** Deepest tree the complete layout takes (2^12 leaf slots per tree); deeper forests use the sparse one. */
export const COMPLETE_MAX_DEPTH = 12;

/**
 * Rows per pass of one tree. A depth-10 tree (16 KiB) stays in L1 while 4,096 rows (320 KiB of
 * 20 float32 features) come from L2; deep trees (hundreds of KiB each) are walked over up to
 * 65,536 rows at a time so each is fetched from memory once per pass, not once per small block.
 * Measured on the bench forests: 256-row blocks were 1.5x (complete) to 3x (sparse) slower.
 */
const COMPLETE_BLOCK = 4096;
const SPARSE_BLOCK = 65536;

/** Per tree (CompleteArrays): its depth d, the offset of its 2^d - 1 internal nodes, of its 2^d * K leaf values. */
interface CompleteLayout extends CompleteArrays {
  kind: 'complete';
  /** The same nodes in WebAssembly memory, walked for blocks of 8 rows or more; absent with `{ wasm: false }`. */
  wasm?: WasmForest;
}

interface SparseLayout {
  kind: 'sparse';
  /** Per tree: the absolute index of its root node. */
  root: Int32Array;
  /** Per node i: [2i] left child, [2i+1] right child; a leaf points to itself on both sides. */
  child: Int32Array;
  feature: Int32Array;
  threshold: Float32Array;
  /** Per node: 1 for a split, 0 for a leaf. */
  split: Uint8Array;
  /** Per node: offset of its K leaf values (leaves only). */
  leafAt: Int32Array;
  leaf: Float64Array;
  /** The same nodes in WebAssembly memory, walked for blocks of 8 rows or more; absent with `{ wasm: false }`. */
  wasm?: WasmForest;
}

/** A forest compiled for prediction; see the module comment for the layouts. */
export interface CompiledForest {
  readonly kind: Forest['kind'];
  readonly nFeatures: number;
  readonly nOutputs: number;
  readonly nTrees: number;
  /** The node arrays: complete (depth <= COMPLETE_MAX_DEPTH) or sparse; see the module comment. */
  readonly layout: CompleteLayout | SparseLayout;
}

/**
 * Depth of the deepest leaf (0 for a single-leaf tree).
 *
 * @example
 * import { treeDepth } from 'millwright';
 * Math.max(...forest.trees.map(treeDepth)); // 10 for a max_depth 10 forest
 */
export function treeDepth(t: Tree): number {
  const m = t.feature.length;
  const depth = new Int32Array(m);
  let max = 0;
  for (let i = 0; i < m; i++) {
    const l = t.left[i]!;
    if (l < 0) {
      if (depth[i]! > max) max = depth[i]!;
      continue;
    }
    // children always come after their parent (growTree appends them), so one forward pass works
    depth[l] = depth[i]! + 1;
    depth[t.right[i]!] = depth[i]! + 1;
  }
  return max;
}

/** Options of {@link compileForest}. */
export interface CompileOptions {
  /** Walk the layout in WebAssembly when it can be built (default true); false keeps the JS walkers only. */
  wasm?: boolean;
}

/**
 * Builds the prediction layout of a trained forest (complete for trees up to
 * {@link COMPLETE_MAX_DEPTH} deep, sparse otherwise).
 *
 * @example
 * import { compileForest, predictCompiled } from 'millwright';
 * const fast = compileForest(forest);
 * const y = predictCompiled(fast, X, n); // same values as predictForest(forest, X, n)
 * const jsOnly = compileForest(forest, { wasm: false }); // the same values without WebAssembly
 */
export function compileForest(forest: Forest, options: CompileOptions = {}): CompiledForest {
  if (forest.trees.length === 0) throw new MillwrightError('BAD_INPUT', 'forest: no trees to compile (expected at least one)');
  const depths = forest.trees.map(treeDepth);
  const layout = Math.max(...depths) <= COMPLETE_MAX_DEPTH ? completeLayout(forest, depths) : sparseLayout(forest);
  if (options.wasm !== false) {
    const wasm = layout.kind === 'complete' ? wasmComplete(layout, forest.nFeatures, forest.nOutputs) : wasmSparse(layout, forest.nFeatures, forest.nOutputs);
    if (wasm !== undefined) layout.wasm = wasm;
  }
  return { kind: forest.kind, nFeatures: forest.nFeatures, nOutputs: forest.nOutputs, nTrees: forest.trees.length, layout };
}

function completeLayout(forest: Forest, depths: number[]): CompleteLayout {
  const K = forest.nOutputs;
  const T = forest.trees.length;
  const depth = Int32Array.from(depths);
  const nodeOffset = new Int32Array(T);
  const leafOffset = new Int32Array(T);
  let nodes = 0;
  let leaves = 0;
  for (let t = 0; t < T; t++) {
    nodeOffset[t] = nodes;
    leafOffset[t] = leaves;
    nodes += (1 << depths[t]!) - 1;
    leaves += (1 << depths[t]!) * K;
  }
  const feature = new Int32Array(nodes);
  const threshold = new Float32Array(nodes);
  const leaf = new Float64Array(leaves);
  for (let t = 0; t < T; t++) {
    const tree = forest.trees[t]!;
    const d = depths[t]!;
    const no = nodeOffset[t]!;
    const lo = leafOffset[t]!;
    // (source node, complete-tree position, level); padding nodes keep feature 0, threshold 0
    const stack: number[] = [0, 0, 0];
    while (stack.length > 0) {
      const level = stack.pop()!;
      const pos = stack.pop()!;
      const src = stack.pop()!;
      if (tree.left[src]! >= 0) {
        feature[no + pos] = tree.feature[src]!;
        threshold[no + pos] = tree.threshold[src]!;
        stack.push(tree.left[src]!, 2 * pos + 1, level + 1, tree.right[src]!, 2 * pos + 2, level + 1);
        continue;
      }
      // a leaf at `level` covers 2^(d - level) consecutive leaf slots at the bottom
      const span = 1 << (d - level);
      const first = ((pos + 1) << (d - level)) - (1 << d);
      for (let s = first; s < first + span; s++) {
        for (let k = 0; k < K; k++) leaf[lo + s * K + k] = tree.value[src * K + k]!;
      }
    }
  }
  return { kind: 'complete', depth, nodeOffset, leafOffset, feature, threshold, leaf };
}

function sparseLayout(forest: Forest): SparseLayout {
  const K = forest.nOutputs;
  const T = forest.trees.length;
  let total = 0;
  for (const t of forest.trees) total += t.feature.length;
  const root = new Int32Array(T);
  const child = new Int32Array(2 * total);
  const feature = new Int32Array(total);
  const threshold = new Float32Array(total);
  const split = new Uint8Array(total);
  const leafAt = new Int32Array(total);
  const leaf = new Float64Array(total * K);
  let base = 0;
  for (let t = 0; t < T; t++) {
    const tree = forest.trees[t]!;
    root[t] = base;
    // trained node order kept (parents before children); indices made absolute
    for (let i = 0; i < tree.feature.length; i++) {
      const at = base + i;
      const l = tree.left[i]!;
      leafAt[at] = at * K;
      for (let k = 0; k < K; k++) leaf[at * K + k] = tree.value[i * K + k]!;
      if (l < 0) {
        child[2 * at] = at;
        child[2 * at + 1] = at;
        continue;
      }
      split[at] = 1;
      feature[at] = tree.feature[i]!;
      threshold[at] = tree.threshold[i]!;
      child[2 * at] = base + l;
      child[2 * at + 1] = base + tree.right[i]!;
    }
    base += tree.feature.length;
  }
  return { kind: 'sparse', root, child, feature, threshold, split, leafAt, leaf };
}

let scratch32 = new Float32Array(0);
let slots = new Int32Array(0);

/**
 * Predictions of a compiled forest for `n` rows of a row-major matrix (`r * nFeatures + f`):
 * `nOutputs` values per row, the tree average, exactly as {@link predictForest} computes it.
 * Float64 input is rounded to float32 first (the trees compare in float32, like ONNX).
 * `out`, when given, must hold `n * nOutputs` values and is overwritten.
 *
 * @example
 * import { compileForest, predictCompiled } from 'millwright';
 * const y = predictCompiled(compileForest(forest), Float64Array.of(0.1, 0.7), 1);
 */
export function predictCompiled(forest: CompiledForest, X: Float32Array | Float64Array, n: number, out?: Float64Array): Float64Array {
  const F = forest.nFeatures;
  const K = forest.nOutputs;
  if (X.length < n * F) {
    throw new MillwrightError('BAD_INPUT', `predict: matrix has ${X.length} values, expected ${n} rows x ${F} features`);
  }
  const res = out ?? new Float64Array(n * K);
  if (res.length < n * K) throw new MillwrightError('BAD_INPUT', `predict: output has ${res.length} values, expected ${n * K}`);
  res.fill(0, 0, n * K);
  const layout = forest.layout;
  if (layout.wasm !== undefined && n >= 8) {
    addTreesWasm(layout.wasm, X, n, F, K, res);
    const inv = 1 / forest.nTrees;
    for (let i = 0; i < n * K; i++) res[i]! *= inv;
    return res;
  }
  const row = layout.wasm?.row;
  if (row !== undefined) {
    const inv = 1 / forest.nTrees;
    for (let r = 0; r < n; r++) res[r] = addRowWasm(row, X, r, F) * inv;
    return res;
  }
  const block = Math.min(n, layout.kind === 'complete' ? COMPLETE_BLOCK : SPARSE_BLOCK);
  if (scratch32.length < block * F) scratch32 = new Float32Array(block * F);
  if (slots.length < block) slots = new Int32Array(block);
  const leaf = layout.leaf;
  for (let start = 0; start < n; start += block) {
    const rows = Math.min(block, n - start);
    let xs: Float32Array;
    if (X instanceof Float32Array) xs = X.subarray(start * F, (start + rows) * F);
    else {
      xs = scratch32;
      xs.set(X.subarray(start * F, (start + rows) * F));
    }
    if (layout.kind === 'complete' && rows < 8) {
      fewComplete(layout, forest.nTrees, xs, rows, F, K, res, start * K);
      continue;
    }
    for (let t = 0; t < forest.nTrees; t++) {
      if (layout.kind === 'complete') walkComplete(layout, t, xs, rows, F, K, slots);
      else walkSparse(layout, t, xs, rows, F, slots);
      addLeaves(leaf, slots, rows, K, res, start * K);
    }
  }
  const inv = 1 / forest.nTrees;
  for (let i = 0; i < n * K; i++) res[i]! *= inv;
  return res;
}

/**
 * Fewer rows than the lockstep width (single-row serving), complete layout: every tree walked
 * and summed in one loop, with no per-tree call or node-array views (each view is an allocation).
 * Same comparisons and the same summation order as walkComplete + addLeaves: the same bits.
 */
function fewComplete(L: CompleteLayout, nTrees: number, xs: Float32Array, rows: number, F: number, K: number, out: Float64Array, o: number): void {
  const { depth, nodeOffset, leafOffset, feature: fa, threshold: ta, leaf } = L;
  let t = 0;
  if (K === 1) {
    // four trees of equal depth in lockstep for each row: four independent load chains (one
    // row's walk is latency-bound), leaves still added in tree order
    for (; t + 4 <= nTrees; t += 4) {
      const d = depth[t]!;
      if (d === 0 || depth[t + 1] !== d || depth[t + 2] !== d || depth[t + 3] !== d) break;
      const n0 = nodeOffset[t]!;
      const n1 = nodeOffset[t + 1]!;
      const n2 = nodeOffset[t + 2]!;
      const n3 = nodeOffset[t + 3]!;
      const inner = (1 << d) - 1;
      for (let r = 0; r < rows; r++) {
        const b = r * F;
        let i0 = 2 - +(xs[b + fa[n0]!]! <= ta[n0]!);
        let i1 = 2 - +(xs[b + fa[n1]!]! <= ta[n1]!);
        let i2 = 2 - +(xs[b + fa[n2]!]! <= ta[n2]!);
        let i3 = 2 - +(xs[b + fa[n3]!]! <= ta[n3]!);
        for (let l = 1; l < d; l++) {
          i0 = 2 * i0 + 2 - +(xs[b + fa[n0 + i0]!]! <= ta[n0 + i0]!);
          i1 = 2 * i1 + 2 - +(xs[b + fa[n1 + i1]!]! <= ta[n1 + i1]!);
          i2 = 2 * i2 + 2 - +(xs[b + fa[n2 + i2]!]! <= ta[n2 + i2]!);
          i3 = 2 * i3 + 2 - +(xs[b + fa[n3 + i3]!]! <= ta[n3 + i3]!);
        }
        let acc = out[o + r]!;
        acc += leaf[leafOffset[t]! + i0 - inner]!;
        acc += leaf[leafOffset[t + 1]! + i1 - inner]!;
        acc += leaf[leafOffset[t + 2]! + i2 - inner]!;
        acc += leaf[leafOffset[t + 3]! + i3 - inner]!;
        out[o + r] = acc;
      }
    }
  }
  for (; t < nTrees; t++) {
    const d = depth[t]!;
    const no = nodeOffset[t]!;
    const lo = leafOffset[t]! - ((1 << d) - 1) * K;
    for (let r = 0; r < rows; r++) {
      let i = 0;
      if (d > 0) {
        const b = r * F;
        i = 2 - +(xs[b + fa[no]!]! <= ta[no]!);
        for (let l = 1; l < d; l++) i = 2 * i + 2 - +(xs[b + fa[no + i]!]! <= ta[no + i]!);
      }
      const v = lo + i * K;
      if (K === 1) out[o + r]! += leaf[v]!;
      else for (let k = 0; k < K; k++) out[o + r * K + k]! += leaf[v + k]!;
    }
  }
}

function addLeaves(leaf: Float64Array, slot: Int32Array, rows: number, K: number, out: Float64Array, o: number): void {
  if (K === 1) {
    for (let r = 0; r < rows; r++) out[o + r]! += leaf[slot[r]!]!;
    return;
  }
  for (let r = 0; r < rows; r++) {
    const v = slot[r]!;
    const w = o + r * K;
    for (let k = 0; k < K; k++) out[w + k]! += leaf[v + k]!;
  }
}

// The walkers are the hot loops and stay whole: eight rows advance together, each step
// branch-free (`2i + 2 - (x <= t)`), so the CPU overlaps eight independent load chains instead
// of waiting on one (a single row's walk is latency-bound: node -> feature -> input -> compare).

/** Leaf-value offsets (into `leaf`) of tree `t` for each row of the block, complete layout. */
function walkComplete(L: CompleteLayout, t: number, xs: Float32Array, rows: number, F: number, K: number, slot: Int32Array): void {
  const d = L.depth[t]!;
  const no = L.nodeOffset[t]!;
  const lo = L.leafOffset[t]! - ((1 << d) - 1) * K;
  if (d === 0) {
    slot.fill(lo, 0, rows);
    return;
  }
  // views of this tree's nodes (no offset add per step); the root's test needs no node loads
  const fe = L.feature.subarray(no, no + (1 << d) - 1);
  const th = L.threshold.subarray(no, no + (1 << d) - 1);
  const f0 = fe[0]!;
  const t0 = th[0]!;
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    const b0 = r * F;
    const b1 = b0 + F;
    const b2 = b1 + F;
    const b3 = b2 + F;
    const b4 = b3 + F;
    const b5 = b4 + F;
    const b6 = b5 + F;
    const b7 = b6 + F;
    let i0 = 2 - +(xs[b0 + f0]! <= t0);
    let i1 = 2 - +(xs[b1 + f0]! <= t0);
    let i2 = 2 - +(xs[b2 + f0]! <= t0);
    let i3 = 2 - +(xs[b3 + f0]! <= t0);
    let i4 = 2 - +(xs[b4 + f0]! <= t0);
    let i5 = 2 - +(xs[b5 + f0]! <= t0);
    let i6 = 2 - +(xs[b6 + f0]! <= t0);
    let i7 = 2 - +(xs[b7 + f0]! <= t0);
    for (let l = 1; l < d; l++) {
      i0 = 2 * i0 + 2 - +(xs[b0 + fe[i0]!]! <= th[i0]!);
      i1 = 2 * i1 + 2 - +(xs[b1 + fe[i1]!]! <= th[i1]!);
      i2 = 2 * i2 + 2 - +(xs[b2 + fe[i2]!]! <= th[i2]!);
      i3 = 2 * i3 + 2 - +(xs[b3 + fe[i3]!]! <= th[i3]!);
      i4 = 2 * i4 + 2 - +(xs[b4 + fe[i4]!]! <= th[i4]!);
      i5 = 2 * i5 + 2 - +(xs[b5 + fe[i5]!]! <= th[i5]!);
      i6 = 2 * i6 + 2 - +(xs[b6 + fe[i6]!]! <= th[i6]!);
      i7 = 2 * i7 + 2 - +(xs[b7 + fe[i7]!]! <= th[i7]!);
    }
    slot[r] = lo + i0 * K;
    slot[r + 1] = lo + i1 * K;
    slot[r + 2] = lo + i2 * K;
    slot[r + 3] = lo + i3 * K;
    slot[r + 4] = lo + i4 * K;
    slot[r + 5] = lo + i5 * K;
    slot[r + 6] = lo + i6 * K;
    slot[r + 7] = lo + i7 * K;
  }
  for (; r < rows; r++) {
    const b = r * F;
    let i = 2 - +(xs[b + f0]! <= t0);
    for (let l = 1; l < d; l++) i = 2 * i + 2 - +(xs[b + fe[i]!]! <= th[i]!);
    slot[r] = lo + i * K;
  }
}

/**
 * Sparse layout: the same eight-row lockstep through explicit child links; a row at a leaf stays
 * there (a leaf links to itself), and the group stops when all eight are at leaves.
 */
function walkSparse(L: SparseLayout, t: number, xs: Float32Array, rows: number, F: number, slot: Int32Array): void {
  const { child: c, feature: fe, threshold: th, split: sp, leafAt } = L;
  const root = L.root[t]!;
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    const b0 = r * F;
    const b1 = b0 + F;
    const b2 = b1 + F;
    const b3 = b2 + F;
    const b4 = b3 + F;
    const b5 = b4 + F;
    const b6 = b5 + F;
    const b7 = b6 + F;
    let i0 = root, i1 = root, i2 = root, i3 = root, i4 = root, i5 = root, i6 = root, i7 = root; // prettier-ignore
    while ((sp[i0]! | sp[i1]! | sp[i2]! | sp[i3]! | sp[i4]! | sp[i5]! | sp[i6]! | sp[i7]!) !== 0) {
      i0 = c[2 * i0 + 1 - +(xs[b0 + fe[i0]!]! <= th[i0]!)]!;
      i1 = c[2 * i1 + 1 - +(xs[b1 + fe[i1]!]! <= th[i1]!)]!;
      i2 = c[2 * i2 + 1 - +(xs[b2 + fe[i2]!]! <= th[i2]!)]!;
      i3 = c[2 * i3 + 1 - +(xs[b3 + fe[i3]!]! <= th[i3]!)]!;
      i4 = c[2 * i4 + 1 - +(xs[b4 + fe[i4]!]! <= th[i4]!)]!;
      i5 = c[2 * i5 + 1 - +(xs[b5 + fe[i5]!]! <= th[i5]!)]!;
      i6 = c[2 * i6 + 1 - +(xs[b6 + fe[i6]!]! <= th[i6]!)]!;
      i7 = c[2 * i7 + 1 - +(xs[b7 + fe[i7]!]! <= th[i7]!)]!;
    }
    slot[r] = leafAt[i0]!;
    slot[r + 1] = leafAt[i1]!;
    slot[r + 2] = leafAt[i2]!;
    slot[r + 3] = leafAt[i3]!;
    slot[r + 4] = leafAt[i4]!;
    slot[r + 5] = leafAt[i5]!;
    slot[r + 6] = leafAt[i6]!;
    slot[r + 7] = leafAt[i7]!;
  }
  for (; r < rows; r++) {
    const b = r * F;
    let i = root;
    while (sp[i] === 1) i = c[2 * i + 1 - +(xs[b + fe[i]!]! <= th[i]!)]!;
    slot[r] = leafAt[i]!;
  }
}
