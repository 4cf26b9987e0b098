/**
 * Hourly totals of interval energy readings (e.g. 15-min kWh) — the resolution ASHRAE Guideline 14's
 * hourly criteria are stated for.
 */
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../../errors/index.ts';
import { numericColumn, requireColumns } from '../table.ts';

export interface HourlyOptions {
  /** Timestamp column (epoch ms UTC). Default 'ts'. */
  ts?: string;
  /** Energy column summed per hour (required). */
  value: string;
  /** True when a row's ts marks the END of its interval (meter convention, e.g. the steel file). Default false. */
  intervalEnd?: boolean;
  /** Interval length in minutes, used with `intervalEnd` and for the completeness count. Default 15. */
  intervalMinutes?: number;
  /** Other columns to carry: 'first' (schedules, labels), 'mean' or 'sum'. */
  keep?: Record<string, 'first' | 'mean' | 'sum'>;
  /** Drop hours with fewer intervals than a full hour. Default true. */
  completeOnly?: boolean;
}

/**
 * Sums `value` per UTC hour (hour-start `ts`), carrying other columns.
 *
 * @example
 * const hourly = hourlyTotals(steel, { value: 'usage_kwh', intervalEnd: true, keep: { week_status: 'first' } });
 */
export function hourlyTotals(table: ColumnTable, options: HourlyOptions): ColumnTable {
  const tsName = options.ts ?? 'ts';
  const keep = options.keep ?? {};
  requireColumns(table, [tsName, options.value, ...Object.keys(keep)], 'hourlyTotals');
  const minutes = options.intervalMinutes ?? 15;
  const perHour = Math.round(60 / minutes);
  const shift = options.intervalEnd === true ? minutes * 60_000 : 0;
  const ts = numericColumn(table, tsName);
  const v = numericColumn(table, options.value);
  const hours = new Map<number, number>();
  const hourTs: number[] = [];
  const sums: number[] = [];
  const counts: number[] = [];
  const carried: Record<string, unknown[]> = Object.fromEntries(Object.keys(keep).map((k) => [k, []]));
  const carriedCount: Record<string, number[]> = Object.fromEntries(Object.keys(keep).map((k) => [k, []]));
  const cols = Object.fromEntries(Object.keys(keep).map((k) => [k, table.array(k) as ArrayLike<unknown>]));
  for (let i = 0; i < ts.length; i++) {
    if (!Number.isFinite(ts[i]!)) throw new MillwrightError('BAD_INPUT', `hourlyTotals: ${tsName} at row ${i} is not a number`);
    const h = Math.floor((ts[i]! - shift) / 3_600_000) * 3_600_000;
    let j = hours.get(h);
    if (j === undefined) {
      j = hourTs.length;
      hours.set(h, j);
      hourTs.push(h);
      sums.push(0);
      counts.push(0);
      for (const k of Object.keys(keep)) {
        carried[k]!.push(keep[k] === 'first' ? cols[k]![i] : 0);
        carriedCount[k]!.push(0);
      }
    }
    if (Number.isFinite(v[i]!)) {
      sums[j]! += v[i]!;
      counts[j]!++;
    }
    for (const k of Object.keys(keep)) {
      if (keep[k] === 'first') continue;
      const x = Number(cols[k]![i]);
      if (Number.isFinite(x)) {
        (carried[k] as number[])[j]! += x;
        carriedCount[k]![j]!++;
      }
    }
  }
  for (const k of Object.keys(keep)) {
    if (keep[k] === 'mean') carried[k] = (carried[k] as number[]).map((s, j) => s / Math.max(1, carriedCount[k]![j]!));
  }
  const order = hourTs.map((_, j) => j).filter((j) => options.completeOnly === false || counts[j]! >= perHour).sort((a, b) => hourTs[a]! - hourTs[b]!);
  return aq.table({
    [tsName]: Float64Array.from(order, (j) => hourTs[j]!),
    [options.value]: Float64Array.from(order, (j) => sums[j]!),
    intervals: Int32Array.from(order, (j) => counts[j]!),
    ...Object.fromEntries(Object.keys(keep).map((k) => [k, order.map((j) => carried[k]![j])])),
  });
}
