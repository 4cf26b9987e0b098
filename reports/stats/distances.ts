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
  // The same merge and the same floating-point operations, in the same order, as `wasserstein`
  // (and `ksStatistic`): each CDF gap is computed once and reused by the next step's integral.
  let i = 0;
  let j = 0;
  let fi = 0;
  let fj = 0;
  let gap = 0;
  let sum = 0;
  let d = 0;
  let prev = Math.min(u[0]!, v[0]!);
  while (i < n && j < m) {
    const a = u[i]!;
    const b = v[j]!;
    let x: number;
    if (a < b) {
      x = a;
      i++;
      while (i < n && u[i]! <= x) i++;
      fi = i / n;
    } else if (b < a) {
      x = b;
      j++;
      while (j < m && v[j]! <= x) j++;
      fj = j / m;
    } else {
      x = a;
      i++;
      j++;
      while (i < n && u[i]! <= x) i++;
      while (j < m && v[j]! <= x) j++;
      fi = i / n;
      fj = j / m;
    }
    sum += gap * (x - prev);
    gap = Math.abs(fi - fj);
    if (gap > d) d = gap;
    prev = x;
  }
  while (i < n) {
    const x = u[i]!;
    i++;
    while (i < n && u[i]! <= x) i++;
    fi = i / n;
    sum += gap * (x - prev);
    gap = Math.abs(fi - fj);
    if (gap > d) d = gap;
    prev = x;
  }
  while (j < m) {
    const x = v[j]!;
    j++;
    while (j < m && v[j]! <= x) j++;
    fj = j / m;
    sum += gap * (x - prev);
    gap = Math.abs(fi - fj);
    if (gap > d) d = gap;
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
 * Evidently's empty-bin fill (`get_binned_data(..., feel_zeroes=True)`): per side, an empty bin
 * gets min(non-empty share) / 1e6 when that minimum is at most 1e-4, else 1e-4. Returns shares.
 */
export function fillEmptyShares(counts: ArrayLike<number>): number[] {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  const shares = Array.from(counts, (c) => (total ? c / total : 0));
  let min = Infinity;
  for (const v of shares) if (v !== 0 && v < min) min = v;
  const fill = min <= 1e-4 ? min / 1e6 : 1e-4;
  return shares.map((v) => (v === 0 ? fill : v));
}

/**
 * Population stability index Σ (r - c) ln(r / c) over bin shares. Empty bins are filled the way
 * Evidently fills them ({@link fillEmptyShares}); pass `epsilon` for a fixed share instead.
 * A bin empty on both sides contributes 0 (both sides get the same fill only if their minima
 * agree, as in Evidently).
 *
 * @example
 * psi([50, 30, 20, 0], [40, 30, 20, 10]); // 0.83...
 */
export function psi(referenceCounts: ArrayLike<number>, currentCounts: ArrayLike<number>, epsilon?: number): number {
  let r: number[];
  let c: number[];
  if (epsilon === undefined) {
    r = fillEmptyShares(referenceCounts);
    c = fillEmptyShares(currentCounts);
  } else {
    let sr = 0;
    let sc = 0;
    for (let i = 0; i < referenceCounts.length; i++) {
      sr += referenceCounts[i]!;
      sc += currentCounts[i]!;
    }
    r = Array.from(referenceCounts, (v) => v / sr || epsilon);
    c = Array.from(currentCounts, (v) => v / sc || epsilon);
  }
  let total = 0;
  for (let i = 0; i < r.length; i++) total += (r[i]! - c[i]!) * Math.log(r[i]! / c[i]!);
  return total;
}

/**
 * Where `x` would be inserted into sorted `s`, as numpy's `searchsorted`: `'left'` gives the
 * number of values < x, `'right'` the number of values <= x.
 *
 * @example
 * searchSorted(Float64Array.of(1, 2, 2, 3), 2, 'right'); // 3
 */
export function searchSorted(s: Float64Array, x: number, side: 'left' | 'right'): number {
  let lo = 0;
  let hi = s.length;
  const left = side === 'left';
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (left ? s[mid]! < x : s[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts of a sorted sample in the bins defined by `edges` (right-closed last bin, like numpy.histogram). */
export function histogramSorted(sorted: Float64Array, edges: ArrayLike<number>): Float64Array {
  const k = edges.length - 1;
  const counts = new Float64Array(Math.max(k, 0));
  // Binary searches at the edges instead of a walk over every value: bin b holds
  // edges[b] <= x < edges[b + 1], the last bin also x === its upper edge.
  let start = searchSorted(sorted, edges[0]!, 'left');
  for (let b = 0; b < k; b++) {
    const end = Math.max(start, searchSorted(sorted, edges[b + 1]!, b < k - 1 ? 'left' : 'right'));
    counts[b] = end - start;
    start = end;
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
