import { join, resolve } from 'node:path';
import * as arrow from 'apache-arrow';
import { MillwrightError } from '../errors/index.ts';
import { mkdirDurable, uniqueId, writeFileAtomic } from '../durable/index.ts';
import { DAY_MS, dateOfDay, partitionDir } from './partition.ts';
import { encodeParquet } from './parquet.ts';

/** Folder of the `events` table inside a store root (beside the readings' `site=` folders). */
export const EVENTS_DIR = 'events';

/** Severities of an event row, mildest first. */
export const EVENT_SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
/** One of {@link EVENT_SEVERITIES}. */
export type EventSeverity = (typeof EVENT_SEVERITIES)[number];

/**
 * One row of the `events` table: something that happened at a site that is not a reading (a
 * source connecting or dropping, a lost interval, a rejected reading, an alarm).
 */
export interface EventRow {
  /** Epoch ms when it happened. */
  ts: number;
  site: string;
  /** Who recorded it: a gateway source name, `gateway`, an alarm rule. */
  source: string;
  /** What happened: `connected`, `disconnected`, `error`, `gap`, `reject`, an alarm kind. */
  kind: string;
  asset?: string;
  signal?: string;
  /** The interval concerned (a gap's first and last lost instant), epoch ms. */
  from?: number;
  to?: number;
  severity: EventSeverity;
  message?: string;
  /** Unique id (a crash between store write and spool delete can write an event twice: same id). */
  id: string;
}

const schema = new arrow.Schema([
  new arrow.Field('ts', new arrow.TimestampMillisecond('UTC'), false),
  new arrow.Field('source', new arrow.Utf8(), false),
  new arrow.Field('kind', new arrow.Utf8(), false),
  new arrow.Field('asset', new arrow.Utf8(), true),
  new arrow.Field('signal', new arrow.Utf8(), true),
  new arrow.Field('from_ts', new arrow.TimestampMillisecond('UTC'), true),
  new arrow.Field('to_ts', new arrow.TimestampMillisecond('UTC'), true),
  new arrow.Field('severity', new arrow.Utf8(), false),
  new arrow.Field('message', new arrow.Utf8(), true),
  new arrow.Field('id', new arrow.Utf8(), false),
]);

function checkRow(e: EventRow, i: number): void {
  const bad = (why: string) => new MillwrightError('BAD_INPUT', `event ${i}: ${why}`);
  if (!Number.isFinite(e.ts)) throw bad(`ts ${e.ts} is not epoch milliseconds`);
  for (const k of ['source', 'kind', 'id'] as const) if (typeof e[k] !== 'string' || e[k].length === 0) throw bad(`${k} must be a non-empty string`);
  if (!EVENT_SEVERITIES.includes(e.severity)) throw bad(`severity ${JSON.stringify(e.severity)} is not one of ${EVENT_SEVERITIES.join(', ')}`);
  for (const k of ['from', 'to'] as const) if (e[k] !== undefined && !Number.isFinite(e[k])) throw bad(`${k} ${e[k]} is not epoch milliseconds`);
}

function table(rows: EventRow[]): arrow.Table {
  const ms = (v: number | undefined) => (v === undefined ? null : Math.round(v));
  const cols = {
    ts: arrow.vectorFromArray(rows.map((r) => Math.round(r.ts)), new arrow.TimestampMillisecond('UTC')),
    source: arrow.vectorFromArray(rows.map((r) => r.source), new arrow.Utf8()),
    kind: arrow.vectorFromArray(rows.map((r) => r.kind), new arrow.Utf8()),
    asset: arrow.vectorFromArray(rows.map((r) => r.asset ?? null), new arrow.Utf8()),
    signal: arrow.vectorFromArray(rows.map((r) => r.signal ?? null), new arrow.Utf8()),
    from_ts: arrow.vectorFromArray(rows.map((r) => ms(r.from)), new arrow.TimestampMillisecond('UTC')),
    to_ts: arrow.vectorFromArray(rows.map((r) => ms(r.to)), new arrow.TimestampMillisecond('UTC')),
    severity: arrow.vectorFromArray(rows.map((r) => r.severity), new arrow.Utf8()),
    message: arrow.vectorFromArray(rows.map((r) => r.message ?? null), new arrow.Utf8()),
    id: arrow.vectorFromArray(rows.map((r) => r.id), new arrow.Utf8()),
  };
  return new arrow.Table(schema, cols as unknown as Record<string, arrow.Vector>);
}

/**
 * Writes event rows into the store's `events` table: one Parquet file per (site, UTC date) under
 * `<root>/events/site=<site>/date=<YYYY-MM-DD>/part-<id>.parquet`, written atomically like the
 * readings (temp file, fsync, rename, fsync the directory). `millwright sql` shows them as the
 * `events` view. Throws BAD_INPUT (and writes nothing) when a row is invalid.
 *
 * @example
 * import { writeEvents } from 'millwright';
 * await writeEvents('.millwright/store', [{ ts: Date.now(), site: 'plant-a', source: 'alarms', kind: 'limit',
 *   asset: 'press1', signal: 'temperature', severity: 'warning', message: 'above 80 degC', id: 'a1' }]);
 */
export async function writeEvents(root: string, rows: EventRow[]): Promise<{ files: string[]; rows: number }> {
  rows.forEach(checkRow);
  const groups = new Map<string, EventRow[]>();
  for (const r of rows) {
    const key = `${r.site}\u0000${dateOfDay(Math.floor(Math.round(r.ts) / DAY_MS))}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const dirs = [...groups.keys()].map((key) => {
    const [site, date] = key.split('\u0000');
    return partitionDir(join(resolve(root), EVENTS_DIR), site, date);
  });
  const files: string[] = [];
  let i = 0;
  for (const g of groups.values()) {
    g.sort((a, b) => a.ts - b.ts);
    const dir = dirs[i++];
    await mkdirDurable(dir);
    const file = join(dir, `part-${uniqueId()}.parquet`);
    await writeFileAtomic(file, encodeParquet(table(g)));
    files.push(file);
  }
  return { files, rows: rows.length };
}
