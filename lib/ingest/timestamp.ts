/**
 * Timestamp parsing for ingest, hand-written because it runs once per reading (10^7-10^8 times
 * per file): no substring, no regex, no Date object on the hot path.
 *
 * Accepted forms (anything else is a rejected row, never a guess):
 * - ISO-8601 with an explicit zone: `YYYY-MM-DDTHH:MM[:SS[.fraction]]<zone>` where the `T` may be
 *   a single space, the fraction has 1-9 digits (truncated to milliseconds) and `<zone>` is `Z`,
 *   `z`, `±HH:MM`, `±HHMM` or `±HH`. A timestamp without a zone is refused: local time is
 *   ambiguous and a silent guess would shift data by hours.
 * - Epoch milliseconds (UTC): digits, optionally a `.fraction` (kept as is), at least
 *   10^11 (1973-03-03): smaller numbers are almost certainly epoch SECONDS and are refused
 *   rather than read as January 1970; microseconds land after 9999 and are refused too.
 * Readings must fall between 1900-01-01 and 9999-12-31 (UTC), the range the store accepts.
 */

/** Smallest accepted timestamp: 1900-01-01T00:00:00Z. */
export const MIN_TS = Date.UTC(1900, 0, 1);
/** Smallest accepted epoch-milliseconds NUMBER (1973-03-03): below it, the input is probably seconds. */
export const MIN_EPOCH_MS = 1e11;
/** Largest accepted timestamp: 9999-12-31T23:59:59.999Z. */
export const MAX_TS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const DAY_MS = 86_400_000;
/** Days of each month (index 1-12) in a common year. */
export const MONTH_DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Two ASCII digits at i, or -1. */
function two(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1;
  return a * 10 + b;
}

/**
 * Reads a zoneless ISO time in a time zone (see LocalTimeZone in local-time.ts): wall-clock ms in,
 * UTC ms out, NaN when the time does not exist or is ambiguous there.
 */
export interface WallClock {
  toUtc(wall: number): number;
}

/**
 * Parses the timestamp in `s[start, end)` and returns epoch milliseconds (UTC), or NaN when it
 * is not one of the accepted forms or lies outside 1900..9999. With `local`, an ISO time without a
 * zone is read as wall-clock time there instead of refused.
 *
 * @example
 * parseTimestamp('2024-03-01T12:00:00.250+01:00'); // 1709290800250
 * parseTimestamp('1709290800250');                 // 1709290800250
 * parseTimestamp('2024-03-01 12:00:00');           // NaN (no zone)
 */
export function parseTimestamp(s: string, start = 0, end = s.length, local?: WallClock): number {
  const len = end - start;
  if (len <= 0) return NaN;
  const c0 = s.charCodeAt(start);
  // ISO dates have '-' at offset 4; epoch numbers never do.
  if (len >= 16 && s.charCodeAt(start + 4) === 45) return parseIso(s, start, end, local);
  if ((c0 >= 48 && c0 <= 57) || c0 === 45) return parseEpoch(s, start, end);
  return NaN;
}

function parseEpoch(s: string, start: number, end: number): number {
  let i = start;
  let neg = false;
  if (s.charCodeAt(i) === 45) {
    neg = true;
    i++;
  }
  const digitsStart = i;
  let v = 0;
  for (; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  if (i === digitsStart || i - digitsStart > 16) return NaN;
  if (i < end) {
    if (s.charCodeAt(i) !== 46 || i + 1 === end) return NaN;
    for (let k = i + 1; k < end; k++) {
      const d = s.charCodeAt(k) - 48;
      if (d < 0 || d > 9) return NaN;
    }
    v = Number(s.slice(digitsStart, end));
  }
  const t = neg ? -v : v;
  return t >= MIN_EPOCH_MS && t <= MAX_TS ? t : NaN;
}

function parseIso(s: string, start: number, end: number, local: WallClock | undefined): number {
  let i = start;
  const yh = two(s, i);
  const yl = two(s, i + 2);
  if (yh < 0 || yl < 0) return NaN;
  const y = yh * 100 + yl;
  const mo = two(s, i + 5);
  if (s.charCodeAt(i + 7) !== 45) return NaN;
  const d = two(s, i + 8);
  if (mo < 1 || mo > 12 || d < 1) return NaN;
  if (d > MONTH_DAYS[mo] && !(mo === 2 && d === 29 && isLeap(y))) return NaN;
  const sep = s.charCodeAt(i + 10);
  if (sep !== 84 && sep !== 32 && sep !== 116) return NaN; // 'T', ' ', 't'
  const h = two(s, i + 11);
  if (h < 0 || h > 23 || s.charCodeAt(i + 13) !== 58) return NaN;
  const mi = two(s, i + 14);
  if (mi < 0 || mi > 59) return NaN;
  i += 16;
  let sec = 0;
  let ms = 0;
  if (i < end && s.charCodeAt(i) === 58) {
    sec = two(s, i + 1);
    if (sec < 0 || sec > 59 || i + 3 > end) return NaN;
    i += 3;
    if (i < end && (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44)) {
      i++;
      const fracStart = i;
      let scale = 100;
      for (; i < end; i++) {
        const dd = s.charCodeAt(i) - 48;
        if (dd < 0 || dd > 9) break;
        ms += dd * scale;
        scale /= 10;
      }
      const nFrac = i - fracStart;
      if (nFrac === 0 || nFrac > 9) return NaN;
      ms = Math.floor(ms + 1e-9);
    }
  }
  if (i >= end) {
    // No zone: refused, unless the caller names the zone these wall-clock times are in.
    if (!local) return NaN;
    const t = local.toUtc(daysFromCivil(y, mo, d) * DAY_MS + ((h * 60 + mi) * 60 + sec) * 1000 + ms);
    return t >= MIN_TS && t <= MAX_TS ? t : NaN;
  }
  let offsetMin = 0;
  const z = s.charCodeAt(i);
  if (z === 90 || z === 122) {
    // 'Z' / 'z'
    i++;
  } else if (z === 43 || z === 45) {
    const oh = two(s, i + 1);
    if (oh < 0 || oh > 23 || i + 3 > end) return NaN;
    i += 3;
    let om = 0;
    if (i < end) {
      if (s.charCodeAt(i) === 58) i++;
      om = two(s, i);
      if (om < 0 || om > 59 || i + 2 > end) return NaN;
      i += 2;
    }
    offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
  } else {
    return NaN;
  }
  if (i !== end) return NaN;
  const t = daysFromCivil(y, mo, d) * DAY_MS + ((h * 60 + mi - offsetMin) * 60 + sec) * 1000 + ms;
  return t >= MIN_TS && t <= MAX_TS ? t : NaN;
}
