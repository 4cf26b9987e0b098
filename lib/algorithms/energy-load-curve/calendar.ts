/**
 * Calendar drivers in the plant's local time: hour of day, weekday, month and public holidays.
 * Uses Intl (IANA zones, DST-aware); results are cached per 15 minutes of UTC time because every
 * real UTC offset is a multiple of 15 minutes.
 */
import { MillwrightError } from '../../errors/index.ts';

export type CalendarFeature = 'hour' | 'weekday' | 'holiday' | 'month' | 'hour_of_week';
export const CALENDAR_FEATURES: readonly CalendarFeature[] = ['hour', 'weekday', 'holiday', 'month', 'hour_of_week'];

const WEEKDAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
const QUARTER = 900_000;

/** Local calendar parts of each timestamp (epoch ms UTC). Weekday 0 = Monday. */
export function localCalendar(
  ts: ArrayLike<number>,
  timeZone: string,
): { hour: Int32Array; weekday: Int32Array; month: Int32Array; date: string[] } {
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      hourCycle: 'h23',
      weekday: 'short',
    });
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `timezone ${JSON.stringify(timeZone)} is not an IANA time zone (e.g. "Europe/Berlin", "Asia/Seoul", "UTC")`, { cause: err });
  }
  const n = ts.length;
  const hour = new Int32Array(n);
  const weekday = new Int32Array(n);
  const month = new Int32Array(n);
  const date = new Array<string>(n);
  const cache = new Map<number, [number, number, number, string]>();
  for (let i = 0; i < n; i++) {
    const t = ts[i]!;
    if (!Number.isFinite(t)) throw new MillwrightError('BAD_INPUT', `timestamp at row ${i} is not a number (expected epoch ms)`);
    const key = Math.floor(t / QUARTER);
    let parts = cache.get(key);
    if (parts === undefined) {
      const p: Record<string, string> = {};
      for (const part of fmt.formatToParts(key * QUARTER)) p[part.type] = part.value;
      parts = [Number(p.hour), WEEKDAYS[p.weekday!]!, Number(p.month), `${p.year}-${p.month}-${p.day}`];
      cache.set(key, parts);
    }
    hour[i] = parts[0];
    weekday[i] = parts[1];
    month[i] = parts[2];
    date[i] = parts[3];
  }
  return { hour, weekday, month, date };
}

/** Validates a holiday list (local dates YYYY-MM-DD). */
export function holidaySet(holidays: unknown): Set<string> {
  if (!Array.isArray(holidays) || !holidays.every((h) => typeof h === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(h))) {
    throw new MillwrightError('BAD_INPUT', `holidays: ${JSON.stringify(holidays)} is not valid (expected a JSON array of local dates "YYYY-MM-DD")`);
  }
  return new Set(holidays as string[]);
}

/** The calendar feature columns, in `features` order. */
export function calendarColumns(
  ts: ArrayLike<number>,
  features: readonly CalendarFeature[],
  timeZone: string,
  holidays: Set<string>,
): Float32Array[] {
  const cal = localCalendar(ts, timeZone);
  return features.map((f) => {
    switch (f) {
      case 'hour':
        return Float32Array.from(cal.hour);
      case 'weekday':
        return Float32Array.from(cal.weekday);
      case 'month':
        return Float32Array.from(cal.month);
      case 'hour_of_week':
        return Float32Array.from(cal.hour, (h, i) => cal.weekday[i]! * 24 + h);
      case 'holiday':
        return Float32Array.from(cal.date, (d) => (holidays.has(d) ? 1 : 0));
    }
  });
}
