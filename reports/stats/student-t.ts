/**
 * Student's t distribution: the CDF through the regularised incomplete beta function and the
 * two-sided critical value by bisection on it. The energy-performance report needs both: CalTRACK
 * qualifies a degree-day term by its coefficient's p-value, and ASHRAE Guideline 14's savings
 * uncertainty multiplies by the t statistic at the chosen confidence with n - p degrees of freedom.
 */
import { lgamma } from './special.ts';

const EPS = 1e-15;
const TINY = 1e-300;

/** Continued fraction of the incomplete beta (modified Lentz), valid for x < (a + 1) / (a + b + 2). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 10_000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b) (scipy `special.betainc`). */
export function betainc(a: number, b: number, x: number): number {
  if (!(a > 0) || !(b > 0) || !(x >= 0 && x <= 1)) return Number.NaN;
  if (x === 0 || x === 1) return x;
  const logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  // The fraction converges fast on one side of the mean; use the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) on the other.
  if (x < (a + 1) / (a + b + 2)) return (Math.exp(logFront) * betaContinuedFraction(a, b, x)) / a;
  return 1 - (Math.exp(logFront) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/**
 * CDF of Student's t with `df` degrees of freedom (scipy `stats.t.cdf`).
 *
 * @example
 * import { studentTCdf } from 'millwright/reports';
 * studentTCdf(2.228, 10); // ≈ 0.975
 */
export function studentTCdf(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return Number.NaN;
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = 0.5 * betainc(df / 2, 0.5, df / (df + t * t));
  return t > 0 ? 1 - tail : tail;
}

/** Two-sided p-value of a t statistic: P(|T| >= |t|). */
export function studentTTwoSidedP(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return Number.NaN;
  return betainc(df / 2, 0.5, df / (df + t * t));
}

/**
 * The two-sided critical value t such that P(|T| <= t) = `confidence` (scipy
 * `stats.t.ppf(0.5 + confidence / 2, df)`): 1.0 at 68 % and 1.645 at 90 % for large df.
 *
 * @example
 * import { studentTCritical } from 'millwright/reports';
 * studentTCritical(0.9, 30); // ≈ 1.697
 */
export function studentTCritical(confidence: number, df: number): number {
  if (!(confidence > 0 && confidence < 1) || !(df > 0)) return Number.NaN;
  const target = 1 - confidence; // two-sided tail mass
  let lo = 0;
  let hi = 1;
  while (studentTTwoSidedP(hi, df) > target) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-14 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSidedP(mid, df) > target) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
