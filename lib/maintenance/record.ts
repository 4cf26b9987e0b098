import { createHash } from 'node:crypto';
import { MillwrightError } from '../errors/index.ts';
import type { EventRow } from '../store/index.ts';

/** Kinds of maintenance record, as the `kind` of their `events` rows. */
export const MAINTENANCE_KINDS = ['failure', 'repair', 'inspection'] as const;
/** One of {@link MAINTENANCE_KINDS}. */
export type MaintenanceKind = (typeof MAINTENANCE_KINDS)[number];

/**
 * A failure, repair or inspection a mechanic recorded: stored as one `events` row (kind, asset,
 * from_ts, to_ts, message JSON `{mode, note, source}`), so `millwright sql` joins it with readings
 * and the labels and the alarm scores read it back.
 */
export interface MaintenanceRecord {
  site: string;
  asset: string;
  kind: MaintenanceKind;
  /** Epoch ms: when the failure happened, the repair or inspection began. */
  from: number;
  /** Epoch ms: end of a repair window (absent: instantaneous or still open). */
  to?: number;
  /** Failure mode, e.g. `bearing-outer-race`. */
  mode?: string;
  note?: string;
  /** Where the record came from: `cli`, `http`, `cmms:<file>` (default `cli`). */
  source?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

/**
 * Checks one record and returns why it is bad, or undefined. `what` prefixes the reason (`record 3`).
 */
export function recordProblem(r: Partial<MaintenanceRecord> | null | undefined): string | undefined {
  if (r === null || typeof r !== 'object') return 'is not an object';
  for (const k of ['site', 'asset'] as const) {
    const v = r[k];
    if (typeof v !== 'string' || !NAME.test(v)) return `${k} ${JSON.stringify(v)} must be a name (letters, digits, . _ : / -)`;
  }
  if (!MAINTENANCE_KINDS.includes(r.kind as MaintenanceKind)) return `kind ${JSON.stringify(r.kind)} is not one of ${MAINTENANCE_KINDS.join(', ')}`;
  if (typeof r.from !== 'number' || !Number.isFinite(r.from)) return `from ${JSON.stringify(r.from)} is not a time (epoch ms)`;
  if (r.to !== undefined && (typeof r.to !== 'number' || !Number.isFinite(r.to))) return `to ${JSON.stringify(r.to)} is not a time (epoch ms)`;
  if (r.to !== undefined && r.to < r.from) return `ends (${new Date(r.to).toISOString()}) before it starts (${new Date(r.from).toISOString()})`;
  for (const k of ['mode', 'note', 'source'] as const) if (r[k] !== undefined && typeof r[k] !== 'string') return `${k} must be a string`;
  return undefined;
}

/** The identity of a record: a second record with the same asset, kind and start is a duplicate. */
export function recordKey(r: Pick<MaintenanceRecord, 'asset' | 'kind' | 'from'>): string {
  return `${r.asset}\u0000${r.kind}\u0000${Math.round(r.from)}`;
}

/** The `events` row of a record; its id follows from its key, so a replayed write keeps one id. */
export function recordToEvent(r: MaintenanceRecord): EventRow {
  const id = `mnt-${createHash('sha256').update(`${r.site}\u0000${recordKey(r)}`).digest('hex').slice(0, 24)}`;
  return {
    ts: Math.round(r.from),
    site: r.site,
    source: r.source ?? 'cli',
    kind: r.kind,
    asset: r.asset,
    from: Math.round(r.from),
    ...(r.to === undefined ? {} : { to: Math.round(r.to) }),
    severity: r.kind === 'failure' ? 'error' : 'info',
    message: JSON.stringify({ mode: r.mode ?? null, note: r.note ?? null, source: r.source ?? 'cli' }),
    id,
  };
}

/** Throws BAD_INPUT naming every bad record (by index) when any is bad. */
export function checkRecords(records: readonly MaintenanceRecord[], label = (i: number) => `record ${i}`): void {
  const bad = records.map((r, i) => [i, recordProblem(r)] as const).filter(([, p]) => p !== undefined);
  if (bad.length) {
    throw new MillwrightError('BAD_INPUT', `${bad.length} bad maintenance record(s), nothing written: ${bad.slice(0, 20).map(([i, p]) => `${label(i)}: ${p}`).join('; ')}`);
  }
}
