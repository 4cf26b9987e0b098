import { MillwrightError } from '../errors/index.ts';

/**
 * Local (naive) wall-clock times read in an IANA time zone, without Temporal: offsets come from
 * `Intl.DateTimeFormat`, and each local day is resolved once (its offset, or the one DST
 * transition inside it, found by bisection to the second), so a row costs a day lookup and a
 * subtraction, not an Intl call.
 */

/**
 * What to do with a local time that a DST change makes ambiguous (it occurs twice, at fall-back)
 * or nonexistent (skipped, at spring-forward). `earlier` and `later` pick the earlier or the later
 * of the two candidate instants, as Temporal's `disambiguation` does: for an ambiguous time these
 * are its first and its second occurrence; for a nonexistent time they are the wall time read with
 * the offset after the change (the earlier instant: 02:30 in Berlin on spring-forward day becomes
 * 00:30Z, shown as 01:30 CET) and with the offset before it (the later instant: 01:30Z, 03:30 CEST).
 * `reject` (the default) sends the row to the rejects file with the reason.
 */
export type AmbiguousPolicy = 'earlier' | 'later' | 'reject';

const DAY = 86_400_000;

interface DayInfo {
  /** Offset (ms, local minus UTC) before the transition, or the whole day's offset. */
  before: number;
  /** Offset after the transition (equal to `before` when the day has none). */
  after: number;
  /** First UTC instant with the `after` offset. */
  at: number;
}

/**
 * Converts wall-clock milliseconds (the local date and time written as if it were UTC) into UTC
 * epoch milliseconds in one IANA zone, applying an {@link AmbiguousPolicy} at DST changes.
 *
 * @example
 * import { LocalTimeZone } from 'millwright';
 * const berlin = new LocalTimeZone('Europe/Berlin', 'reject');
 * berlin.toUtc(Date.UTC(2024, 6, 1, 12, 0)); // 1719828000000 (10:00Z, CEST)
 * berlin.toUtc(Date.UTC(2024, 2, 31, 2, 30)); // NaN; berlin.problem says why
 */
export class LocalTimeZone {
  private readonly fmt: Intl.DateTimeFormat;
  private readonly days = new Map<number, DayInfo>();
  private lastDay = Number.NaN;
  private last: DayInfo | undefined;
  /** Why the last {@link toUtc} returned NaN. */
  problem = '';

  constructor(
    readonly zone: string,
    readonly policy: AmbiguousPolicy = 'reject',
  ) {
    try {
      this.fmt = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      });
    } catch {
      throw new MillwrightError('USAGE', `unknown time zone ${JSON.stringify(zone)} (expected an IANA zone name such as Europe/Berlin, America/Chicago or UTC)`);
    }
    if (!['earlier', 'later', 'reject'].includes(policy)) {
      throw new MillwrightError('USAGE', `ambiguous-time policy must be earlier, later or reject, got ${JSON.stringify(policy)}`);
    }
  }

  /** Offset of the zone (local minus UTC, ms) at a UTC instant. */
  offsetAt(utc: number): number {
    const whole = Math.floor(utc / 1000) * 1000;
    const p: Record<string, string> = {};
    for (const part of this.fmt.formatToParts(whole)) p[part.type] = part.value;
    let year = Number(p.year);
    if (p.era === 'BC' || p.era === 'B') year = 1 - year;
    const wall = Date.UTC(year, Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
    // Date.UTC maps years 0-99 to 1900-1999; store timestamps start in 1900, so that never matters here.
    return wall - whole;
  }

  private day(d: number): DayInfo {
    if (d === this.lastDay) return this.last!;
    let info = this.days.get(d);
    if (!info) {
      // The local day [d0, d0 + 1 day) lies within UTC [d0 - 1 day, d0 + 2 days) for every
      // offset in use (-12 h .. +14 h); one transition at most falls in such a span.
      const d0 = d * DAY;
      let lo = d0 - DAY;
      let hi = d0 + 2 * DAY;
      const before = this.offsetAt(lo);
      const after = this.offsetAt(hi);
      if (before !== after) {
        while (hi - lo > 1000) {
          const mid = Math.floor((lo + hi) / 2000) * 1000;
          if (mid <= lo) break;
          if (this.offsetAt(mid) === before) lo = mid;
          else hi = mid;
        }
      }
      info = { before, after, at: hi };
      if (this.days.size > 100_000) this.days.clear();
      this.days.set(d, info);
    }
    this.lastDay = d;
    this.last = info;
    return info;
  }

  /** UTC epoch ms of a wall-clock time; NaN (with {@link problem} set) when the policy rejects it. */
  toUtc(wall: number): number {
    const info = this.day(Math.floor(wall / DAY));
    if (info.before === info.after) return wall - info.before;
    const a = wall - info.before;
    const b = wall - info.after;
    const aOk = a < info.at;
    const bOk = b >= info.at;
    if (aOk && !bOk) return a;
    if (bOk && !aOk) return b;
    const earlier = Math.min(a, b);
    const later = Math.max(a, b);
    if (this.policy === 'earlier') return earlier;
    if (this.policy === 'later') return later;
    const local = new Date(wall).toISOString().slice(0, 19).replace('T', ' ');
    const off = (ms: number) => {
      const m = Math.round(Math.abs(ms) / 60_000);
      return `${ms < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    };
    this.problem =
      aOk && bOk
        ? `ambiguous local time ${local} in ${this.zone}: it occurs twice when the clocks go back (${off(info.before)} then ${off(info.after)}); pass --ambiguous earlier|later to pick one`
        : `nonexistent local time ${local} in ${this.zone}: the clocks skip it when they go forward (${off(info.before)} to ${off(info.after)}); pass --ambiguous earlier|later to read it with one of the two offsets`;
    return Number.NaN;
  }
}
