import { CronExpressionParser } from 'cron-parser';
import { MillwrightError } from '../errors/index.ts';

/**
 * When predictions run: every `every` ms aligned to the UTC epoch (2h slots start at 00:00,
 * 02:00, ...), or at the times of a cron expression (UTC).
 */
export type SlotSchedule = { every: number; cron?: undefined } | { cron: string; every?: undefined };

function cronIter(cron: string, from: number) {
  try {
    return CronExpressionParser.parse(cron, { currentDate: new Date(from), tz: 'UTC' });
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `invalid cron schedule "${cron}": ${(err as Error).message} (expected 5 or 6 fields, e.g. "0 */2 * * *")`);
  }
}

/** Checks a schedule up front (a bad cron expression or a non-positive period is BAD_INPUT). */
export function checkSchedule(s: SlotSchedule): void {
  if (s.cron !== undefined) cronIter(s.cron, 0).next();
  else if (!Number.isFinite(s.every) || s.every <= 0) throw new MillwrightError('BAD_INPUT', `every must be a positive duration, got ${s.every} ms`);
}

/** The latest slot at or before `now` (epoch ms). */
export function latestSlot(s: SlotSchedule, now: number): number {
  if (s.cron === undefined) return Math.floor(now / s.every) * s.every;
  // cron-parser's prev() is strictly before currentDate: ask from just after now.
  return cronIter(s.cron, now + 1).prev().getTime();
}

/** The first slot strictly after `t`. */
export function nextSlot(s: SlotSchedule, t: number): number {
  if (s.cron === undefined) return (Math.floor(t / s.every) + 1) * s.every;
  return cronIter(s.cron, t).next().getTime();
}

/**
 * Slots due at `now` that come after `after` (the ledger's last slot), oldest first, at most
 * `max` (the newest ones when there are more). Without `after` only the latest slot is due: a
 * new schedule does not backfill history.
 */
export function dueSlots(s: SlotSchedule, now: number, after: number | undefined, max: number): number[] {
  const last = latestSlot(s, now);
  if (after === undefined) return [last];
  const out: number[] = [];
  for (let t = nextSlot(s, after); t <= last; t = nextSlot(s, t)) {
    out.push(t);
    if (out.length > max) out.shift();
  }
  return out;
}
