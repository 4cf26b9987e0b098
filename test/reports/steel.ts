/**
 * The steel-plant energy test setup: train Jan-Sep 2018, report Oct-Dec.
 *
 * `steelEnergyData` gives expected and best-achievable energy from a deliberately simple load
 * curve fitted on the training months, for the rendering tests (fast, no training): for each local
 * hour of the week, expected = mean hourly kWh and best = the 10th percentile of hourly kWh. The
 * real-data energy test (real.test.ts) trains the built-in energy-load-curve model instead.
 */
import type { ColumnTable } from 'arquero';
import { loadSteel, STEEL_UTC_OFFSET_MINUTES } from '../../datasets/steel.ts';

const HOUR = 3_600_000;
/** 2018-10-01 00:00 in Seoul. */
export const STEEL_SPLIT = Date.UTC(2018, 9, 1) - STEEL_UTC_OFFSET_MINUTES * 60_000;
export const STEEL_DRIVERS = ['lagging_reactive_kvarh', 'leading_reactive_kvarh', 'lagging_pf', 'leading_pf'];

/** Local hour of the week (Mon 00:00 = 0) of the interval that a reading stamped `ts` closes. */
export function steelHourOfWeek(ts: number): number {
  const local = ts - 1 + STEEL_UTC_OFFSET_MINUTES * 60_000;
  const day = Math.floor(local / 86_400_000);
  return ((((day + 3) % 7) + 7) % 7) * 24 + Math.floor((local - day * 86_400_000) / HOUR);
}

export function steelEnergyData(dir: string): { current: Record<string, number[]>; reference: Record<string, number[]>; table: ColumnTable } {
  const t = loadSteel(dir);
  const ts = t.array('ts') as ArrayLike<number>;
  const usage = t.array('usage_kwh') as ArrayLike<number>;
  const drivers = STEEL_DRIVERS.map((d) => t.array(d) as ArrayLike<number>);
  const hourly = new Map<number, number>();
  for (let i = 0; i < ts.length; i++) {
    if (ts[i]! >= STEEL_SPLIT) continue;
    const h = Math.floor((ts[i]! - 1) / HOUR);
    hourly.set(h, (hourly.get(h) ?? 0) + usage[i]!);
  }
  const bySlot: number[][] = Array.from({ length: 168 }, () => []);
  for (const [h, kwh] of hourly) bySlot[steelHourOfWeek(h * HOUR + 1)]!.push(kwh);
  const expected = bySlot.map((xs) => xs.reduce((s, x) => s + x, 0) / xs.length);
  const best = bySlot.map((xs) => [...xs].sort((a, b) => a - b)[Math.floor(0.1 * (xs.length - 1))]!);
  const current: Record<string, number[]> = { ts: [], usage_kwh: [], expected: [], best: [], ...Object.fromEntries(STEEL_DRIVERS.map((d) => [d, []])) };
  const reference: Record<string, number[]> = { ts: [], usage_kwh: [], ...Object.fromEntries(STEEL_DRIVERS.map((d) => [d, []])) };
  for (let i = 0; i < ts.length; i++) {
    const target = ts[i]! >= STEEL_SPLIT ? current : reference;
    target.ts!.push(ts[i]!);
    target.usage_kwh!.push(usage[i]!);
    STEEL_DRIVERS.forEach((d, j) => target[d]!.push(drivers[j]![i]!));
    if (target === current) {
      // Readings are 15-minute energy: a quarter of the hourly curve each.
      const slot = steelHourOfWeek(ts[i]!);
      current.expected!.push(expected[slot]! / 4);
      current.best!.push(best[slot]! / 4);
    }
  }
  return { current, reference, table: t };
}
