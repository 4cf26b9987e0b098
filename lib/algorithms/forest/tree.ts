/**
 * One histogram decision tree. The training rows are binned once per forest into row-major bytes
 * (`bins[r * F + f]`, one cache line per row); a tree turns its bootstrap draws into a weight per
 * distinct row, and each node's histogram (weighted count and target sum per bin, or weighted
 * class counts per bin) is built in one pass over the node's rows, then scanned at the bin
 * boundaries, so a split costs O(rows + bins) instead of sorting rows like ml-random-forest.
 *
 * When every feature is a candidate at every node (`maxFeatures` = all, the regression default),
 * only the smaller child's histogram is built from its rows; the larger one's is the parent's
 * minus it (sibling subtraction, as LightGBM and XGBoost do), computed in the parent's buffer.
 * Rows stay in ascending order through a stable partition, so the gathers walk memory forward.
 * Buffers live in a {@link TreeGrower}, made once per forest and thread: nothing is allocated per
 * node, and only the tree's own arrays per tree.
 */
import type { BinEdges } from './binning.ts';
import { quantileSorted } from '../../stats/quantile.ts';

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

/** Bins per feature in a histogram (the stride; a feature uses `edges.length + 1` of them). */
const BINS = 256;

/** Words of the work stack per pending node: node, start, end, depth, histogram slot, weighted count, (regression) weighted target sum. */
const FRAME = 7;

/**
 * Grows the trees of one forest on one thread. `bins` is row-major (`r * F + f`, see
 * `binRows`). Each tree copies its distinct bootstrap rows into packed records (the row's bins,
 * padded to 8 bytes, then its weight, weight * y and y as float64), so a node's gathers read one
 * record per row from a compact, ascending range of memory. The grower keeps these and the
 * histogram buffers between trees: growing many trees allocates only the trees themselves.
 */
export class TreeGrower {
  private readonly F: number;
  private readonly n: number;
  private readonly nb: Int32Array;
  private readonly nOut: number;
  private readonly regression: boolean;
  /** Statistics per bin: 2 (weight, weighted target sum) for regression, the class count for classification. */
  private readonly S: number;
  private readonly C: number;
  private readonly maxDepth: number;
  private readonly minLeaf: number;
  private readonly mtry: number;
  private readonly full: boolean;
  /** Record size in bytes and in float64 words; the floats start at word `binWords`. */
  private readonly recBytes: number;
  private readonly recWords: number;
  private readonly binWords: number;
  private readonly u8: Uint8Array;
  private readonly f64: Float64Array;
  /** Bootstrap multiplicity per training row (scratch of `grow`). */
  private readonly weight: Int32Array;
  /** Record indices of the nodes, each node a range; ascending within a node. */
  private readonly rows: Int32Array;
  private readonly tmp: Int32Array;
  private readonly features: Int32Array;
  private readonly slots: Float64Array[] = [];
  private readonly freeSlots: number[] = [];
  private readonly stack: number[] = [];
  private readonly classTotals: Float64Array;
  private readonly leftCounts: Float64Array;
  private qbuf = new Float64Array(0);
  // results of the row passes and findSplit (fields, not objects: no allocation per node)
  private nodeCount = 0;
  private nodeSum = 0;
  private nodePure = false;
  private leftCount = 0;
  private leftSum = 0;
  private leftPure = false;
  private rightCount = 0;
  private rightSum = 0;
  private rightPure = false;
  private bestGain = 0;
  private bestFeature = -1;
  private bestBin = -1;
  private leftSlot = -1;
  private rightSlot = -1;
  // the tree being grown
  private tFeature: number[] = [];
  private tThreshold: number[] = [];
  private tLeft: number[] = [];
  private tRight: number[] = [];
  private tValue: number[] = [];

  constructor(
    private readonly bins: Uint8Array,
    n: number,
    private readonly edges: BinEdges,
    private readonly target: Target,
    private readonly options: TreeOptions,
  ) {
    const F = edges.length;
    this.F = F;
    this.n = n;
    this.nb = Int32Array.from(edges, (e) => e.length + 1);
    this.regression = target.kind === 'regression';
    this.C = target.kind === 'classification' ? target.nClasses : 1;
    this.S = target.kind === 'classification' ? this.C : 2;
    this.nOut = target.kind === 'regression' ? 1 + (options.leafQuantiles?.length ?? 0) : target.nClasses;
    this.maxDepth = options.maxDepth > 0 ? options.maxDepth : Infinity;
    this.minLeaf = Math.max(1, options.minSamplesLeaf);
    this.mtry = Math.max(1, Math.min(F, options.maxFeatures));
    this.full = this.mtry === F;
    this.binWords = Math.ceil(F / 8);
    this.recWords = this.binWords + 3;
    this.recBytes = this.recWords * 8;
    const rec = new ArrayBuffer(n * this.recBytes);
    this.u8 = new Uint8Array(rec);
    this.f64 = new Float64Array(rec);
    this.weight = new Int32Array(n);
    this.rows = new Int32Array(n);
    this.tmp = new Int32Array(n);
    this.features = new Int32Array(F);
    this.classTotals = new Float64Array(this.C);
    this.leftCounts = new Float64Array(this.C);
  }

  /**
   * Grows one tree on the bootstrap draws `draws` (row indices, duplicates allowed). Depth-first,
   * left child first: each node gets its leaf value, then (unless it is pure, deep or small) the
   * best split over `maxFeatures` features drawn from `rng`, and its rows are partitioned for the
   * two children.
   */
  grow(draws: Int32Array, rng: () => number): Tree {
    const { F, n, weight, rows, features, stack, mtry, full, u8, f64, bins, recBytes, recWords, binWords } = this;
    for (let f = 0; f < F; f++) features[f] = f;
    weight.fill(0);
    for (let i = 0; i < draws.length; i++) weight[draws[i]!]!++;
    const y = this.target.y;
    let u = 0;
    for (let r = 0; r < n; r++) {
      const w = weight[r]!;
      if (w === 0) continue;
      const ob = u * recBytes;
      const src = r * F;
      for (let f = 0; f < F; f++) u8[ob + f] = bins[src + f]!;
      const of = u * recWords + binWords;
      f64[of] = w;
      f64[of + 1] = w * y[r]!;
      f64[of + 2] = y[r]!;
      rows[u] = u;
      u++;
    }
    this.tFeature = [];
    this.tThreshold = [];
    this.tLeft = [];
    this.tRight = [];
    this.tValue = [];
    stack.length = 0;

    const root = this.newNode();
    this.rowStats(0, u);
    this.writeValue(root, 0, u, this.nodeCount, this.nodeSum);
    if (this.splittable(this.nodeCount, this.nodePure, 0)) {
      let slot = -1;
      if (full) {
        slot = this.takeSlot();
        this.clear(this.slots[slot]!, F);
        this.build(this.slots[slot]!, 0, u);
      }
      stack.push(root, 0, u, 0, slot, this.nodeCount, this.nodeSum);
    }
    while (stack.length > 0) {
      const base = stack.length - FRAME;
      const node = stack[base]!;
      const start = stack[base + 1]!;
      const end = stack[base + 2]!;
      const depth = stack[base + 3]!;
      let slot = stack[base + 4]!;
      const count = stack[base + 5]!;
      const sum = stack[base + 6]!;
      stack.length = base;

      let parentScore: number;
      if (this.regression) parentScore = (sum * sum) / count;
      else {
        this.rowStats(start, end); // class totals of this node
        parentScore = this.classScore(count);
      }
      drawFeatures(features, mtry, rng);
      if (!full) {
        if (this.slots.length === 0) this.slots.push(new Float64Array(F * BINS * this.S));
        slot = 0;
        this.clear(this.slots[0]!, mtry);
        this.build(this.slots[0]!, start, end);
      }
      this.findSplit(this.slots[slot]!, parentScore, count, sum);
      if (this.bestFeature < 0) {
        if (full) this.freeSlots.push(slot);
        continue;
      }
      const bf = this.bestFeature;
      const mid = this.partition(bf, this.bestBin, start, end);
      const l = this.newNode();
      const r = this.newNode();
      this.tFeature[node] = bf;
      this.tThreshold[node] = this.edges[bf]![this.bestBin]!;
      this.tLeft[node] = l;
      this.tRight[node] = r;
      this.childValues(l, r, start, mid, end);
      const { leftCount: lCount, leftSum: lSum, rightCount: rCount, rightSum: rSum } = this;
      const lSplit = this.splittable(lCount, this.leftPure, depth + 1);
      const rSplit = this.splittable(rCount, this.rightPure, depth + 1);
      if (full) this.childHistograms(slot, start, mid, end, lSplit, rSplit);
      if (rSplit) stack.push(r, mid, end, depth + 1, full ? this.rightSlot : -1, rCount, rSum);
      if (lSplit) stack.push(l, start, mid, depth + 1, full ? this.leftSlot : -1, lCount, lSum);
    }
    this.freeSlots.length = 0;
    for (let i = 0; i < this.slots.length; i++) this.freeSlots.push(i);
    return {
      feature: Int32Array.from(this.tFeature),
      threshold: Float32Array.from(this.tThreshold),
      left: Int32Array.from(this.tLeft),
      right: Int32Array.from(this.tRight),
      value: Float32Array.from(this.tValue),
    };
  }

  /**
   * The children's leaf values; leaves their counts, sums (regression) and purity in the left*
   * and right* fields. Regression has them from the partition pass; classification counts its
   * class totals in one pass per child.
   */
  private childValues(l: number, r: number, start: number, mid: number, end: number): void {
    if (!this.regression) {
      this.rowStats(start, mid);
      this.leftCount = this.nodeCount;
      this.leftSum = 0;
      this.leftPure = this.nodePure;
      this.writeValue(l, start, mid, this.leftCount, 0);
      this.rowStats(mid, end);
      this.rightCount = this.nodeCount;
      this.rightSum = 0;
      this.rightPure = this.nodePure;
      this.writeValue(r, mid, end, this.rightCount, 0);
      return;
    }
    this.writeValue(l, start, mid, this.leftCount, this.leftSum);
    this.writeValue(r, mid, end, this.rightCount, this.rightSum);
  }

  /**
   * Full mode, after a split of the node whose histogram is in `slot`: the histograms of the
   * children that will be split, left in `leftSlot` / `rightSlot` (the parent's buffer is reused).
   * The smaller child is built from its rows, the larger is the parent minus the smaller.
   */
  private childHistograms(slot: number, start: number, mid: number, end: number, lSplit: boolean, rSplit: boolean): void {
    if (!lSplit && !rSplit) {
      this.freeSlots.push(slot);
      return;
    }
    const leftSmaller = mid - start <= end - mid;
    const small = this.takeSlot();
    const h = this.slots[small]!;
    this.clear(h, this.F);
    if (leftSmaller) this.build(h, start, mid);
    else this.build(h, mid, end);
    const smallSplit = leftSmaller ? lSplit : rSplit;
    const largeSplit = leftSmaller ? rSplit : lSplit;
    if (largeSplit) this.subtract(this.slots[slot]!, h);
    else this.freeSlots.push(slot);
    if (!smallSplit) this.freeSlots.push(small);
    this.leftSlot = leftSmaller ? small : slot;
    this.rightSlot = leftSmaller ? slot : small;
  }

  /** True when a node may still be split: not pure, not at the depth limit, and large enough for two leaves. */
  private splittable(count: number, pure: boolean, depth: number): boolean {
    return !pure && depth < this.maxDepth && count >= 2 * this.minLeaf;
  }

  /** A histogram buffer from the pool (full mode; not cleared). */
  private takeSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    this.slots.push(new Float64Array(this.F * BINS * this.S));
    return this.slots.length - 1;
  }

  /** Zeroes the bins in use of the first `k` features of `features` (all of them when k = F). */
  private clear(h: Float64Array, k: number): void {
    const { S, nb, features, F } = this;
    for (let i = 0; i < k; i++) {
      const f = k === F ? i : features[i]!;
      const o = f * BINS * S;
      h.fill(0, o, o + nb[f]! * S);
    }
  }

  /** parent -= child over the bins in use. */
  private subtract(parent: Float64Array, child: Float64Array): void {
    const { S, nb, F } = this;
    for (let f = 0; f < F; f++) {
      const o = f * BINS * S;
      const e = o + nb[f]! * S;
      for (let i = o; i < e; i++) parent[i]! -= child[i]!;
    }
  }

  /** Adds the rows [start, end) to histogram `h` (every feature in full mode, else the drawn ones). */
  private build(h: Float64Array, start: number, end: number): void {
    const { u8, f64, rows, F, full, mtry, features, recBytes, recWords, binWords } = this;
    if (this.regression) {
      if (full) {
        for (let i = start; i < end; i++) {
          const ri = rows[i]!;
          const ob = ri * recBytes;
          const of = ri * recWords + binWords;
          const w = f64[of]!;
          const s = f64[of + 1]!;
          for (let f = 0; f < F; f++) {
            const j = (f << 9) + (u8[ob + f]! << 1);
            h[j]! += w;
            h[j + 1]! += s;
          }
        }
      } else {
        for (let i = start; i < end; i++) {
          const ri = rows[i]!;
          const ob = ri * recBytes;
          const of = ri * recWords + binWords;
          const w = f64[of]!;
          const s = f64[of + 1]!;
          for (let k = 0; k < mtry; k++) {
            const f = features[k]!;
            const j = (f << 9) + (u8[ob + f]! << 1);
            h[j]! += w;
            h[j + 1]! += s;
          }
        }
      }
      return;
    }
    const C = this.C;
    const stride = BINS * C;
    const K = full ? F : mtry;
    for (let i = start; i < end; i++) {
      const ri = rows[i]!;
      const ob = ri * recBytes;
      const of = ri * recWords + binWords;
      const w = f64[of]!;
      const c = f64[of + 2]!;
      for (let k = 0; k < K; k++) {
        const f = full ? k : features[k]!;
        h[f * stride + u8[ob + f]! * C + c]! += w;
      }
    }
  }

  /**
   * One pass over the rows [start, end): leaves the weighted count, (regression) the weighted
   * target sum, whether every target is equal (regression) or one class holds every row, and
   * (classification) the class totals.
   */
  private rowStats(start: number, end: number): void {
    const { rows, f64, recWords, binWords } = this;
    let count = 0;
    if (this.regression) {
      let s = 0;
      let pure = true;
      const y0 = f64[rows[start]! * recWords + binWords + 2]!;
      for (let i = start; i < end; i++) {
        const of = rows[i]! * recWords + binWords;
        count += f64[of]!;
        s += f64[of + 1]!;
        if (f64[of + 2] !== y0) pure = false;
      }
      this.nodeSum = s;
      this.nodePure = pure;
    } else {
      const classTotals = this.classTotals;
      classTotals.fill(0);
      for (let i = start; i < end; i++) {
        const of = rows[i]! * recWords + binWords;
        const w = f64[of]!;
        classTotals[f64[of + 2]!]! += w;
        count += w;
      }
      let nonZero = 0;
      for (let c = 0; c < classTotals.length; c++) if (classTotals[c]! > 0) nonZero++;
      this.nodePure = nonZero <= 1;
    }
    this.nodeCount = count;
  }

  /** Sum of squared class totals / count: the Gini parent score a split must beat (classification). */
  private classScore(count: number): number {
    let sq = 0;
    for (let c = 0; c < this.C; c++) sq += this.classTotals[c]! * this.classTotals[c]!;
    return sq / count;
  }

  /**
   * Writes the node's leaf value: the mean and leaf quantiles (regression, from `count` and `sum`)
   * or the class shares (classification, from the class totals `rowStats` left).
   */
  private writeValue(node: number, start: number, end: number, count: number, sum: number): void {
    const { nOut } = this;
    const value = this.tValue;
    if (!this.regression) {
      for (let c = 0; c < this.C; c++) value[node * nOut + c] = this.classTotals[c]! / count;
      return;
    }
    value[node * nOut] = sum / count;
    const qs = this.options.leafQuantiles;
    if (qs === undefined || qs.length === 0) return;
    const { rows, f64, recWords, binWords } = this;
    if (this.qbuf.length < count) this.qbuf = new Float64Array(Math.max(count, this.qbuf.length * 2));
    const view = this.qbuf.subarray(0, count);
    let k = 0;
    for (let i = start; i < end; i++) {
      const of = rows[i]! * recWords + binWords;
      const v = f64[of + 2]!;
      for (let m = f64[of]!; m > 0; m--) view[k++] = v;
    }
    view.sort();
    for (let q = 0; q < qs.length; q++) value[node * nOut + 1 + q] = quantileSorted(view, qs[q]!);
  }

  /** Scans the drawn features' bin boundaries in `h`; leaves the winner in bestFeature/bestBin (-1: none beats the parent). */
  private findSplit(h: Float64Array, parentScore: number, count: number, sum: number): void {
    this.bestGain = parentScore + 1e-10 * Math.abs(parentScore);
    this.bestFeature = -1;
    this.bestBin = -1;
    for (let k = 0; k < this.mtry; k++) {
      const f = this.features[k]!;
      if (this.regression) this.scanRegression(h, f, count, sum);
      else this.scanClassification(h, f, parentScore, count);
    }
  }

  /**
   * Regression: the largest sL^2/nL + sR^2/nR over the feature's bin boundaries, compared as
   * sL^2 nR + sR^2 nL > best nL nR (no division in the loop; both counts are positive).
   */
  private scanRegression(h: Float64Array, f: number, count: number, total: number): void {
    const minLeaf = this.minLeaf;
    const o = f * BINS * 2;
    const last = this.nb[f]! - 1;
    let best = this.bestGain;
    let bestBin = -1;
    let nL = 0;
    let sL = 0;
    for (let b = 0; b < last; b++) {
      const c = h[o + 2 * b]!;
      if (c === 0) continue;
      nL += c;
      sL += h[o + 2 * b + 1]!;
      if (nL < minLeaf) continue;
      const nR = count - nL;
      if (nR < minLeaf) break;
      const sR = total - sL;
      const den = nL * nR;
      const num = sL * sL * nR + sR * sR * nL;
      if (num > best * den) {
        best = num / den;
        bestBin = b;
      }
    }
    if (bestBin >= 0) {
      this.bestGain = best;
      this.bestFeature = f;
      this.bestBin = bestBin;
    }
  }

  /**
   * Classification: a scan of bin boundaries that keeps the left and right sums of squared class
   * counts up to date incrementally (Gini).
   */
  private scanClassification(h: Float64Array, f: number, parentScore: number, count: number): void {
    const { C, classTotals, minLeaf } = this;
    const left = this.leftCounts;
    const o0 = f * BINS * C;
    const last = this.nb[f]! - 1;
    left.fill(0);
    let nL = 0;
    let sqL = 0;
    let sqR = parentScore * count;
    for (let b = 0; b < last; b++) {
      const o = o0 + b * C;
      let added = 0;
      for (let c = 0; c < C; c++) {
        const m = h[o + c]!;
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
      if (gain > this.bestGain) {
        this.bestGain = gain;
        this.bestFeature = f;
        this.bestBin = b;
      }
    }
  }

  /**
   * Stable partition of rows[start, end): rows with bin <= `bin` first (order kept on both
   * sides); returns the boundary. Regression also sums each side's weight and weighted target
   * and checks each side for purity in the same pass.
   */
  private partition(f: number, bin: number, start: number, end: number): number {
    const { rows, tmp, u8, f64, recBytes, recWords, binWords } = this;
    let w = start;
    let t = 0;
    let lc = 0;
    let ls = 0;
    let rc = 0;
    let rs = 0;
    let ly = Number.NaN;
    let ry = Number.NaN;
    let lPure = true;
    let rPure = true;
    for (let i = start; i < end; i++) {
      const ri = rows[i]!;
      const of = ri * recWords + binWords;
      if (u8[ri * recBytes + f]! <= bin) {
        rows[w++] = ri;
        lc += f64[of]!;
        ls += f64[of + 1]!;
        const v = f64[of + 2]!;
        if (ly !== v) {
          if (Number.isNaN(ly)) ly = v;
          else lPure = false;
        }
      } else {
        tmp[t++] = ri;
        rc += f64[of]!;
        rs += f64[of + 1]!;
        const v = f64[of + 2]!;
        if (ry !== v) {
          if (Number.isNaN(ry)) ry = v;
          else rPure = false;
        }
      }
    }
    rows.set(tmp.subarray(0, t), w);
    this.leftCount = lc;
    this.leftSum = ls;
    this.leftPure = lPure;
    this.rightCount = rc;
    this.rightSum = rs;
    this.rightPure = rPure;
    return w;
  }

  /** Appends a leaf (no split yet) with zeroed outputs; returns its index. */
  private newNode(): number {
    this.tFeature.push(-1);
    this.tThreshold.push(0);
    this.tLeft.push(-1);
    this.tRight.push(-1);
    for (let k = 0; k < this.nOut; k++) this.tValue.push(0);
    return this.tFeature.length - 1;
  }
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
