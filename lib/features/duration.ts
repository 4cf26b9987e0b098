import { MillwrightError } from '../errors/index.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration in milliseconds, given as a number of ms or a string such as `'500ms'`, `'30s'`,
 * `'10m'`, `'1h'`, `'1d'` (one unit; fractions allowed).
 *
 * @example
 * parseDuration('10m'); // 600000
 */
export function parseDuration(value: number | string, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw new MillwrightError('BAD_INPUT', `${what}: ${value} is not a valid duration (expected milliseconds >= 0)`);
    }
    return value;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
  if (!m) {
    throw new MillwrightError('BAD_INPUT', `${what}: "${value}" is not a duration (expected e.g. 500ms, 30s, 10m, 1h, 1d)`);
  }
  return Number(m[1]) * UNITS[m[2]!]!;
}
