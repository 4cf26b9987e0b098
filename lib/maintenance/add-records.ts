import { join, resolve } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { mkdirDurable, withLock } from '../durable/index.ts';
import { EVENTS_DIR, writeEvents } from '../store/index.ts';
import { checkRecords, recordKey, recordToEvent, type MaintenanceRecord } from './record.ts';
import { listMaintenanceRecords } from './list-records.ts';

/**
 * Adds maintenance records to the store's `events` table, all or none: every record is checked
 * first (kind, names, times, end not before start), then, under the store's maintenance lock,
 * against the stored records and each other (same asset, kind and start is a duplicate, refused
 * with CONFLICT). Nothing is written when any record is refused.
 *
 * @example
 * import { addMaintenanceRecords } from 'millwright';
 * await addMaintenanceRecords('.millwright/store', [{ site: 'plant-a', asset: 'line01-bearing', kind: 'failure',
 *   from: Date.parse('2024-01-09T14:20:00Z'), mode: 'bearing-outer-race', note: 'seized' }]);
 */
export async function addMaintenanceRecords(root: string, records: readonly MaintenanceRecord[], label?: (i: number) => string): Promise<{ rows: number; ids: string[] }> {
  checkRecords(records, label);
  const name = label ?? ((i: number) => `record ${i}`);
  const dir = join(resolve(root), EVENTS_DIR);
  await mkdirDurable(dir);
  return withLock(join(dir, '.maintenance.lock'), async () => {
    const stored = new Set((await listMaintenanceRecords(root)).map(recordKey));
    const dup: string[] = [];
    const mine = new Set<string>();
    records.forEach((r, i) => {
      const key = recordKey(r);
      if (stored.has(key)) dup.push(`${name(i)}: a ${r.kind} of ${r.asset} from ${new Date(r.from).toISOString()} is already recorded`);
      else if (mine.has(key)) dup.push(`${name(i)}: repeats an earlier ${r.kind} of ${r.asset} from ${new Date(r.from).toISOString()} in the same input`);
      mine.add(key);
    });
    if (dup.length) throw new MillwrightError('CONFLICT', `${dup.length} duplicate maintenance record(s), nothing written: ${dup.slice(0, 20).join('; ')}`);
    const rows = records.map(recordToEvent);
    if (rows.length) await writeEvents(root, rows);
    return { rows: rows.length, ids: rows.map((r) => r.id) };
  });
}

/**
 * Adds one maintenance record (see {@link addMaintenanceRecords}).
 *
 * @example
 * import { addMaintenanceRecord } from 'millwright';
 * await addMaintenanceRecord('.millwright/store', { site: 'plant-a', asset: 'press1', kind: 'repair',
 *   from: Date.parse('2024-01-09T15:00:00Z'), to: Date.parse('2024-01-10T09:00:00Z') });
 */
export async function addMaintenanceRecord(root: string, record: MaintenanceRecord): Promise<{ id: string }> {
  const { ids } = await addMaintenanceRecords(root, [record]);
  return { id: ids[0]! };
}
