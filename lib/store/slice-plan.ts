import { DAY_MS, dayOfDate } from './partition.ts';
import type { ScanPlan } from './plan-scan.ts';

/**
 * The part of a plan that a narrower time range [from, to) reads: its files whose date partition
 * lies in the range, the filter narrowed to it (rows are still filtered exactly by the reader).
 * For a caller reading one long planned range in slices (e.g. a week at a time): one directory
 * listing and one footer query for the whole range instead of one per slice.
 *
 * @example
 * import { planScan, scanArrays, slicePlan } from 'millwright';
 * const plan = await planScan({ root, sites: 'plant-1', from, to });
 * const week = await scanArrays({ root, sites: 'plant-1', from, to: from + 7 * 86_400_000, plan: slicePlan(plan, from, from + 7 * 86_400_000) });
 */
export function slicePlan(plan: ScanPlan, from: number, to: number): ScanPlan {
  const lo = Math.max(from, plan.filter.from ?? -Infinity);
  const hi = Math.min(to, plan.filter.to ?? Infinity);
  const fromDay = Math.floor(lo / DAY_MS);
  const toDay = Math.floor((hi - 1) / DAY_MS);
  const files = plan.files.filter((f) => {
    const day = dayOfDate(f.date);
    return day >= fromDay && day <= toDay;
  });
  return { ...plan, filter: { ...plan.filter, from: lo, to: hi }, files };
}
