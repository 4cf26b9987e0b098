import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { floatColumn, groupRows, valueColumn } from './columns.ts';

const DAY = 86_400_000;

/** Options of {@link dailySummary} and {@link dailyRunSummary}. */
export interface DailyOptions {
  /** Offset of the plant's local day from UTC in minutes (default 0: UTC days; Asia/Seoul is 540). */
  utcOffsetMinutes?: number;
}

function dayOf(ts: number, offset: number): number {
  return Math.floor((ts + offset) / DAY);
}
function dateString(day: number): string {
  return new Date(day * DAY).toISOString().slice(0, 10);
}

/**
 * The daily batch job's table: one row per asset, signal and day with `count`, `sum`, `mean`,
 * `std` (sample), `min`, `max`, `first`, `last`. Columns: `date` (YYYY-MM-DD, local to
 * `utcOffsetMinutes`), `asset`, `signal`, then the statistics. Sorted by date, asset, signal.
 *
 * @example
 * dailySummary(await scanTable({ root, from: '2026-01-01', to: '2026-01-08' })).print();
 */
export function dailySummary(table: ColumnTable, options: DailyOptions = {}): ColumnTable {
  const offset = (options.utcOffsetMinutes ?? 0) * 60_000;
  const ts = floatColumn(table, 'ts');
  const value = floatColumn(table, 'value');
  const rows: Array<{ date: string; asset: unknown; signal: unknown; count: number; sum: number; mean: number; std: number; min: number; max: number; first: number; last: number }> = [];
  for (const g of groupRows(table, ['asset', 'signal'], ts)) {
    const r = g.rows;
    let i = 0;
    while (i < r.length) {
      const day = dayOf(ts[r[i]!]!, offset);
      let j = i;
      let sum = 0;
      let lo = Infinity;
      let hi = -Infinity;
      let k = 0;
      while (j < r.length && dayOf(ts[r[j]!]!, offset) === day) {
        const v = value[r[j]!]!;
        if (!Number.isNaN(v)) {
          sum += v;
          k++;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        j++;
      }
      const mean = k > 0 ? sum / k : NaN;
      let ss = 0;
      for (let q = i; q < j; q++) {
        const v = value[r[q]!]!;
        if (!Number.isNaN(v)) ss += (v - mean) ** 2;
      }
      rows.push({
        date: dateString(day), asset: g.key[0], signal: g.key[1], count: k, sum, mean,
        std: k > 1 ? Math.sqrt(ss / (k - 1)) : NaN, min: k ? lo : NaN, max: k ? hi : NaN,
        first: value[r[i]!]!, last: value[r[j - 1]!]!,
      });
      i = j;
    }
  }
  rows.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : String(a.asset).localeCompare(String(b.asset)) || String(a.signal).localeCompare(String(b.signal))));
  return rows.length ? aq.from(rows) : aq.table({ date: [], asset: [], signal: [], count: [], sum: [], mean: [], std: [], min: [], max: [], first: [], last: [] });
}

/**
 * Production per asset and day from a run table ({@link findRuns}): `runs` started that day,
 * `production_h` (hours in runs, a run crossing midnight split between the days) and
 * `longest_run_h`.
 *
 * @example
 * dailyRunSummary(findRuns(readings, { signal: 'speed', on: 800 })).print();
 */
export function dailyRunSummary(runs: ColumnTable, options: DailyOptions = {}): ColumnTable {
  const offset = (options.utcOffsetMinutes ?? 0) * 60_000;
  const asset = valueColumn(runs, 'asset');
  const start = floatColumn(runs, 'start');
  const end = floatColumn(runs, 'end');
  const acc = new Map<string, { date: string; asset: unknown; runs: number; production_h: number; longest_run_h: number }>();
  const get = (a: unknown, day: number) => {
    const key = `${dateString(day)}\u0000${String(a)}`;
    let e = acc.get(key);
    if (!e) acc.set(key, (e = { date: dateString(day), asset: a, runs: 0, production_h: 0, longest_run_h: 0 }));
    return e;
  };
  for (let r = 0; r < runs.numRows(); r++) {
    const s = start[r]!;
    const e = end[r]!;
    const first = get(asset[r], dayOf(s, offset));
    first.runs++;
    first.longest_run_h = Math.max(first.longest_run_h, (e - s) / 3_600_000);
    for (let d = dayOf(s, offset); d <= dayOf(e, offset); d++) {
      const from = Math.max(s, d * DAY - offset);
      const to = Math.min(e, (d + 1) * DAY - offset);
      if (to > from) get(asset[r], d).production_h += (to - from) / 3_600_000;
    }
  }
  const rows = [...acc.values()].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : String(a.asset).localeCompare(String(b.asset))));
  return rows.length ? aq.from(rows) : aq.table({ date: [], asset: [], runs: [], production_h: [], longest_run_h: [] });
}
