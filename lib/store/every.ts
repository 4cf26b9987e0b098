import { parseDuration } from '../units/index.ts';

/**
 * Parses a bucket width such as `500ms`, `10s`, `1m` (= `1min`), `15m`, `1h`, `1d` into
 * milliseconds (a positive number of ms is accepted as is). Buckets are aligned to the UTC epoch,
 * so `1h` buckets start on the hour and `1d` at UTC midnight.
 *
 * @example
 * parseEvery('15m'); // 900000
 */
export function parseEvery(every: string | number): number {
  return parseDuration(every, { what: 'every', positive: true, whole: 'require' });
}
