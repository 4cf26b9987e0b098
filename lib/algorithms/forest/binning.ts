/**
 * Feature binning for the histogram learner: each feature gets at most `maxBins` bins whose
 * upper edges are float32 values, so a split "bin <= b" is exactly the test "x <= edges[b]" in
 * float32 — the same comparison onnxruntime's TreeEnsemble makes. That is why exported forests
 * agree with the JS ones split for split.
 */
import { mulberry32 } from './rng.ts';

/** Upper edges per feature: bin b holds x <= edges[b] (and > edges[b-1]); the last bin holds the rest. */
export type BinEdges = Float32Array[];

/**
 * Learns bin edges from a column-major float32 matrix (`f * n + r`). Features with at most
 * `maxBins` distinct values get one bin per value; others get quantile bins from a sample of at
 * most `sampleRows` rows (seeded).
 */
export function fitBins(
  X: Float32Array,
  n: number,
  nFeatures: number,
  options: { maxBins: number; sampleRows?: number; seed?: number },
): BinEdges {
  const sampleRows = Math.min(n, options.sampleRows ?? 200_000);
  const rng = mulberry32((options.seed ?? 0) ^ 0x9e3779b9);
  const rows = new Int32Array(sampleRows);
  if (sampleRows === n) for (let i = 0; i < n; i++) rows[i] = i;
  else for (let i = 0; i < sampleRows; i++) rows[i] = Math.floor(rng() * n);
  const edges: BinEdges = [];
  const buf = new Float32Array(sampleRows);
  for (let f = 0; f < nFeatures; f++) {
    const base = f * n;
    for (let i = 0; i < sampleRows; i++) buf[i] = X[base + rows[i]!]!;
    buf.sort();
    // distinct values (buf is sorted; NaN sorts last and is ignored)
    const distinct: number[] = [];
    for (let i = 0; i < sampleRows; i++) {
      const v = buf[i]!;
      if (Number.isNaN(v)) break;
      if (distinct.length === 0 || v !== distinct[distinct.length - 1]) distinct.push(v);
    }
    let cuts: number[]; // left-side values: bin boundary lies between cuts[k] and the next distinct value
    if (distinct.length <= options.maxBins) {
      cuts = distinct.slice(0, -1);
    } else {
      cuts = [];
      const total = sampleRows;
      for (let k = 1; k < options.maxBins; k++) {
        const v = buf[Math.min(total - 1, Math.floor((k * total) / options.maxBins))]!;
        if (Number.isNaN(v)) break;
        if (cuts.length === 0 || v > cuts[cuts.length - 1]!) cuts.push(v);
      }
    }
    const e = new Float32Array(cuts.length);
    let di = 0;
    for (let k = 0; k < cuts.length; k++) {
      const a = cuts[k]!;
      while (di < distinct.length && distinct[di]! <= a) di++;
      const b = di < distinct.length ? distinct[di]! : a;
      // midpoint like scikit-learn, but never rounded up onto b in float32
      let mid = Math.fround(a / 2 + b / 2);
      if (!(mid < b) || mid < a) mid = a;
      e[k] = mid;
    }
    // the last cut may equal the max value; an edge at the max is useless (empty right bin)
    edges.push(e.length > 0 && e[e.length - 1]! >= distinct[distinct.length - 1]! ? e.subarray(0, e.length - 1) : e);
  }
  return edges;
}

/** Bin index of x: the first b with x <= edges[b], or edges.length. */
export function binOf(edges: Float32Array, x: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Bins a column-major matrix into bytes (`f * n + r`). */
export function applyBins(X: Float32Array, n: number, edges: BinEdges): Uint8Array {
  const out = new Uint8Array(X.length);
  for (let f = 0; f < edges.length; f++) {
    const e = edges[f]!;
    const base = f * n;
    for (let r = 0; r < n; r++) out[base + r] = binOf(e, X[base + r]!);
  }
  return out;
}

/**
 * Bins a column-major float32 matrix (`f * n + r`) into row-major bytes (`r * F + f`): the layout
 * the tree learner gathers from, one cache line per row. `out` may be a view of a
 * SharedArrayBuffer so that worker threads read the same bins.
 *
 * @example
 * import { binRows, fitBins } from 'millwright';
 * const edges = fitBins(X, n, 20, { maxBins: 255 });
 * const bins = binRows(X, n, edges); // bins[r * 20 + f]
 */
export function binRows(X: Float32Array, n: number, edges: BinEdges, out: Uint8Array = new Uint8Array(n * edges.length)): Uint8Array {
  const F = edges.length;
  for (let f = 0; f < F; f++) {
    const e = edges[f]!;
    const base = f * n;
    for (let r = 0; r < n; r++) out[r * F + f] = binOf(e, X[base + r]!);
  }
  return out;
}
