import { MillwrightError } from '../errors/index.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a bucket width such as `500ms`, `10s`, `1m` (= `1min`), `15m`, `1h`, `1d` into
 * milliseconds (a positive number of ms is accepted as is). Buckets are aligned to the UTC epoch,
 * so `1h` buckets start on the hour and `1d` at UTC midnight.
 *
 * @example
 * parseEvery('15m'); // 900000
 */
export function parseEvery(every: string | number): number {
  let ms = NaN;
  if (typeof every === 'number') ms = every;
  else if (typeof every === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)\s*$/.exec(every);
    if (m) ms = Number(m[1]) * UNITS[m[2]];
  }
  if (!(Number.isInteger(ms) && ms >= 1)) {
    throw new MillwrightError('BAD_INPUT', `every ${JSON.stringify(every)} is not a bucket width (expected e.g. "500ms", "10s", "1m", "1h", "1d" or a whole number of ms)`);
  }
  return ms;
}
