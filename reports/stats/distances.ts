/**
 * Distances and tests between two distributions, on sorted samples or on bin counts. Each
 * matches its scipy counterpart (see test/reports/fixtures/make_fixtures.py).
 */
import { chi2Sf } from './special.ts';

/**
 * 1-D Wasserstein (earth mover's) distance between two sorted samples, as
 * `scipy.stats.wasserstein_distance(u, v)`: ∫ |U(x) - V(x)| dx over the merged support.
 */
export function wasserstein(u: Float64Array, v: Float64Array): number {
  const n = u.length;
  const m = v.length;
  if (n === 0 || m === 0) return Number.NaN;
  let i = 0;
  let j = 0;
  let sum = 0;
  let prev = Math.min(u[0]!, v[0]!);
  while (i < n || j < m) {
    const x = j >= m || (i < n && u[i]! <= v[j]!) ? u[i]! : v[j]!;
    // CDFs are constant on [prev, x): integrate |U - V| over it.
    sum += Math.abs(i / n - j / m) * (x - prev);
    while (i < n && u[i]! <= x) i++;
    while (j < m && v[j]! <= x) j++;
    prev = x;
  }
  return sum;
}

/**
 * KS statistic and Wasserstein distance of two sorted samples in one merge pass (the drift
 * report needs both for every numeric column).
 */
export function ksAndWasserstein(u: Float64Array, v: Float64Array): { ks: number; wasserstein: number } {
  const n = u.length;
  const m = v.length;
  if (n === 0 || m === 0) return { ks: Number.NaN, wasserstein: Number.NaN };
  let i = 0;
  let j = 0;
  let sum = 0;
  let d = 0;
  let prev = Math.min(u[0]!, v[0]!);
  while (i < n || j < m) {
    const x = j >= m || (i < n && u[i]! <= v[j]!) ? u[i]! : v[j]!;
    sum += Math.abs(i / n - j / m) * (x - prev);
    while (i < n && u[i]! <= x) i++;
    while (j < m && v[j]! <= x) j++;
    const diff = Math.abs(i / n - j / m);
    if (diff > d) d = diff;
    prev = x;
  }
  return { ks: d, wasserstein: sum };
}

/**
 * Jensen-Shannon distance between two discrete distributions (counts or probabilities,
 * normalised here), as `scipy.spatial.distance.jensenshannon(p, q, base)`; natural log by default.
 */
export function jensenShannon(p: ArrayLike<number>, q: ArrayLike<number>, base?: number): number {
  if (p.length !== q.length) throw new RangeError('jensenShannon: p and q must have the same length');
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i]!;
    sq += q[i]!;
  }
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / sp;
    const qi = q[i]! / sq;
    const mi = (pi + qi) / 2;
    if (pi > 0) js += pi * Math.log(pi / mi);
    if (qi > 0) js += qi * Math.log(qi / mi);
  }
  if (base !== undefined) js /= Math.log(base);
  return Math.sqrt(Math.max(0, js) / 2);
}

export interface ChiSquareResult {
  /** Pearson's statistic; `Infinity` when a category has zero expected count but was observed. */
  statistic: number;
  pValue: number;
  df: number;
}

/**
 * Pearson chi-square goodness of fit, as `scipy.stats.chisquare(observed, expected)`
 * (df = k - 1). `expected` is rescaled to the observed total.
 */
export function chiSquare(observed: ArrayLike<number>, expected: ArrayLike<number>): ChiSquareResult {
  const k = observed.length;
  if (k !== expected.length) throw new RangeError('chiSquare: observed and expected must have the same length');
  let so = 0;
  let se = 0;
  for (let i = 0; i < k; i++) {
    so += observed[i]!;
    se += expected[i]!;
  }
  let stat = 0;
  for (let i = 0; i < k; i++) {
    const e = (expected[i]! * so) / se;
    const diff = observed[i]! - e;
    if (e === 0) {
      if (diff !== 0) stat = Infinity;
      continue;
    }
    stat += (diff * diff) / e;
  }
  const df = k - 1;
  return { statistic: stat, pValue: stat === Infinity ? 0 : chi2Sf(stat, df), df };
}

/**
 * Population stability index Σ (c - r) ln(c / r) over bin shares. Empty bins get a share of
 * `epsilon` (Evidently's convention, 1e-4) so the log stays finite.
 */
export function psi(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>, epsilon = 1e-4): number {
  let sr = 0;
  let sc = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    sr += referenceCounts[i]!;
    sc += currentCounts[i]!;
  }
  let total = 0;
  for (let i = 0; i < referenceCounts.length; i++) {
    const r = referenceCounts[i]! / sr || epsilon;
    const c = currentCounts[i]! / sc || epsilon;
    total += (c - r) * Math.log(c / r);
  }
  return total;
}

/** Counts of a sorted sample in the bins defined by `edges` (right-closed last bin, like numpy.histogram). */
export function histogramSorted(sorted: Float64Array, edges: ArrayLike<number>): Float64Array {
  const k = edges.length - 1;
  const counts = new Float64Array(Math.max(k, 0));
  let i = 0;
  const n = sorted.length;
  while (i < n && sorted[i]! < edges[0]!) i++;
  for (let b = 0; b < k; b++) {
    const hi = edges[b + 1]!;
    const last = b === k - 1;
    let c = 0;
    while (i < n && (sorted[i]! < hi || (last && sorted[i]! === hi))) {
      c++;
      i++;
    }
    counts[b] = c;
  }
  return counts;
}

/** numpy's `histogram_bin_edges(x, bins='sturges')` over the union range of two sorted samples. */
export function sturgesEdges(a: Float64Array, b: Float64Array): number[] {
  const lo = Math.min(a.length ? a[0]! : Infinity, b.length ? b[0]! : Infinity);
  const hi = Math.max(a.length ? a[a.length - 1]! : -Infinity, b.length ? b[b.length - 1]! : -Infinity);
  const n = a.length + b.length;
  const bins = Math.max(1, Math.ceil(Math.log2(n) + 1));
  if (!(hi > lo)) return [lo - 0.5, hi + 0.5];
  const edges: number[] = [];
  for (let i = 0; i <= bins; i++) edges.push(lo + ((hi - lo) * i) / bins);
  edges[bins] = hi;
  return edges;
}
