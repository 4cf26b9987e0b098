import { MillwrightError } from '../lib/errors/index.ts';

const ISO_LOCAL = /^(\d{4})[-.](\d{2})[-.](\d{2})[ T.](\d{2})[:.](\d{2})[:.](\d{2})(?:\.(\d{1,6}))?$/;

/**
 * Parses a zone-less wall-clock timestamp (`YYYY-MM-DD HH:MM:SS[.ffffff]`, or the IMS file-name
 * form `YYYY.MM.DD.HH.MM.SS`) as local time at `utcOffsetMinutes` east of UTC, returning epoch
 * ms UTC. The offset is explicit because these files never say which zone they were written in.
 *
 * @example
 * parseZonelessTime('2018-01-01 09:00:00', 540); // Date.UTC(2018, 0, 1, 0, 0)
 */
export function parseZonelessTime(text: string, utcOffsetMinutes = 0, source = 'input'): number {
  const m = ISO_LOCAL.exec(text.trim());
  if (!m) throw new MillwrightError('BAD_INPUT', `${source}: timestamp "${text}" is not YYYY-MM-DD HH:MM:SS`);
  const frac = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) + frac;
  return ms - utcOffsetMinutes * 60_000;
}
