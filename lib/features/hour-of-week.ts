import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { floatColumn, valueColumn } from './columns.ts';

/** Options of {@link hourOfWeekProfile}. */
export interface HourOfWeekOptions {
  /** Time column, epoch ms (default `'ts'`). */
  ts?: string;
  /** Value column (default `'value'`). */
  value?: string;
  /** Extra grouping column, e.g. `'load_type'` or `'asset'` (default none). */
  by?: string;
  /** Local time offset from UTC in minutes (default 0; Asia/Seoul 540). */
  utcOffsetMinutes?: number;
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/**
 * Load profile by hour of week: mean, count and max of `value` per (weekday, hour) in local
 * time, optionally per `by` group. Rows `weekday` ('Mon'..'Sun'), `dow` (0 = Monday), `hour`
 * (0-23), [by], `mean`, `max`, `count`, sorted Monday 00h first.
 *
 * @example
 * heatmap(hourOfWeekProfile(steel, { value: 'usage_kwh', utcOffsetMinutes: 540 }).objects(), { fill: 'mean' });
 */
export function hourOfWeekProfile(table: ColumnTable, options: HourOfWeekOptions = {}): ColumnTable {
  const ts = floatColumn(table, options.ts ?? 'ts');
  const value = floatColumn(table, options.value ?? 'value');
  const by = options.by ? valueColumn(table, options.by) : undefined;
  const offset = (options.utcOffsetMinutes ?? 0) * 60_000;
  const acc = new Map<string, { key: unknown; dow: number; hour: number; sum: number; max: number; count: number }>();
  for (let i = 0; i < ts.length; i++) {
    const v = value[i]!;
    if (Number.isNaN(v)) continue;
    const d = new Date(ts[i]! + offset);
    const dow = (d.getUTCDay() + 6) % 7;
    const hour = d.getUTCHours();
    const key = by ? by[i] : '';
    const k = `${String(key)}\u0000${dow}\u0000${hour}`;
    let e = acc.get(k);
    if (!e) acc.set(k, (e = { key, dow, hour, sum: 0, max: -Infinity, count: 0 }));
    e.sum += v;
    e.count++;
    if (v > e.max) e.max = v;
  }
  const rows = [...acc.values()]
    .sort((a, b) => String(a.key).localeCompare(String(b.key)) || a.dow - b.dow || a.hour - b.hour)
    .map((e) => ({ weekday: DAYS[e.dow], dow: e.dow, hour: e.hour, ...(options.by ? { [options.by]: e.key } : {}), mean: e.sum / e.count, max: e.max, count: e.count }));
  return rows.length ? aq.from(rows) : aq.table({ weekday: [], dow: [], hour: [], mean: [], max: [], count: [] });
}
