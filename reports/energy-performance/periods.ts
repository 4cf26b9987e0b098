/**
 * Readings rows -> the periods an energy baseline is fitted on (hours, days, weeks or months of
 * plant time): energy and production summed, numeric drivers averaged, a categorical driver as
 * the share of rows in each level, and the daily mean temperatures behind degree-days.
 */
import type { Frame } from '../data.ts';
import { numericColumn } from '../data.ts';
import { MillwrightError } from '../../lib/errors/index.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export type Granularity = 'hour' | 'day' | 'week' | 'month';

/** `hourly`, `daily`, `weekly`, `monthly`: for sentences. */
export function periodAdjective(g: Granularity): string {
  return g === 'day' ? 'daily' : `${g}ly`;
}

/** Which columns mean what. */
export interface PeriodColumns {
  ts: string;
  energy: string;
  production?: string;
  temperature?: string;
  drivers: string[];
  categorical: string[];
}

/** One period of plant time. */
export interface Period {
  /** Start, epoch ms UTC (the local period start shifted back by the plant's offset). */
  start: number;
  /** Length in days (1/24 for an hour, 28-31 for a month). */
  days: number;
  rows: number;
  /** Rows present over rows expected at the data's usual rate (1 = complete). */
  coverage: number;
  energy: number;
  production: number | null;
  /** Mean temperature of each local day (or the hour's mean for hourly periods), for degree-days. */
  temperatures: number[];
  drivers: Record<string, number>;
  /** Share of rows per level of each categorical driver: `shares[column][level]`. */
  shares: Record<string, Record<string, number>>;
  /** Local day of week of the start, 0 = Monday. */
  weekday: number;
  /** Local hour of the start (hourly periods). */
  hour: number;
}

/** Start of the local period containing local time `t` (ms, already shifted by the offset). */
function localPeriodStart(t: number, g: Granularity): number {
  if (g === 'hour') return Math.floor(t / HOUR) * HOUR;
  const day = Math.floor(t / DAY) * DAY;
  if (g === 'day') return day;
  if (g === 'week') return day - (((new Date(day).getUTCDay() + 6) % 7) * DAY);
  const d = new Date(day);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function periodDays(localStart: number, g: Granularity): number {
  if (g === 'hour') return 1 / 24;
  if (g === 'day') return 1;
  if (g === 'week') return 7;
  const d = new Date(localStart);
  return (Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - localStart) / DAY;
}

interface Acc {
  rows: number;
  energy: number;
  production: number;
  productionRows: number;
  tempByDay: Map<number, { sum: number; n: number }>;
  driverSum: Record<string, { sum: number; n: number }>;
  levelCounts: Record<string, Map<string, number>>;
  categoricalRows: Record<string, number>;
}

/**
 * Groups rows into periods. Rows whose energy is missing are left out (they lower the coverage);
 * the result is in time order. `intervalEnd`: time stamps close their interval (a 15-min meter
 * reading stamped 00:00 is the last quarter of the previous day).
 *
 * @example
 * const days = toPeriods(frame, { ts: 'ts', energy: 'Usage_kWh', drivers: [], categorical: ['Load_Type'] }, 'day', 0);
 */
export function toPeriods(frame: Frame, cols: PeriodColumns, g: Granularity, utcOffsetMinutes: number, intervalEnd = false): Period[] {
  const what = 'energy-performance';
  const ts = timestamps(frame, cols.ts, utcOffsetMinutes);
  const energy = numericColumn(frame, cols.energy, what).values;
  const production = cols.production ? numericColumn(frame, cols.production, what).values : undefined;
  const temperature = cols.temperature ? numericColumn(frame, cols.temperature, what).values : undefined;
  const drivers = cols.drivers.map((d) => [d, numericColumn(frame, d, what).values] as const);
  const categorical = cols.categorical.map((c) => {
    const col = frame.columns.get(c);
    if (!col) throw new MillwrightError('BAD_INPUT', `${what}: categorical driver "${c}" not found (columns: ${frame.names.join(', ')})`);
    return [c, col.kind === 'categorical' ? col.values : Array.from(col.values, (v) => (Number.isNaN(v) ? null : String(v)))] as const;
  });
  const offset = utcOffsetMinutes * 60_000;
  const accs = new Map<number, Acc>();
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i]!;
    const e = energy[i]!;
    if (!Number.isFinite(t) || !Number.isFinite(e)) continue;
    // A meter reading stamped at the end of its interval belongs to the period the interval started in.
    const local = t + offset - (intervalEnd ? 1 : 0);
    const key = localPeriodStart(local, g);
    let a = accs.get(key);
    if (!a) accs.set(key, (a = newAcc(cols)));
    a.rows++;
    a.energy += e;
    if (production && Number.isFinite(production[i]!)) {
      a.production += production[i]!;
      a.productionRows++;
    }
    if (temperature && Number.isFinite(temperature[i]!)) {
      const dayKey = g === 'hour' ? key : Math.floor(local / DAY);
      let td = a.tempByDay.get(dayKey);
      if (!td) a.tempByDay.set(dayKey, (td = { sum: 0, n: 0 }));
      td.sum += temperature[i]!;
      td.n++;
    }
    for (const [name, values] of drivers) {
      const v = values[i]!;
      if (Number.isFinite(v)) {
        a.driverSum[name]!.sum += v;
        a.driverSum[name]!.n++;
      }
    }
    for (const [name, values] of categorical) {
      const level = values[i];
      if (level === null || level === undefined) continue;
      const m = a.levelCounts[name]!;
      m.set(level, (m.get(level) ?? 0) + 1);
      a.categoricalRows[name]!++;
    }
  }
  const rowsPerDay = typicalRowsPerDay(accs, g);
  return [...accs.keys()].sort((x, y) => x - y).map((key) => finish(key, accs.get(key)!, g, offset, rowsPerDay, cols));
}

const ZONED = /(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Time stamps as epoch ms: a numeric column as is; text as ISO 8601, where a stamp without a zone
 * is plant time (shifted by the offset), never the zone of the machine running the report.
 */
function timestamps(frame: Frame, name: string, utcOffsetMinutes: number): Float64Array {
  const col = frame.columns.get(name);
  if (col?.kind !== 'categorical') return numericColumn(frame, name, 'energy-performance').values;
  const out = new Float64Array(col.values.length);
  col.values.forEach((v, i) => {
    if (v === null) out[i] = Number.NaN;
    else {
      const text = v.trim().replace(' ', 'T');
      out[i] = ZONED.test(text) ? Date.parse(text) : Date.parse(`${text}Z`) - utcOffsetMinutes * 60_000;
      if (Number.isNaN(out[i]!)) throw new MillwrightError('BAD_INPUT', `energy-performance: row ${i + 1} of column "${name}": "${v}" is not a time stamp (expected epoch ms or ISO 8601 such as 2018-10-01T00:15)`);
    }
  });
  return out;
}

function newAcc(cols: PeriodColumns): Acc {
  return {
    rows: 0,
    energy: 0,
    production: 0,
    productionRows: 0,
    tempByDay: new Map(),
    driverSum: Object.fromEntries(cols.drivers.map((d) => [d, { sum: 0, n: 0 }])),
    levelCounts: Object.fromEntries(cols.categorical.map((c) => [c, new Map<string, number>()])),
    categoricalRows: Object.fromEntries(cols.categorical.map((c) => [c, 0])),
  };
}

/** The data's usual rate: the median of rows per day over the periods (a meter's 15-min rate gives 96). */
function typicalRowsPerDay(accs: Map<number, Acc>, g: Granularity): number {
  const rates = [...accs].map(([key, a]) => a.rows / periodDays(key, g)).sort((x, y) => x - y);
  return rates.length ? rates[Math.floor(rates.length / 2)]! : 0;
}

function finish(key: number, a: Acc, g: Granularity, offset: number, rowsPerDay: number, cols: PeriodColumns): Period {
  const days = periodDays(key, g);
  const date = new Date(key);
  return {
    start: key - offset,
    days,
    rows: a.rows,
    coverage: rowsPerDay > 0 ? Math.min(1, a.rows / (rowsPerDay * days)) : 0,
    energy: a.energy,
    production: cols.production ? (a.productionRows ? a.production : null) : null,
    temperatures: [...a.tempByDay.values()].map((t) => t.sum / t.n),
    drivers: Object.fromEntries(Object.entries(a.driverSum).map(([k, s]) => [k, s.n ? s.sum / s.n : Number.NaN])),
    shares: Object.fromEntries(
      Object.entries(a.levelCounts).map(([k, m]) => [k, Object.fromEntries([...m].map(([level, n]) => [level, n / a.categoricalRows[k]!]))]),
    ),
    weekday: (date.getUTCDay() + 6) % 7,
    hour: date.getUTCHours(),
  };
}

/**
 * Degree-days of a period at balance point `base`: heating Σ max(0, base − T_day), cooling
 * Σ max(0, T_day − base) over its days (CalTRACK's daily definition); an hourly period counts
 * its hour as 1/24 of a day.
 */
export function degreeDays(p: Period, base: number, kind: 'heating' | 'cooling'): number {
  const weight = p.days < 1 ? p.days : 1;
  let s = 0;
  for (const t of p.temperatures) s += kind === 'heating' ? Math.max(0, base - t) : Math.max(0, t - base);
  return s * weight;
}
