/**
 * Linear-interpolated quantile `q` (0..1) of ascending values (numpy's default 'linear' method);
 * `NaN` for no values. The one quantile of baselines, forest leaves, feature summaries and
 * reports: exact at the ends (`q = 0` and `q = 1` return the first and last value as they are),
 * so the figures do not depend on which module asked.
 *
 * @example
 * import { quantileSorted } from 'millwright';
 * quantileSorted([1, 2, 3, 4], 0.5); // 2.5
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  if (hi === lo) return sorted[lo]!;
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}
