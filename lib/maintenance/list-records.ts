import { sql } from '../store/index.ts';
import { MAINTENANCE_KINDS, type MaintenanceKind, type MaintenanceRecord } from './record.ts';

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Filter of {@link listMaintenanceRecords}: records overlapping [from, to) of these assets and kinds. */
export interface MaintenanceFilter {
  asset?: string;
  kind?: MaintenanceKind;
  site?: string;
  from?: number;
  to?: number;
}

/** A stored record with its event id. */
export interface StoredMaintenanceRecord extends MaintenanceRecord {
  id: string;
}

/**
 * Reads the maintenance records (events of kind failure, repair, inspection) of a store, oldest
 * first.
 *
 * @example
 * import { listMaintenanceRecords } from 'millwright';
 * const failures = await listMaintenanceRecords('.millwright/store', { kind: 'failure', asset: 'line01-bearing' });
 */
export async function listMaintenanceRecords(root: string, filter: MaintenanceFilter = {}): Promise<StoredMaintenanceRecord[]> {
  const where = [`kind IN (${MAINTENANCE_KINDS.map(sqlString).join(', ')})`];
  if (filter.asset !== undefined) where.push(`asset = ${sqlString(filter.asset)}`);
  if (filter.kind !== undefined) where.push(`kind = ${sqlString(filter.kind)}`);
  if (filter.site !== undefined) where.push(`site = ${sqlString(filter.site)}`);
  // A record overlaps [from, to) when it starts before `to` and ends (or starts) at or after `from`.
  if (filter.to !== undefined) where.push(`epoch_ms(from_ts) < ${Math.round(filter.to)}`);
  if (filter.from !== undefined) where.push(`epoch_ms(coalesce(to_ts, from_ts)) >= ${Math.round(filter.from)}`);
  const q = `SELECT site, asset, kind, epoch_ms(from_ts)::DOUBLE AS f, epoch_ms(to_ts)::DOUBLE AS t, message, source, id FROM events
    WHERE ${where.join(' AND ')} ORDER BY from_ts, asset, kind`;
  const { rows } = await sql(q, { root });
  const seen = new Set<string>();
  const out: StoredMaintenanceRecord[] = [];
  for (const r of rows) {
    // The same record written twice by a crash-and-replay carries the same id: keep one.
    if (seen.has(r.id as string)) continue;
    seen.add(r.id as string);
    let msg: { mode?: string | null; note?: string | null; source?: string | null } = {};
    try {
      msg = JSON.parse((r.message as string | null) ?? '{}') as typeof msg;
    } catch {
      msg = { note: r.message as string };
    }
    out.push({
      id: r.id as string,
      site: r.site as string,
      asset: r.asset as string,
      kind: r.kind as MaintenanceKind,
      from: r.f as number,
      ...(r.t === null ? {} : { to: r.t as number }),
      ...(msg.mode ? { mode: msg.mode } : {}),
      ...(msg.note ? { note: msg.note } : {}),
      source: msg.source ?? (r.source as string),
    });
  }
  return out;
}
