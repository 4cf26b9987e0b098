import { readFileSync } from 'node:fs';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';
import { datasetPath } from './data-dir.ts';
import { parseDelimited } from './parse-delimited.ts';

/** Asia/Seoul is UTC+9 all year (no DST since 1988): the steel plant's clock. */
export const STEEL_UTC_OFFSET_MINUTES = 540;

/** Korean public holidays of 2018 (substitute days and the 13 June local election included): the plant's calendar. */
export const STEEL_HOLIDAYS_2018 = [
  '2018-01-01', '2018-02-15', '2018-02-16', '2018-02-17', '2018-03-01', '2018-05-05', '2018-05-07', '2018-05-22',
  '2018-06-06', '2018-06-13', '2018-08-15', '2018-09-23', '2018-09-24', '2018-09-25', '2018-09-26', '2018-10-03',
  '2018-10-09', '2018-12-25',
];

const SOURCE_COLUMNS: Record<string, string> = {
  date: 'date',
  Usage_kWh: 'usage_kwh',
  'Lagging_Current_Reactive.Power_kVarh': 'lagging_reactive_kvarh',
  Leading_Current_Reactive_Power_kVarh: 'leading_reactive_kvarh',
  'CO2(tCO2)': 'co2_tco2',
  Lagging_Current_Power_Factor: 'lagging_pf',
  Leading_Current_Power_Factor: 'leading_pf',
  NSM: 'nsm',
  WeekStatus: 'week_status',
  Day_of_week: 'day_of_week',
  Load_Type: 'load_type',
};

const DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})$/;
const DAY_MS = 86_400_000;

/**
 * Parses one steel `date` cell with its `NSM` (seconds since midnight) into epoch ms UTC.
 * The file labels each midnight reading with the day it CLOSES ("1/1/2018 0:00" follows
 * "1/1/2018 23:45"), so NSM == 0 means the next calendar day; and the clock is Seoul time.
 *
 * @example
 * steelTimestamp('1/1/2018 0:00', 0); // Date.UTC(2018, 0, 2) - 9 h = 2018-01-01T15:00:00Z
 */
export function steelTimestamp(date: string, nsm: number, source = 'Steel_industry_data.csv'): number {
  const m = DATE.exec(date.trim());
  if (!m) throw new MillwrightError('BAD_INPUT', `${source}: date "${date}" is not d/m/yyyy H:MM`);
  const [day, month, year, hour, minute] = [+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!];
  if (hour * 3600 + minute * 60 !== nsm) {
    throw new MillwrightError('BAD_INPUT', `${source}: date "${date}" disagrees with NSM ${nsm} (seconds since midnight)`);
  }
  const local = Date.UTC(year, month - 1, day, hour, minute) + (nsm === 0 ? DAY_MS : 0);
  return local - STEEL_UTC_OFFSET_MINUTES * 60_000;
}

/**
 * Loads the UCI steel-industry energy dataset (DAEWOO Steel, 2018, 15-min) as an arquero table:
 * `ts` (epoch ms UTC, midnight rows moved to the next day), `usage_kwh` (energy in the 15 min
 * ending at ts), reactive energies, CO2, power factors, `nsm`, `week_status`, `day_of_week`,
 * `load_type` (Light_Load / Medium_Load / Maximum_Load). Rows keep file order, which after the
 * midnight fix is strictly increasing in ts.
 *
 * @param dir data directory (default `MILLWRIGHT_DATA_DIR`)
 * @example
 * const steel = loadSteel();            // 35,040 rows
 * steel.rollup({ kwh: op.sum('usage_kwh') });
 */
export function loadSteel(dir?: string): ColumnTable {
  const path = datasetPath('steel-industry-energy', 'Steel_industry_data.csv', dir);
  const parsed = parseDelimited(readFileSync(path, 'utf8'), {
    names: Object.keys(SOURCE_COLUMNS),
    kinds: { date: 'string', WeekStatus: 'string', Day_of_week: 'string', Load_Type: 'string' },
    source: path,
  });
  const dates = parsed.columns.date as string[];
  const nsm = parsed.columns.NSM as Float64Array;
  const ts = new Float64Array(parsed.rows);
  for (let i = 0; i < parsed.rows; i++) ts[i] = steelTimestamp(dates[i]!, nsm[i]!, `${path} line ${i + 2}`);
  const columns: Record<string, Float64Array | string[]> = { ts };
  for (const [from, to] of Object.entries(SOURCE_COLUMNS)) if (from !== 'date') columns[to] = parsed.columns[from]!;
  return aq.table(columns);
}
