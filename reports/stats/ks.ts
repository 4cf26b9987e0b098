/**
 * Two-sample Kolmogorov-Smirnov test on sorted samples, following scipy's `ks_2samp`
 * (two-sided): the exact null distribution for samples up to 10,000 values (Hodges' lattice-path
 * count, in the numerically stable "1 - p inside method" form of Viehmann 2021; the equal-size
 * case by the alternating binomial series), otherwise, as scipy 1.10 does, the one-sample
 * two-sided distribution `kstwo.sf(d, round(n1 n2 / (n1 + n2)))` (not the Kolmogorov limit
 * `kstwobign`, which is up to ~9 % away at these sizes).
 */
import { kstwoSf } from './kstwo.ts';

/** numpy's `np.round`: halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export type KsMethod = 'auto' | 'exact' | 'asymp';

export interface KsResult {
  /** sup |F1 - F2| */
  statistic: number;
  pValue: number;
  /** The method actually used. */
  method: 'exact' | 'asymp';
}

/** scipy switches 'auto' to the asymptotic distribution above this sample size. */
export const KS_MAX_EXACT_N = 10_000;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** The KS statistic of two ascending samples (linear merge; ties handled like `searchsorted(side='right')`). */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 && j < n2) {
    const x = a[i]! <= b[j]! ? a[i]! : b[j]!;
    while (i < n1 && a[i]! <= x) i++;
    while (j < n2 && b[j]! <= x) j++;
    const diff = Math.abs(i / n1 - j / n2);
    if (diff > d) d = diff;
  }
  return d;
}

/**
 * Two-sided two-sample KS test. Inputs must be sorted ascending and non-empty.
 *
 * @example
 * ks2samp(sortedFinite(reference), sortedFinite(current)) // { statistic: 0.21, pValue: 3e-4, method: 'exact' }
 */
export function ks2samp(a: Float64Array, b: Float64Array, method: KsMethod = 'auto', statistic?: number): KsResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('ks2samp: both samples must be non-empty');
  // `statistic` lets a caller that already merged the samples skip a second pass.
  let d = statistic ?? ksStatistic(a, b);
  let mode: 'exact' | 'asymp' = method === 'auto' ? (Math.max(n1, n2) <= KS_MAX_EXACT_N ? 'exact' : 'asymp') : method;
  const g = gcd(n1, n2);
  if (mode === 'exact' && n1 / g >= 2147483647 / (n2 / g)) mode = 'asymp';
  if (mode === 'exact') {
    const lcm = (n1 / g) * n2;
    // Snap d to the lattice the exact distribution lives on.
    const h = Math.round(d * lcm);
    d = h / lcm;
    if (h === 0) return { statistic: d, pValue: 1, method: 'exact' };
    const p = n1 === n2 ? probOutsideSquare(n1, h) : outerProbInside(n1, n2, g, h);
    if (Number.isFinite(p) && p >= 0 && p <= 1) return { statistic: d, pValue: p, method: 'exact' };
    mode = 'asymp';
  }
  const m = Math.max(n1, n2);
  const n = Math.min(n1, n2);
  const en = (m * n) / (m + n);
  const p = kstwoSf(d, roundHalfEven(en));
  return { statistic: d, pValue: Math.min(1, Math.max(0, p)), method: 'asymp' };
}

/**
 * P(D_{n,n} >= h/n) = 2 Σ_k (-1)^(k-1) C(2n, n-kh) / C(2n, n), evaluated in Horner form so the
 * alternating series does not cancel.
 */
function probOutsideSquare(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    let ratio = 1;
    for (let j = 0; j < h; j++) ratio = ((n - k * h - j) * ratio) / (n + k * h + j + 1);
    p = ratio * (1 - p);
  }
  return 2 * p;
}

/**
 * Proportion of monotone lattice paths from (0,0) to (m,n) that leave the band
 * |x/m - y/n| < h/lcm(m,n), computed column by column over a sliding window as the
 * probability of having left it (so no division by huge binomials and no cancellation).
 */
function outerProbInside(m0: number, n0: number, g: number, h: number): number {
  const m = Math.max(m0, n0);
  const n = Math.min(m0, n0);
  const mg = m / g;
  const ng = n / g;
  let minj = 0;
  let maxj = Math.min(Math.ceil(h / mg), n + 1);
  let curlen = maxj - minj;
  const lenA = Math.min(2 * maxj + 2, n + 1);
  const A = new Float64Array(Math.max(lenA, 1)).fill(1);
  A.fill(0, minj, maxj);
  for (let i = 1; i <= m; i++) {
    const lastminj = minj;
    const lastlen = curlen;
    minj = Math.min(Math.max(Math.floor((ng * i - h) / mg) + 1, 0), n);
    maxj = Math.min(Math.ceil((ng * i + h) / mg), n + 1);
    if (maxj <= minj) return 1;
    let val = minj === 0 ? 0 : 1;
    for (let jj = 0; jj < maxj - minj; jj++) {
      const j = jj + minj;
      val = (A[jj + minj - lastminj]! * i + val * j) / (i + j);
      A[jj] = val;
    }
    curlen = maxj - minj;
    if (lastlen > curlen) A.fill(1, maxj - minj, maxj - minj + (lastlen - curlen));
  }
  return A[maxj - minj - 1]!;
}
