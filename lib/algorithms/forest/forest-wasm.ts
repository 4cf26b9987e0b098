/**
 * The complete-layout walker of {@link compileForest} as a small WebAssembly function, emitted
 * here byte by byte (no binary blob, no toolchain, no dependency) and compiled once per process.
 *
 * Why WebAssembly: the JS walker's eight-row lockstep is already branch-free, but V8's JS code for
 * it pays two typed-array bounds checks, an overflow check and register spills per node visit
 * (~1.9 ns a visit on the bench's 100 x depth-10 forest). The same loop in wasm has no bounds checks
 * (the engine's guard pages), no tagged values and a `select` V8 turns into `cmov`: ~1.0 ns a visit.
 *
 * The top two levels of every tree are decided with 128-bit SIMD (four lanes an instruction; see
 * {@link PREFIX}), the rest by the scalar lockstep: ~0.9 ns a visit on the same forest.
 *
 * Same arithmetic as the JS walker, so the same bits: float32 inputs against float32 thresholds
 * with `f32.le` and `f32x4.le` (NaN fails both and goes right, as in `predictForest`), leaf values
 * as float64 added per row in tree order starting from 0; the caller scales by 1/trees as before.
 *
 * Memory of one forest (its own `WebAssembly.Memory`, sized once):
 * - tree table, 12 bytes a tree: depth, absolute byte address of its root node, leaf address bias;
 * - nodes, 8 bytes each in each tree's breadth-first order: float32 threshold, int32 feature offset
 *   (feature * LANES * 4: the byte offset of that feature in a row group, below);
 * - leaf values (float64, `nOutputs` per leaf slot), as in the JS layout;
 * - a block of input rows, transposed in groups of LANES rows (`group[feature][lane]`, float32) so
 *   that lane k reads `group + featureOffset + 4k` (a constant offset, no per-row base register);
 * - the block's per-row sums (float64, `nOutputs` per row).
 */

// The project compiles without the DOM lib, where TypeScript keeps its WebAssembly types; these are
// the few members used here (the runtime object is Node's global WebAssembly).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmModule {
  readonly kind?: never;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
};

/** Rows advanced in lockstep (independent load chains the CPU overlaps); matches the JS walker. */
const LANES = 8;

/**
 * Levels at the top of each tree decided in SIMD, four lanes per instruction, before the scalar
 * lockstep takes over. Every lane starts at the root, so level 0 is one comparison for all lanes
 * and level 1 two, picked per lane with a mask; deeper levels need every node's comparison (2^L of
 * them) and cost more than the scalar steps they replace. Measured on the bench's 100 x depth-10
 * forest, CPU time, against no prefix: 1 level 0.97-0.98x, 2 levels 1.09-1.13x, 3 levels
 * 1.03-1.05x, 4 levels 0.87x, 5 levels 0.61x.
 */
const PREFIX = 2;

/**
 * Rows per call. The transposed block (1,024 x 20 float32 = 80 KiB) stays in L2 next to the tree
 * being walked; measured on the bench forest under load: 256 rows 1.03, 1,024 rows 0.97, 4,096 rows
 * 1.06 ns a node visit.
 */
export const WASM_BLOCK = 1024;

/**
 * Rows per call for sparse (deep) forests, as the JS walker's: a deep tree is hundreds of KiB
 * fetched from memory once per block, so the block is large (measured on the bench's 20-tree
 * unlimited forest: 1,024 rows 0.6x the JS walker, 16,384 rows 1.3x, 65,536 rows 1.7-1.8x). Fewer
 * rows when the features are many: the block's rows stay under 8 MiB.
 */
export const WASM_SPARSE_BLOCK = 65536;

function sparseBlock(F: number): number {
  return Math.max(1024, Math.min(WASM_SPARSE_BLOCK, Math.floor((8 << 20) / (4 * Math.max(F, 1)) / LANES) * LANES));
}

/** Largest memory a forest may take in wasm (bytes); a larger complete forest stays on the JS walker. */
const MAX_BYTES = 1 << 30;

/** One compiled forest in WebAssembly memory; see the module comment for the layout. */
export interface WasmForest {
  readonly memory: WasmMemory;
  readonly walk: (treeTable: number, nTrees: number, xBase: number, groups: number, groupBytes: number, outBase: number, nOutputs: number) => void;
  readonly nTrees: number;
  readonly xBase: number;
  readonly outBase: number;
  /** Rows per call: {@link WASM_BLOCK} (complete) or up to {@link WASM_SPARSE_BLOCK} (sparse). */
  readonly block: number;
  /** Complete forests with one output: the single-row walker and its plan (see {@link addRowWasm}). */
  readonly row?: RowWalker;
}

/** The single-row walker of a complete one-output forest, with views made once (the memory never grows). */
export interface RowWalker {
  readonly walkRow: WasmForest['walk'];
  readonly planBase: number;
  readonly entries: number;
  /** The row's float32 features at stride LANES (lane 0 of a transposed group), and its sum. */
  readonly x: Float32Array;
  readonly sum: Float64Array;
}

/** The complete layout's arrays that the wasm copy is built from (see compiled-forest.ts). */
export interface CompleteArrays {
  depth: Int32Array;
  nodeOffset: Int32Array;
  leafOffset: Int32Array;
  feature: Int32Array;
  threshold: Float32Array;
  leaf: Float64Array;
}

/** The sparse layout's arrays (see compiled-forest.ts). */
export interface SparseArrays {
  root: Int32Array;
  child: Int32Array;
  feature: Int32Array;
  threshold: Float32Array;
  leaf: Float64Array;
}

let compiled: WasmModule | null | undefined;

/** The walker module, built on first use; null when this runtime cannot compile WebAssembly. */
function walkerModule(): WasmModule | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes([encodeComplete(), encodeSparse(), encodeRow()]));
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A zeroed memory of `bytes` with the walkers bound to it, or undefined when it cannot be had. */
function instantiate(bytes: number): { memory: WasmMemory; exports: Record<string, unknown> } | undefined {
  const mod = walkerModule();
  if (mod === null || bytes > MAX_BYTES) return undefined;
  try {
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536), maximum: Math.ceil(bytes / 65536) });
    return { memory, exports: new WebAssembly.Instance(mod, { m: { memory } }).exports };
  } catch {
    return undefined; // address space refused: the JS walker needs no extra memory
  }
}

/** Byte offsets of the four regions after a tree table of T entries (see the module comment). */
function regions(T: number, nodeBytes: number, leafValues: number, F: number, K: number, block: number): { nodeBase: number; leafBase: number; xBase: number; outBase: number; end: number } {
  const nodeBase = align(T * 12);
  const leafBase = align(nodeBase + nodeBytes);
  const xBase = align(leafBase + leafValues * 8);
  const outBase = align(xBase + (block + LANES) * F * 4);
  return { nodeBase, leafBase, xBase, outBase, end: outBase + (block + LANES) * K * 8 };
}

/**
 * Copies a complete layout into a new WebAssembly memory with a walker bound to it, or returns
 * undefined (no WebAssembly, or a forest over {@link MAX_BYTES}): the caller keeps the JS walker.
 */
export function wasmComplete(L: CompleteArrays, nFeatures: number, nOutputs: number): WasmForest | undefined {
  const T = L.depth.length;
  const K = nOutputs;
  const { nodeBase, leafBase, xBase, outBase, end } = regions(T, L.feature.length * 8, L.leaf.length, nFeatures, K, WASM_BLOCK);
  const groups = K === 1 ? rowGroups(L.depth) : [];
  const planBase = align(end);
  const made = instantiate(planBase + groups.length * PLAN_ENTRY_BYTES);
  if (made === undefined) return undefined;
  const { memory } = made;
  const i32 = new Int32Array(memory.buffer);
  const f32 = new Float32Array(memory.buffer);
  // the walk ends at the node address o of a bottom slot; its leaf values sit at
  // leafBase + (leafOffset + (o - root) / 8 - (2^d - 1)) * K * 8 = bias + o * K (mod 2^32)
  const bias = (t: number, root: number) => leafBase + (L.leafOffset[t]! - ((1 << L.depth[t]!) - 1) * K) * 8 - root * K;
  const rootAt = (t: number) => nodeBase + L.nodeOffset[t]! * 8;
  for (let t = 0; t < T; t++) {
    i32[3 * t] = L.depth[t]!;
    i32[3 * t + 1] = rootAt(t);
    i32[3 * t + 2] = bias(t, rootAt(t));
  }
  for (let i = 0; i < L.feature.length; i++) {
    f32[nodeBase / 4 + 2 * i] = L.threshold[i]!;
    i32[nodeBase / 4 + 2 * i + 1] = L.feature[i]! * LANES * 4;
  }
  new Float64Array(memory.buffer, leafBase, L.leaf.length).set(L.leaf);
  // the row plan: per entry its lane count (1 or LANES), the trees' depth, then LANES roots and LANES biases
  groups.forEach(([first, lanes], j) => {
    const at = (planBase + j * PLAN_ENTRY_BYTES) / 4;
    i32[at] = lanes;
    i32[at + 1] = L.depth[first]!;
    for (let k = 0; k < lanes; k++) {
      i32[at + 2 + k] = rootAt(first + k);
      i32[at + 2 + LANES + k] = bias(first + k, rootAt(first + k));
    }
  });
  const row: RowWalker | undefined =
    K === 1
      ? { walkRow: made.exports.walkRow as WasmForest['walk'], planBase, entries: groups.length, x: new Float32Array(memory.buffer, xBase, nFeatures * LANES), sum: new Float64Array(memory.buffer, outBase, 1) }
      : undefined;
  return { memory, walk: made.exports.walk as WasmForest['walk'], nTrees: T, xBase, outBase, block: WASM_BLOCK, ...(row ? { row } : {}) };
}

/** Bytes of one row-plan entry: lane count, depth, LANES roots, LANES leaf biases (int32 each). */
const PLAN_ENTRY_BYTES = (2 + 2 * LANES) * 4;

/**
 * The trees in order as [first tree, lanes]: LANES consecutive trees of one depth walk together
 * (LANES independent load chains for the one row), any other tree alone. The trees keep their
 * order, and so do the sums.
 */
function rowGroups(depth: Int32Array): [number, number][] {
  const out: [number, number][] = [];
  for (let t = 0; t < depth.length; ) {
    let same = t + LANES <= depth.length;
    for (let k = 1; same && k < LANES; k++) same = depth[t + k] === depth[t];
    const lanes = same ? LANES : 1;
    out.push([t, lanes]);
    t += lanes;
  }
  return out;
}

/**
 * One row (`X[r * F ...]`, F features) of a complete one-output forest in wasm: the sum of its
 * trees' leaf values in tree order, from 0, as the JS walker adds them (the same bits). For fewer
 * rows than the batch walker's lockstep, i.e. single-row serving.
 */
export function addRowWasm(row: RowWalker, X: Float32Array | Float64Array, r: number, F: number): number {
  const x = row.x;
  const b = r * F;
  for (let f = 0; f < F; f++) x[f * LANES] = X[b + f]!;
  row.walkRow(row.planBase, row.entries, x.byteOffset, 0, 0, row.sum.byteOffset, 0);
  return row.sum[0]!;
}

/**
 * Copies a sparse layout into a new WebAssembly memory: 16 bytes a node (float32 threshold, int32
 * feature offset, absolute addresses of the left and right child; a leaf links to itself), walked
 * until no lane of a group moves. Undefined when it cannot be built, as {@link wasmComplete}.
 */
export function wasmSparse(L: SparseArrays, nFeatures: number, nOutputs: number): WasmForest | undefined {
  const T = L.root.length;
  const K = nOutputs;
  const nodes = L.feature.length;
  const block = sparseBlock(nFeatures);
  const { nodeBase, leafBase, xBase, outBase, end } = regions(T, nodes * 16, L.leaf.length, nFeatures, K, block);
  const made = instantiate(end);
  if (made === undefined) return undefined;
  const { memory } = made;
  const i32 = new Int32Array(memory.buffer);
  const f32 = new Float32Array(memory.buffer);
  for (let t = 0; t < T; t++) {
    i32[3 * t + 1] = nodeBase + L.root[t]! * 16;
    // node address o = nodeBase + 16 i holds its values at leafBase + i * K * 8 = bias + (o >>> 1) * K
    i32[3 * t + 2] = leafBase - (nodeBase / 2) * K;
  }
  const n0 = nodeBase / 4;
  for (let i = 0; i < nodes; i++) {
    f32[n0 + 4 * i] = L.threshold[i]!;
    i32[n0 + 4 * i + 1] = L.feature[i]! * LANES * 4;
    i32[n0 + 4 * i + 2] = nodeBase + L.child[2 * i]! * 16;
    i32[n0 + 4 * i + 3] = nodeBase + L.child[2 * i + 1]! * 16;
  }
  new Float64Array(memory.buffer, leafBase, L.leaf.length).set(L.leaf);
  return { memory, walk: made.exports.walkSparse as WasmForest['walk'], nTrees: T, xBase, outBase, block };
}

function align(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

/**
 * Adds every tree's leaf values for `n` rows of `X` (row-major, `r * nFeatures + f`) into `out`
 * (`nOutputs` per row, from offset `o`), block by block; float64 input is rounded to float32 on
 * the way into wasm memory, as the JS walker rounds it.
 */
export function addTreesWasm(w: WasmForest, X: Float32Array | Float64Array, n: number, F: number, K: number, out: Float64Array): void {
  const B = w.block;
  const x = new Float32Array(w.memory.buffer, w.xBase, (B + LANES) * F);
  const sums = new Float64Array(w.memory.buffer, w.outBase, (B + LANES) * K);
  for (let start = 0; start < n; start += B) {
    const rows = Math.min(B, n - start);
    const groups = Math.ceil(rows / LANES);
    // lanes past the last row walk whatever the buffer holds; their sums are not read
    transpose(X, start, rows, F, x);
    sums.fill(0, 0, groups * LANES * K);
    w.walk(0, w.nTrees, w.xBase, groups, F * LANES * 4, w.outBase, K);
    out.set(sums.subarray(0, rows * K), start * K);
  }
}

function transpose(X: Float32Array | Float64Array, start: number, rows: number, F: number, x: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const src = (start + r) * F;
    const dst = ((r / LANES) | 0) * F * LANES + (r % LANES);
    for (let f = 0; f < F; f++) x[dst + f * LANES] = X[src + f]!;
  }
}

// ---- the module's bytes (WebAssembly 1.0 binary format: one imported memory, one function)

const op = {
  block: 0x02, loop: 0x03, if: 0x04, else: 0x05, br: 0x0c, brIf: 0x0d, end: 0x0b, void: 0x40, select: 0x1b,
  get: 0x20, set: 0x21, tee: 0x22, i32Load: 0x28, f32Load: 0x2a, f64Load: 0x2b, f64Store: 0x39, f64Const: 0x44,
  i32Const: 0x41, i32Eqz: 0x45, i32Eq: 0x46, i32LtU: 0x49, i32GeU: 0x4f, i32Or: 0x72, i32Xor: 0x73, i32ShrU: 0x76, f32Le: 0x5f, i32Add: 0x6a, i32Sub: 0x6b, i32Mul: 0x6c, f64Add: 0xa0,
} as const; // prettier-ignore
const I32 = 0x7f;
const V128 = 0x7b;
const F64 = 0x7c;
/** SIMD opcodes (after the 0xfd prefix). */
const simd = { load: 0x00, load32Splat: 0x09, const: 0x0c, i32x4Splat: 0x11, i32x4ExtractLane: 0x1b, f32x4Le: 0x45, and: 0x4e, or: 0x50, bitselect: 0x52, i32x4Sub: 0xb1 } as const;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b];
    out.push(b | 0x80);
  }
}

/** A v128 constant of four equal i32 lanes (little-endian bytes). */
const i32x4 = (v: number): number[] => Array.from({ length: 16 }, (_, i) => (v >>> (8 * (i % 4))) & 0xff);
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => vec([...s].map((ch) => [ch.charCodeAt(0)]));
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

/**
 * Pushes the comparison at the node `offset` bytes past the address in local `node` for lanes
 * 4h..4h+3 of the group at local `g`: a v128 mask, all ones where x <= t (f32x4.le: NaN fails it,
 * as f32.le does in the scalar steps). Node layout as in both walkers: float32 threshold at +0,
 * int32 feature offset at +4.
 */
function compareLanes(e: Emitter, g: number, node: number, offset: number, h: number): void {
  e.get(g); e.get(node); e.mem(op.i32Load, 2, offset + 4); e.op(op.i32Add); e.simd(simd.load, 4, ...uleb(16 * h)); // prettier-ignore
  e.get(node); e.simd(simd.load32Splat, 2, ...uleb(offset)); // prettier-ignore
  e.simd(simd.f32x4Le);
}

/** Sets lanes 4h..4h+3 from the four i32 lanes of the v128 local `v`. */
function extractLanes(e: Emitter, v: number, lane: number[], h: number): void {
  for (let i = 0; i < 4; i++) {
    e.get(v);
    e.simd(simd.i32x4ExtractLane, i);
    e.set(lane[4 * h + i]!);
  }
}

/**
 * The first {@link PREFIX} levels of a complete tree (node j at `root + 8j`) for the eight lanes,
 * four at a time: each level's comparison is picked from all of its nodes' comparisons by the
 * masks of the levels above, then the lanes' node addresses come out of the masks.
 */
function completePrefix(e: Emitter, g: number, root: number, lane: number[], mask: number[], at: number): void {
  const pick = (first: number, count: number, level: number, h: number): void => {
    if (count === 1) return compareLanes(e, g, root, 8 * first, h);
    pick(first, count / 2, level + 1, h);
    pick(first + count / 2, count / 2, level + 1, h);
    e.get(mask[level]!);
    e.simd(simd.bitselect);
  };
  for (let h = 0; h < 2; h++) {
    for (let level = 0; level < PREFIX; level++) {
      pick((1 << level) - 1, 1 << level, 0, h);
      e.set(mask[level]!);
    }
    // address = root + 8 (2^k - 1 + p), p the path's right turns = 2^k - 1 - (its left turns)
    e.get(root); e.k32(16 * ((1 << PREFIX) - 1)); e.op(op.i32Add); e.simd(simd.i32x4Splat); // prettier-ignore
    for (let level = 0; level < PREFIX; level++) {
      e.get(mask[level]!);
      e.simd(simd.const, ...i32x4(8 << (PREFIX - 1 - level)));
      e.simd(simd.and);
      if (level > 0) e.simd(simd.or);
    }
    e.simd(simd.i32x4Sub);
    e.set(at);
    extractLanes(e, at, lane, h);
  }
}

/**
 * The top two levels of a sparse tree for the eight lanes, four at a time, the nodes found through
 * their links (`n1`, `n2` the root's children; `V.g3`..`V.g6` its grandchildren's addresses as
 * splats). A leaf links to itself, so a leaf in the top levels keeps its lanes on it.
 */
function sparsePrefix(e: Emitter, g: number, root: number, n1: number, n2: number, lane: number[], V: { m0: number; m1: number; at: number; g3: number; g4: number; g5: number; g6: number }): void {
  for (let h = 0; h < 2; h++) {
    compareLanes(e, g, root, 0, h);
    e.set(V.m0);
    compareLanes(e, g, n1, 0, h);
    compareLanes(e, g, n2, 0, h);
    e.get(V.m0); e.simd(simd.bitselect); e.set(V.m1); // prettier-ignore
    e.get(V.g3); e.get(V.g4); e.get(V.m1); e.simd(simd.bitselect); // prettier-ignore
    e.get(V.g5); e.get(V.g6); e.get(V.m1); e.simd(simd.bitselect); // prettier-ignore
    e.get(V.m0); e.simd(simd.bitselect); e.set(V.at); // prettier-ignore
    extractLanes(e, V.at, lane, h);
  }
}

/**
 * walk(treeTable, nTrees, xBase, groups, groupBytes, outBase, K): for each tree, for each group of
 * LANES transposed rows, LANES node addresses come out of the SIMD prefix at level {@link PREFIX}
 * (or start at the root of a shallower tree) and take the remaining steps
 * `o = x <= t ? 2o + C : 2o + C + 8` (C = 8 - root: the children of absolute node address o), then
 * each lane's K leaf values are added to its row's sums. The group loop is emitted twice, for K = 1
 * (one load and add a lane) and for any K (a loop over the outputs).
 */
function encodeComplete(): Emitter {
  const e = new Emitter(7);
  const P = { table: 0, nTrees: 1, xBase: 2, groups: 3, groupBytes: 4, out: 5, K: 6 };
  const L = { t: e.local(), d: e.local(), root: e.local(), bias: e.local(), C: e.local(), gi: e.local(), g: e.local(), ob: e.local(), l: e.local(), kk: e.local(), a: e.local(), pre: e.local(), steps: e.local() };
  const lane = Array.from({ length: LANES }, () => e.local());
  const mask = Array.from({ length: PREFIX }, () => e.local(V128));
  const at = e.local(V128);
  const groupLoop = (addLeaves: () => void): void => {
    e.k32(0); e.set(L.gi); e.get(P.xBase); e.set(L.g); e.get(P.out); e.set(L.ob); // prettier-ignore
    e.loopWhileBelow(L.gi, () => e.get(P.groups), () => {
      e.get(L.pre);
      e.op(op.if, op.void);
      completePrefix(e, L.g, L.root, lane, mask, at);
      e.op(op.else);
      lane.forEach((o) => (e.get(L.root), e.set(o)));
      e.op(op.end);
      e.get(L.steps);
      e.set(L.l);
      e.loopWhileNonZero(L.l, () => {
        lane.forEach((o, k) => {
          e.get(o); e.get(o); e.op(op.i32Add); e.get(L.C); e.op(op.i32Add); e.tee(L.a); // left = 2o + C
          e.get(L.a); e.k32(8); e.op(op.i32Add); // right = left + 8
          e.get(L.g); e.get(o); e.mem(op.i32Load, 2, 4); e.op(op.i32Add); e.mem(op.f32Load, 2, 4 * k); // x of this lane
          e.get(o); e.mem(op.f32Load, 2, 0); // threshold
          e.op(op.f32Le, op.select); // prettier-ignore
          e.set(o);
        });
        e.add(L.l, () => e.k32(-1));
      });
      addLeaves();
      e.add(L.gi, () => e.k32(1));
      e.add(L.g, () => e.get(P.groupBytes));
      e.add(L.ob, () => {
        e.get(P.K);
        e.k32(LANES * 8);
        e.op(op.i32Mul);
      });
    });
  };
  // K = 1: sums[row] += leaf[bias + o]
  const oneOutput = (): void =>
    lane.forEach((o, k) => {
      e.get(L.ob); e.get(L.ob); e.mem(op.f64Load, 3, 8 * k); // prettier-ignore
      e.get(L.bias); e.get(o); e.op(op.i32Add); e.mem(op.f64Load, 3, 0); // prettier-ignore
      e.op(op.f64Add);
      e.mem(op.f64Store, 3, 8 * k);
    });
  // any K: sums[row * K + kk] += leaf[bias + o * K + kk * 8], outputs in order
  const outputs = (): void =>
    lane.forEach((o, k) => {
      e.k32(0);
      e.set(L.kk);
      e.loopWhileBelow(L.kk, () => e.get(P.K), () => {
        e.get(L.ob); e.k32(k); e.get(P.K); e.op(op.i32Mul); e.get(L.kk); e.op(op.i32Add); e.k32(8); e.op(op.i32Mul, op.i32Add); e.tee(L.a); // prettier-ignore
        e.get(L.a); e.mem(op.f64Load, 3, 0); // prettier-ignore
        e.get(L.bias); e.get(o); e.get(P.K); e.op(op.i32Mul, op.i32Add); e.get(L.kk); e.k32(8); e.op(op.i32Mul, op.i32Add); e.mem(op.f64Load, 3, 0); // prettier-ignore
        e.op(op.f64Add);
        e.mem(op.f64Store, 3, 0);
        e.add(L.kk, () => e.k32(1));
      });
    });

  e.k32(0);
  e.set(L.t);
  e.loopWhileBelow(L.t, () => e.get(P.nTrees), () => {
    e.get(P.table); e.get(L.t); e.k32(12); e.op(op.i32Mul, op.i32Add); e.set(L.a); // prettier-ignore
    e.get(L.a); e.mem(op.i32Load, 2, 0); e.set(L.d); // prettier-ignore
    e.get(L.a); e.mem(op.i32Load, 2, 4); e.set(L.root); // prettier-ignore
    e.get(L.a); e.mem(op.i32Load, 2, 8); e.set(L.bias); // prettier-ignore
    e.k32(8); e.get(L.root); e.op(op.i32Sub); e.set(L.C); // prettier-ignore
    e.get(L.d); e.k32(PREFIX); e.op(op.i32GeU); e.set(L.pre); // prettier-ignore
    e.get(L.d); e.k32(PREFIX); e.op(op.i32Sub); e.get(L.d); e.get(L.pre); e.op(op.select); e.set(L.steps); // prettier-ignore
    e.get(P.K); e.k32(1); e.op(op.i32Eq, op.if, op.void); // prettier-ignore
    groupLoop(oneOutput);
    e.op(op.else);
    groupLoop(outputs);
    e.op(op.end);
    e.add(L.t, () => e.k32(1));
  });
  return e;
}

/**
 * One step of every lane in a sparse tree, `o = x <= t ? left(o) : right(o)` (node layout of
 * {@link wasmSparse}); with `check`, also `moved |= new o ^ old o` (`a` a scratch local).
 */
function sparseStep(e: Emitter, g: number, lane: number[], check?: { a: number; moved: number }): void {
  lane.forEach((o, k) => {
    e.get(o); e.mem(op.i32Load, 2, 8); // left
    e.get(o); e.mem(op.i32Load, 2, 12); // right
    e.get(g); e.get(o); e.mem(op.i32Load, 2, 4); e.op(op.i32Add); e.mem(op.f32Load, 2, 4 * k); // x of this lane
    e.get(o); e.mem(op.f32Load, 2, 0); // threshold
    e.op(op.f32Le, op.select); // prettier-ignore
    if (check) {
      e.tee(check.a);
      e.get(o); e.op(op.i32Xor); e.get(check.moved); e.op(op.i32Or); e.set(check.moved); // prettier-ignore
      e.get(check.a);
    }
    e.set(o);
  });
}

/**
 * walkSparse(same parameters): for each tree, for each group, LANES node addresses come out of the
 * SIMD prefix at level 2 and step `o = x <= t ? left(o) : right(o)` until a step moves no lane
 * (leaves link to themselves); then the K leaf values of each lane's node are added, as in
 * {@link encodeComplete}.
 */
function encodeSparse(): Emitter {
  const e = new Emitter(7);
  const P = { table: 0, nTrees: 1, xBase: 2, groups: 3, groupBytes: 4, out: 5, K: 6 };
  const L = { t: e.local(), root: e.local(), bias: e.local(), gi: e.local(), g: e.local(), ob: e.local(), moved: e.local(), kk: e.local(), a: e.local(), n1: e.local(), n2: e.local() };
  const lane = Array.from({ length: LANES }, () => e.local());
  // the SIMD prefix's masks and the root's grandchildren (as splats) of the tree being walked
  const V = { m0: e.local(V128), m1: e.local(V128), at: e.local(V128), g3: e.local(V128), g4: e.local(V128), g5: e.local(V128), g6: e.local(V128) };
  const groupLoop = (addLeaves: () => void): void => {
    e.k32(0); e.set(L.gi); e.get(P.xBase); e.set(L.g); e.get(P.out); e.set(L.ob); // prettier-ignore
    e.loopWhileBelow(L.gi, () => e.get(P.groups), () => {
      sparsePrefix(e, L.g, L.root, L.n1, L.n2, lane, V);
      // do { every lane steps; moved = 0; every lane steps again; } while (moved): a lane at a
      // leaf stays there, so when the second step moves no lane every lane is at its leaf, and
      // the first step needs no moved check (four instructions a lane, for at most one step too
      // many a tree). Measured on the bench's 20-tree unlimited forest, CPU time, alternating
      // processes: 1.02-1.09x in 8 of 9 pairs (0.97x in one); checking every third or fourth
      // step: no further gain.
      e.op(op.loop, op.void);
      sparseStep(e, L.g, lane);
      e.k32(0);
      e.set(L.moved);
      sparseStep(e, L.g, lane, { a: L.a, moved: L.moved });
      e.get(L.moved);
      e.op(op.brIf, 0, op.end);
      addLeaves();
      e.add(L.gi, () => e.k32(1));
      e.add(L.g, () => e.get(P.groupBytes));
      e.add(L.ob, () => {
        e.get(P.K);
        e.k32(LANES * 8);
        e.op(op.i32Mul);
      });
    });
  };
  // leaf address bias + (o >>> 1) * K; K = 1: sums[row] += leaf
  const leafAt = (o: number): void => {
    e.get(L.bias); e.get(o); e.k32(1); e.op(op.i32ShrU); e.get(P.K); e.op(op.i32Mul, op.i32Add); // prettier-ignore
  };
  const oneOutput = (): void =>
    lane.forEach((o, k) => {
      e.get(L.ob); e.get(L.ob); e.mem(op.f64Load, 3, 8 * k); // prettier-ignore
      leafAt(o);
      e.mem(op.f64Load, 3, 0);
      e.op(op.f64Add);
      e.mem(op.f64Store, 3, 8 * k);
    });
  const outputs = (): void =>
    lane.forEach((o, k) => {
      e.k32(0);
      e.set(L.kk);
      e.loopWhileBelow(L.kk, () => e.get(P.K), () => {
        e.get(L.ob); e.k32(k); e.get(P.K); e.op(op.i32Mul); e.get(L.kk); e.op(op.i32Add); e.k32(8); e.op(op.i32Mul, op.i32Add); e.tee(L.a); // prettier-ignore
        e.get(L.a); e.mem(op.f64Load, 3, 0); // prettier-ignore
        leafAt(o); e.get(L.kk); e.k32(8); e.op(op.i32Mul, op.i32Add); e.mem(op.f64Load, 3, 0); // prettier-ignore
        e.op(op.f64Add);
        e.mem(op.f64Store, 3, 0);
        e.add(L.kk, () => e.k32(1));
      });
    });
  e.k32(0);
  e.set(L.t);
  e.loopWhileBelow(L.t, () => e.get(P.nTrees), () => {
    e.get(P.table); e.get(L.t); e.k32(12); e.op(op.i32Mul, op.i32Add); e.set(L.a); // prettier-ignore
    e.get(L.a); e.mem(op.i32Load, 2, 4); e.set(L.root); // prettier-ignore
    e.get(L.a); e.mem(op.i32Load, 2, 8); e.set(L.bias); // prettier-ignore
    e.get(L.root); e.mem(op.i32Load, 2, 8); e.set(L.n1); // prettier-ignore
    e.get(L.root); e.mem(op.i32Load, 2, 12); e.set(L.n2); // prettier-ignore
    e.get(L.n1); e.simd(simd.load32Splat, 2, 8); e.set(V.g3); // prettier-ignore
    e.get(L.n1); e.simd(simd.load32Splat, 2, 12); e.set(V.g4); // prettier-ignore
    e.get(L.n2); e.simd(simd.load32Splat, 2, 8); e.set(V.g5); // prettier-ignore
    e.get(L.n2); e.simd(simd.load32Splat, 2, 12); e.set(V.g6); // prettier-ignore
    e.get(P.K); e.k32(1); e.op(op.i32Eq, op.if, op.void); // prettier-ignore
    groupLoop(oneOutput);
    e.op(op.else);
    groupLoop(outputs);
    e.op(op.end);
    e.add(L.t, () => e.k32(1));
  });
  return e;
}

/**
 * walkRow(plan, entries, x, -, -, sum, -): one row (lane 0 of a transposed group at `x`) through
 * the row plan's entries (see {@link wasmComplete}) in order: LANES trees of one depth take their
 * d steps together, `o = x <= t ? 2o + C : 2o + C + 8` with each tree's own C = 8 - root, or a
 * tree alone; each tree's leaf value (at bias + o) is added to one float64 sum in tree order,
 * stored at `sum`. One output only.
 */
function encodeRow(): Emitter {
  const e = new Emitter(7);
  const P = { plan: 0, entries: 1, x: 2, sum: 5 };
  const L = { j: e.local(), p: e.local(), d: e.local(), l: e.local(), a: e.local() };
  const lane = Array.from({ length: LANES }, () => e.local());
  const C = Array.from({ length: LANES }, () => e.local());
  const acc = e.local(F64);
  const walk = (lanes: number): void => {
    for (let k = 0; k < lanes; k++) {
      e.get(L.p); e.mem(op.i32Load, 2, 8 + 4 * k); e.set(lane[k]!); // prettier-ignore
      e.k32(8); e.get(lane[k]!); e.op(op.i32Sub); e.set(C[k]!); // prettier-ignore
    }
    e.get(L.d);
    e.set(L.l);
    e.loopWhileNonZero(L.l, () => {
      for (let k = 0; k < lanes; k++) {
        const o = lane[k]!;
        e.get(o); e.get(o); e.op(op.i32Add); e.get(C[k]!); e.op(op.i32Add); e.tee(L.a); // left = 2o + C
        e.get(L.a); e.k32(8); e.op(op.i32Add); // right = left + 8
        e.get(P.x); e.get(o); e.mem(op.i32Load, 2, 4); e.op(op.i32Add); e.mem(op.f32Load, 2, 0); // the row's x
        e.get(o); e.mem(op.f32Load, 2, 0); // threshold
        e.op(op.f32Le, op.select); // prettier-ignore
        e.set(o);
      }
      e.add(L.l, () => e.k32(-1));
    });
    for (let k = 0; k < lanes; k++) {
      e.get(acc);
      e.get(L.p); e.mem(op.i32Load, 2, 8 + 4 * (LANES + k)); e.get(lane[k]!); e.op(op.i32Add); e.mem(op.f64Load, 3, 0); // prettier-ignore
      e.op(op.f64Add);
      e.set(acc);
    }
  };
  e.op(op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0);
  e.set(acc);
  e.k32(0); e.set(L.j); e.get(P.plan); e.set(L.p); // prettier-ignore
  e.loopWhileBelow(L.j, () => e.get(P.entries), () => {
    e.get(L.p); e.mem(op.i32Load, 2, 4); e.set(L.d); // prettier-ignore
    e.get(L.p); e.mem(op.i32Load, 2, 0); e.k32(LANES); e.op(op.i32Eq, op.if, op.void); // prettier-ignore
    walk(LANES);
    e.op(op.else);
    walk(1);
    e.op(op.end);
    e.add(L.j, () => e.k32(1));
    e.add(L.p, () => e.k32(PLAN_ENTRY_BYTES));
  });
  e.get(P.sum);
  e.get(acc);
  e.mem(op.f64Store, 3, 0);
  return e;
}

/** Appends instructions to one function body; its locals after the parameters are i32 unless declared otherwise (v128, f64). */
class Emitter {
  readonly code: number[] = [];
  /** Types of the locals after the parameters, in index order. */
  readonly types: number[] = [];
  constructor(readonly params: number) {}
  local(type: number = I32): number {
    this.types.push(type);
    return this.params + this.types.length - 1;
  }
  /** The locals declaration: runs of one type, in index order. */
  declaration(): number[] {
    const runs: number[][] = [];
    for (let i = 0; i < this.types.length; ) {
      let j = i;
      while (j < this.types.length && this.types[j] === this.types[i]) j++;
      runs.push([...uleb(j - i), this.types[i]!]);
      i = j;
    }
    return vec(runs);
  }
  /** A SIMD instruction (0xfd prefix), with its immediates. */
  simd(code: number, ...immediates: number[]): void {
    this.code.push(0xfd, ...uleb(code), ...immediates);
  }
  op(...bytes: number[]): void {
    this.code.push(...bytes);
  }
  get(i: number): void {
    this.code.push(op.get, ...uleb(i));
  }
  set(i: number): void {
    this.code.push(op.set, ...uleb(i));
  }
  tee(i: number): void {
    this.code.push(op.tee, ...uleb(i));
  }
  k32(v: number): void {
    this.code.push(op.i32Const, ...sleb(v));
  }
  mem(code: number, log2Align: number, offset: number): void {
    this.code.push(code, log2Align, ...uleb(offset));
  }
  /** i += by() */
  add(i: number, by: () => void): void {
    this.get(i);
    by();
    this.code.push(op.i32Add);
    this.set(i);
  }
  /** while (i < limit()) body() (unsigned), as block/loop; the body does the increment. */
  loopWhileBelow(i: number, limit: () => void, body: () => void): void {
    this.code.push(op.block, op.void, op.loop, op.void);
    this.get(i);
    limit();
    this.code.push(op.i32LtU, op.i32Eqz, op.brIf, 1);
    body();
    this.code.push(op.br, 0, op.end, op.end);
  }
  /** while (i !== 0) body() */
  loopWhileNonZero(i: number, body: () => void): void {
    this.code.push(op.block, op.void, op.loop, op.void);
    this.get(i);
    this.code.push(op.i32Eqz, op.brIf, 1);
    body();
    this.code.push(op.br, 0, op.end, op.end);
  }
}

function moduleBytes(functions: Emitter[]): Uint8Array {
  const bodies = functions.map((e) => {
    const body = [...e.declaration(), ...e.code, op.end];
    return [...uleb(body.length), ...body];
  });
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    ...section(1, vec([[0x60, ...vec(Array.from({ length: 7 }, () => [I32])), ...vec([])]])), // type 0: (i32 x 7) -> ()
    ...section(2, vec([[...name('m'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])), // import memory m.memory, min 1 page
    ...section(3, vec(functions.map(() => uleb(0)))), // every function has type 0
    ...section(7, vec([[...name('walk'), 0x00, ...uleb(0)], [...name('walkSparse'), 0x00, ...uleb(1)], [...name('walkRow'), 0x00, ...uleb(2)]])), // exports
    ...section(10, vec(bodies)),
  ]); // prettier-ignore
}
