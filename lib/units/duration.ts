import { MillwrightError, type ErrorCode } from '../errors/index.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$/i;

/** How {@link parseDuration} reads its input and which values it accepts. */
export interface DurationOptions {
  /** The flag or key the value came from; every error message starts with it (default `'duration'`). */
  what?: string;
  /**
   * What a string without a unit (`'30'`) means: seconds (as SageMaker's timeouts and the gateway's
   * flags read it), milliseconds, or an error (the library's options, where `'30'` is ambiguous).
   * A JS number is always milliseconds. Default `'reject'`.
   */
  bareNumber?: 'ms' | 's' | 'reject';
  /** Refuse zero (default: zero is a valid duration). */
  positive?: boolean;
  /** `'require'`: the result must be a whole number of ms; `'round'`: it is rounded to one. Default: fractions kept. */
  whole?: 'require' | 'round';
  /** Error code of a refused value: `'USAGE'` for command-line flags (exit 2), else `'BAD_INPUT'` (default). */
  code?: Extract<ErrorCode, 'USAGE' | 'BAD_INPUT'>;
}

/**
 * A duration in milliseconds, from a number of ms or a string such as `'500ms'`, `'30s'`, `'10m'`
 * (= `'10min'`), `'1h'`, `'1d'` (one unit, fractions allowed, any case). The one duration parser:
 * each caller states what a bare number means and what range it accepts, so `'30'` never means
 * seconds in one place and milliseconds in another by accident.
 *
 * @example
 * import { parseDuration } from 'millwright';
 * parseDuration('10m'); // 600000
 * parseDuration('30', { what: '--timeout', bareNumber: 's', positive: true, code: 'USAGE' }); // 30000
 */
export function parseDuration(value: number | string, options: DurationOptions = {}): number {
  const { what = 'duration', bareNumber = 'reject', positive = false, whole, code = 'BAD_INPUT' } = options;
  let ms = Number.NaN;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') {
    const m = DURATION.exec(value);
    const unit = m?.[2]?.toLowerCase() ?? (bareNumber === 'reject' ? undefined : bareNumber);
    if (m && unit !== undefined) ms = Number(m[1]) * UNITS[unit]!;
  }
  const inRange = Number.isFinite(ms) && (positive ? ms > 0 : ms >= 0) && (whole !== 'require' || Number.isInteger(ms));
  if (!inRange) throw new MillwrightError(code, `${what}: ${JSON.stringify(value)} is not a duration (expected ${expectation(bareNumber, positive, whole)})`);
  return whole === 'round' ? Math.round(ms) : ms;
}

function expectation(bareNumber: 'ms' | 's' | 'reject', positive: boolean, whole: 'require' | 'round' | undefined): string {
  const bare = bareNumber === 's' ? '; a bare number is seconds' : bareNumber === 'ms' ? '; a bare number is milliseconds' : '';
  const range = whole === 'require' ? `a whole number of milliseconds >= ${positive ? 1 : 0}` : positive ? 'greater than zero' : '>= 0';
  return `e.g. "500ms", "10s", "1m", "1h", "1d"${bare}; must be ${range}`;
}
