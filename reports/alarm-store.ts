/**
 * The alarm report's inputs read from a store: alarm intervals from the `alarm` rows of the
 * `events` table, failures from the maintenance records, and the alarmed signals' readings.
 */
import { sql } from '../lib/store/index.ts';
import { listMaintenanceRecords } from '../lib/maintenance/index.ts';
import type { AlarmInterval, FailureMark } from './metrics/alarm-scores.ts';

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Alarm intervals from event rows of kind `alarm` (one row per state change: `from_ts` active
 * since, `to_ts` cleared or null): the rows of one alarm share rule, asset, signal and `from_ts`,
 * and the alarm ends at the latest `to_ts` among them (null: still active).
 */
export async function readAlarmIntervals(root: string, period: { from: number; to: number }): Promise<AlarmInterval[]> {
  const { rows } = await sql(
    `SELECT source AS rule, asset, signal, epoch_ms(from_ts)::DOUBLE AS f, max(epoch_ms(to_ts))::DOUBLE AS t
     FROM events WHERE kind = 'alarm' AND from_ts IS NOT NULL AND asset IS NOT NULL
       AND epoch_ms(from_ts) < ${Math.round(period.to)}
     GROUP BY source, asset, signal, from_ts
     HAVING coalesce(max(epoch_ms(to_ts)), ${Math.round(period.to)}) >= ${Math.round(period.from)}
     ORDER BY from_ts, source, asset`,
    { root },
  );
  return rows.map((r) => ({ rule: r.rule as string, asset: r.asset as string, ...(r.signal === null ? {} : { signal: r.signal as string }), from: r.f as number, to: r.t as number | null }));
}

/** Failures recorded in [from, to). */
export async function readFailures(root: string, period: { from: number; to: number }): Promise<FailureMark[]> {
  const recs = await listMaintenanceRecords(root, { kind: 'failure', from: period.from, to: period.to });
  return recs.filter((r) => r.from >= period.from).map((r) => ({ asset: r.asset, at: r.from, ...(r.mode ? { mode: r.mode } : {}) }));
}

/** Readings (ts, asset, signal, value) of the alarmed (asset, signal) pairs in [from, to). */
export async function readAlarmedReadings(root: string, alarms: readonly AlarmInterval[], period: { from: number; to: number }): Promise<Record<string, unknown[]>> {
  const pairs = [...new Set(alarms.filter((a) => a.signal).map((a) => `(${q(a.asset)}, ${q(a.signal!)})`))];
  const out: Record<string, unknown[]> = { ts: [], asset: [], signal: [], value: [] };
  if (!pairs.length) return out;
  const { rows } = await sql(
    `SELECT epoch_ms(ts)::DOUBLE AS ts, asset, signal, value FROM readings
     WHERE (asset, signal) IN (${pairs.join(', ')}) AND ts >= make_timestamptz(${Math.round(period.from) * 1000}) AND ts < make_timestamptz(${Math.round(period.to) * 1000})`,
    { root },
  );
  for (const r of rows) for (const k of ['ts', 'asset', 'signal', 'value']) out[k]!.push(r[k]);
  return out;
}
