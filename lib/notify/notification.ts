import { createHash } from 'node:crypto';
import { MillwrightError } from '../errors/index.ts';
import { EVENT_SEVERITIES, type EventSeverity } from '../store/index.ts';

/**
 * One message to people or systems: what fired, on which asset, the value and limit, since when.
 * Channels render it with their own template; `key` travels with every delivery so a receiver
 * can drop the copies an at-least-once outbox may send.
 */
export interface Notification {
  /** Idempotency key: the same event always gets the same key (see {@link notificationKey}). */
  key: string;
  /** What the notification is about: `alarm`, `test`, or another event kind. */
  kind: string;
  severity: EventSeverity;
  /** When it happened (the state change), epoch ms. */
  ts: number;
  /** One line for a subject or a phone's lock screen. */
  title: string;
  site?: string;
  asset?: string;
  signal?: string;
  /** The rule (or source) that fired. */
  rule?: string;
  /** The alarm state after the change, e.g. `active`, `cleared`. */
  state?: string;
  value?: number;
  limit?: number;
  /** Since when the condition holds, epoch ms. */
  since?: number;
  until?: number;
  /** A `millwright sql` query that shows the readings around the event. */
  query?: string;
  /** A link to a report or query (filled in from the outbox's link template when absent). */
  link?: string;
}

/**
 * A row of the `events` table as the alarms write it: `kind: 'alarm'`, `source` = rule name,
 * `message` = JSON `{state, value, limit, rule}`. Accepts both the TypeScript row (`from`/`to`,
 * epoch ms) and a row read back with `millwright sql` (`from_ts`/`to_ts`, Date or ms).
 */
export interface AlarmEventRow {
  ts: number | Date;
  source: string;
  kind: string;
  severity: string;
  site?: string | null;
  asset?: string | null;
  signal?: string | null;
  from?: number | null;
  to?: number | null;
  from_ts?: number | Date | null;
  to_ts?: number | Date | null;
  message?: string | null;
  id?: string;
}

/**
 * The idempotency key of an event: a hash of what identifies one state change (source, asset,
 * signal, state, and the time of the change), so re-running the alarms over the same data, or a
 * gateway that wrote an event twice, yields the same key and the receiver sees one notification.
 *
 * @example
 * import { notificationKey } from 'millwright';
 * notificationKey(['high-temp', 'pump-1', 'bearing_temp', 'active', 1733100000000]); // '3f1c…' (32 hex)
 */
export function notificationKey(parts: readonly (string | number | undefined | null)[]): string {
  return createHash('sha256').update(parts.map((p) => (p === undefined || p === null ? '' : String(p))).join('\u0000')).digest('hex').slice(0, 32);
}

function ms(v: number | Date | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined;
  const n = v instanceof Date ? v.getTime() : Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function fmt(v: number | undefined): string {
  return v === undefined ? '?' : String(Number(v.toPrecision(6)));
}

function parseMessage(row: AlarmEventRow): Record<string, unknown> {
  if (!row.message) return {};
  try {
    const parsed: unknown = JSON.parse(row.message);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    throw new Error('not an object');
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `alarm event ${row.source}: message must be JSON {state, value, limit, rule} (${(err as Error).message})`);
  }
}

/** The `millwright sql` query for the readings around an event (an hour before it to 10 min after). */
function readingsQuery(asset: string | undefined, signal: string | undefined, from: number, to: number): string {
  const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const where = [asset && `asset = ${quote(asset)}`, signal && `signal = ${quote(signal)}`, `ts BETWEEN '${new Date(from).toISOString()}' AND '${new Date(to).toISOString()}'`];
  return `SELECT * FROM readings WHERE ${where.filter(Boolean).join(' AND ')} ORDER BY ts`;
}

/**
 * Turns an alarm row of the `events` table into a notification (title, value, limit, since,
 * a store query for the readings around it) with a key derived from the state change.
 *
 * @example
 * import { alarmToNotification } from 'millwright';
 * const n = alarmToNotification({ ts: Date.parse('2024-03-01T10:00:00Z'), source: 'bearing-hot', kind: 'alarm',
 *   asset: 'pump-1', signal: 'bearing_temp', severity: 'critical', from: Date.parse('2024-03-01T09:58:00Z'),
 *   message: JSON.stringify({ state: 'active', value: 91.5, limit: 85, rule: 'bearing-hot' }) });
 * n.title; // 'CRITICAL bearing-hot active on pump-1: bearing_temp 91.5 (limit 85)'
 */
export function alarmToNotification(row: AlarmEventRow): Notification {
  const ts = ms(row.ts);
  if (ts === undefined) throw new MillwrightError('BAD_INPUT', `alarm event: ts ${String(row.ts)} is not a time (expected epoch ms or a Date)`);
  if (typeof row.source !== 'string' || row.source === '') throw new MillwrightError('BAD_INPUT', 'alarm event: source (the rule name) must be a non-empty string');
  if (!EVENT_SEVERITIES.includes(row.severity as EventSeverity)) {
    throw new MillwrightError('BAD_INPUT', `alarm event: severity ${JSON.stringify(row.severity)} is not one of ${EVENT_SEVERITIES.join(', ')}`);
  }
  const msg = parseMessage(row);
  const state = typeof msg.state === 'string' ? msg.state : row.kind;
  const rule = typeof msg.rule === 'string' ? msg.rule : row.source;
  const value = num(msg.value);
  const limit = num(msg.limit);
  const since = ms(row.from ?? row.from_ts);
  const until = ms(row.to ?? row.to_ts);
  const asset = row.asset ?? undefined;
  const signal = row.signal ?? undefined;
  const where = asset ? ` on ${asset}` : '';
  const what = signal ? `: ${signal} ${fmt(value)} (limit ${fmt(limit)})` : value !== undefined ? `: ${fmt(value)} (limit ${fmt(limit)})` : '';
  const query = readingsQuery(asset, signal, (since ?? ts) - 3_600_000, (until ?? ts) + 600_000);
  const flood = row.kind === 'alarm-flood' && typeof msg.count === 'number'
    ? `${row.severity.toUpperCase()} alarm flood: more than ${String(msg.max)} alarms from ${new Date(since ?? ts).toISOString()} to ${new Date(until ?? ts).toISOString()}; further alarms in this window are not notified one by one`
    : undefined;
  return {
    key: notificationKey([row.source, asset, signal, state, ts]),
    kind: row.kind,
    severity: row.severity as EventSeverity,
    ts,
    title: flood ?? `${row.severity.toUpperCase()} ${rule} ${state}${where}${what}`,
    site: row.site ?? undefined,
    asset,
    signal,
    rule,
    state,
    value,
    limit,
    since,
    until,
    query,
  };
}

/** Checks a notification handed to `enqueue` (the outbox file must be renderable later). */
export function checkNotification(n: Notification): void {
  const bad = (why: string) => new MillwrightError('BAD_INPUT', `notification: ${why}`);
  if (typeof n.key !== 'string' || !/^[A-Za-z0-9._-]{1,128}$/.test(n.key)) throw bad(`key ${JSON.stringify(n.key)} must be 1-128 letters, digits, '.', '_' or '-'`);
  if (!Number.isFinite(n.ts)) throw bad(`ts ${n.ts} is not epoch milliseconds`);
  if (typeof n.title !== 'string' || n.title === '') throw bad('title must be a non-empty string');
  if (typeof n.kind !== 'string' || n.kind === '') throw bad('kind must be a non-empty string');
  if (!EVENT_SEVERITIES.includes(n.severity)) throw bad(`severity ${JSON.stringify(n.severity)} is not one of ${EVENT_SEVERITIES.join(', ')}`);
}
