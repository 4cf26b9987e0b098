/**
 * Special functions behind the p-values: log-gamma, the regularised upper incomplete gamma
 * (chi-square survival) and the Kolmogorov limiting distribution. Written to match scipy
 * (cephes) to ~1e-12 relative over the ranges the reports use; see test/reports/stats.test.ts.
 */

// Lanczos approximation, g = 607/128, 15 terms (Godfrey's coefficients, as in Boost): ~1e-15 relative.
const LANCZOS_G = 607 / 128;
const LANCZOS = [
  0.9999999999999971, 57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202,
  3.399464998481189e-5, 4.652362892704858e-5, -9.837447530487956e-5, 1.580887032249125e-4, -2.1026444172410488e-4,
  2.1743961811521265e-4, -1.643181065367639e-4, 8.441822398385275e-5, -2.6190838401581408e-5, 3.6899182659531625e-6,
];

/** ln Γ(x) for x > 0. */
export function lgamma(x: number): number {
  if (!(x > 0)) return Number.NaN;
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0]!;
  for (let i = 1; i < LANCZOS.length; i++) s += LANCZOS[i]! / (z + i);
  const t = z + LANCZOS_G + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

const EPS = 1e-16;

/** Regularised upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function gammaincc(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return Number.NaN;
  if (x === 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const logPrefix = -x + a * Math.log(x) - lgamma(a);
  if (x < a + 1) {
    // Series for P(a, x); Q = 1 - P is well conditioned here because P is not close to 1.
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * EPS) break;
    }
    return 1 - sum * Math.exp(logPrefix);
  }
  // Continued fraction for Q (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(logPrefix) * h;
}

/** Survival function of the chi-square distribution with `df` degrees of freedom (scipy `chi2.sf`). */
export function chi2Sf(x: number, df: number): number {
  if (x <= 0) return 1;
  return gammaincc(df / 2, x / 2);
}

/**
 * Survival function of the Kolmogorov limiting distribution (scipy `special.kolmogorov`,
 * `kstwobign.sf`): P(sqrt(n) D_n > y) as n → ∞.
 */
export function kolmogorovSf(y: number): number {
  if (!(y > 0)) return 1;
  if (y < 1) {
    // Jacobi theta form converges fast for small y: CDF = sqrt(2π)/y Σ exp(-(2k-1)² π² / (8 y²)).
    const f = -(Math.PI * Math.PI) / (8 * y * y);
    let cdf = 0;
    for (let k = 1; k < 100; k++) {
      const term = Math.exp(f * (2 * k - 1) * (2 * k - 1));
      cdf += term;
      if (term < 1e-20 * cdf) break;
    }
    return 1 - (Math.sqrt(2 * Math.PI) / y) * cdf;
  }
  let sf = 0;
  for (let k = 1; k < 100; k++) {
    const term = Math.exp(-2 * k * k * y * y);
    sf += k % 2 === 1 ? term : -term;
    if (term < 1e-20 * Math.abs(sf)) break;
  }
  return Math.min(1, Math.max(0, 2 * sf));
}
