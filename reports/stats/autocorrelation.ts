/**
 * Lag-1 autocorrelation of a series in time order (0 for fewer than 3 values or a constant
 * series): the drift tests' effective sample size and Guideline 14's n′ both start from it.
 *
 * @example
 * import { lag1Autocorrelation } from 'millwright/reports';
 * lag1Autocorrelation([1, 2, 3, 4, 5, 4, 3, 2, 1]); // ≈ 0.54
 */
export function lag1Autocorrelation(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 3) return 0;
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i]!;
  m /= n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i]! - m;
    den += d * d;
    if (i > 0) num += d * (x[i - 1]! - m);
  }
  return den > 0 ? num / den : 0;
}
