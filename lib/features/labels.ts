import { MillwrightError } from '../errors/index.ts';
import type { MaintenanceRecord } from '../maintenance/index.ts';

/** Options of {@link failureLabels}. */
export interface FailureLabelOptions {
  /** Horizon of `failure_within` in ms: 1 when a failure of the row's asset follows within (ts, ts + horizon]. */
  horizonMs: number;
}

/** Labels per input row (same order as the rows). */
export interface FailureLabels {
  /** 1 when the asset fails within the horizon after the row, 0 when not, null inside a repair window. */
  failureWithin: (0 | 1 | null)[];
  /** Hours from the row to the asset's next failure; null when none follows, or inside a repair window. */
  hoursToFailure: (number | null)[];
  /** The row lies inside a repair window [from, to] of its asset: the machine is being fixed, not degrading. */
  inRepair: boolean[];
}

const HOUR = 3_600_000;

function upperBound(xs: readonly number[], t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Training labels from maintenance records for rows of (asset, ts): failure within a horizon
 * (0/1) and time to the next failure (hours). Rows inside a repair window get null labels and
 * `inRepair`, since a machine under repair is neither healthy nor about to fail. A failure at
 * exactly the row's time is not "next" (the row already sees the failed machine).
 *
 * @example
 * import { failureLabels, listMaintenanceRecords } from 'millwright';
 * const records = await listMaintenanceRecords('.millwright/store');
 * const { failureWithin, hoursToFailure } = failureLabels([{ asset: 'line01-bearing', ts: Date.parse('2024-01-08T00:00Z') }], records, { horizonMs: 24 * 3_600_000 });
 */
export function failureLabels(rows: readonly { asset: string; ts: number }[], records: readonly Pick<MaintenanceRecord, 'asset' | 'kind' | 'from' | 'to'>[], options: FailureLabelOptions): FailureLabels {
  if (!(options.horizonMs > 0)) throw new MillwrightError('BAD_INPUT', `horizon ${options.horizonMs} ms must be positive (e.g. 24h)`);
  const failures = new Map<string, number[]>();
  const repairs = new Map<string, [number, number][]>();
  for (const r of records) {
    if (r.kind === 'failure') (failures.get(r.asset) ?? failures.set(r.asset, []).get(r.asset)!).push(r.from);
    else if (r.kind === 'repair' && r.to !== undefined) (repairs.get(r.asset) ?? repairs.set(r.asset, []).get(r.asset)!).push([r.from, r.to]);
  }
  for (const f of failures.values()) f.sort((a, b) => a - b);
  const out: FailureLabels = { failureWithin: [], hoursToFailure: [], inRepair: [] };
  for (const { asset, ts } of rows) {
    const inRepair = (repairs.get(asset) ?? []).some(([a, b]) => ts >= a && ts <= b);
    out.inRepair.push(inRepair);
    if (inRepair) {
      out.failureWithin.push(null);
      out.hoursToFailure.push(null);
      continue;
    }
    const f = failures.get(asset) ?? [];
    const next = f[upperBound(f, ts)];
    out.hoursToFailure.push(next === undefined ? null : (next - ts) / HOUR);
    out.failureWithin.push(next !== undefined && next - ts <= options.horizonMs ? 1 : 0);
  }
  return out;
}
