import { MillwrightError } from '../errors/index.ts';
import { scanArrays, sql, writeEvents, type EventRow } from '../store/index.ts';
import { AlarmSession } from './alarm-session.ts';
import type { AttachedState } from './state-dir.ts';
import type { AlarmRules } from './load-rules.ts';

const DAY = 86_400_000;
/** Days read by one scan (then evaluated and committed day by day). */
const SPAN_DAYS = 7;

/** Options of {@link runAlarms}. */
export interface RunAlarmsOptions {
  /** Store root: readings are read from it and alarm rows written to its `events` table. */
  store: string;
  /** Site (default: the store's only site). */
  site?: string;
  /** Range, epoch ms (default: all the site's readings); `to` exclusive. */
  from?: number;
  to?: number;
  /** State dir: continue from (and save) the evaluator's state and apply queued acks/shelves. */
  stateDir?: string;
  /** Write the rows into the store (default true). */
  write?: boolean;
  /**
   * Called with each day's rows after they are written and before the state is saved (e.g. an
   * `AlarmFeed` enqueuing their notifications), so a crash repeats them rather than skips them.
   */
  onRows?: (rows: EventRow[]) => Promise<unknown>;
  /**
   * State of the caller's kept beside the alarm state (one atomic write per committed day): `restore`
   * gets what the last run saved, `save` is asked for it at each commit (`alarms run --notify`
   * keeps its feed's flood windows here under `notify`).
   */
  attach?: { restore(attached: AttachedState): void; save(): AttachedState };
  log?: (line: string) => void;
}

/** What {@link runAlarms} did. */
export interface RunAlarmsResult {
  site: string;
  from: number;
  to: number;
  readings: number;
  /** Readings a rule looked at. */
  evaluated: number;
  rows: EventRow[];
  floods: number;
  late: number;
}

/**
 * Evaluates rules over a store range, one UTC day at a time in (ts, asset, signal) order (read a
 * week at a time, sorted by DuckDB), with the same {@link AlarmEvaluator} the gateway runs on
 * arriving batches, and writes the alarm rows to
 * the store's `events` table after each day (then saves the state, so a crash repeats at most
 * one day, with the same row ids).
 *
 * @example
 * import { loadAlarmRules, runAlarms } from 'millwright';
 * const r = await runAlarms(await loadAlarmRules('rules.yaml'), { store: '.millwright/store', from: Date.parse('2024-01-01') });
 * console.log(r.rows.length, 'alarm rows');
 */
export async function runAlarms(rules: AlarmRules, opts: RunAlarmsOptions): Promise<RunAlarmsResult> {
  let site = opts.site;
  if (site === undefined) {
    const { rows } = await sql('SELECT DISTINCT site FROM readings ORDER BY site', { root: opts.store });
    if (rows.length !== 1) throw new MillwrightError('BAD_INPUT', `the store ${opts.store} has ${rows.length} sites (${rows.map((r) => String(r.site)).join(', ') || 'none'}); name one with --site`);
    site = String(rows[0]!.site);
  }
  let { from, to } = opts;
  if (from === undefined || to === undefined) {
    const { rows } = await sql(`SELECT epoch_ms(min(ts)) AS lo, epoch_ms(max(ts)) AS hi FROM readings WHERE site = '${site.replace(/'/g, "''")}'`, { root: opts.store });
    from ??= Number(rows[0]?.lo ?? 0);
    to ??= Number(rows[0]?.hi ?? 0) + 1;
  }
  if (!(to > from)) throw new MillwrightError('BAD_INPUT', `alarms run: to ${new Date(to).toISOString()} is not after from ${new Date(from).toISOString()}`);
  const session = await AlarmSession.open(rules, { site, stateDir: opts.stateDir });
  opts.attach?.restore(session.attached);
  const out: RunAlarmsResult = { site, from, to, readings: 0, evaluated: 0, rows: [], floods: 0, late: 0 };
  // One time-ordered scan (sorted by DuckDB) per week, evaluated and committed one day at a time:
  // the evaluator gets its batches already in (ts, asset, signal) order and sorts nothing.
  for (let t = from; t < to; ) {
    const end = Math.min(to, (Math.floor(t / DAY) + SPAN_DAYS) * DAY);
    const c = await scanArrays({ root: opts.store, sites: site, from: t, to: end, columns: ['ts', 'asset', 'signal', 'value', 'quality'], order: 'time', codes: true });
    const ts = c.ts!;
    const value = c.value!;
    const quality = c.quality!;
    const { assetCode, signalCode, assets, signals } = c as Required<typeof c>;
    let lo = 0;
    for (let day = t; day < end; ) {
      const dayEnd = Math.min(end, (Math.floor(day / DAY) + 1) * DAY);
      let hi = lo;
      while (hi < ts.length && ts[hi]! < dayEnd) hi++;
      const batch = { ts: ts.subarray(lo, hi), assetCode: assetCode.subarray(lo, hi), signalCode: signalCode.subarray(lo, hi), assets, signals, value: value.subarray(lo, hi), quality: quality.subarray(lo, hi) };
      out.readings += hi - lo;
      const rows = await session.process(batch, opts.log);
      if (rows.length > 0 && opts.write !== false) await writeEvents(opts.store, rows);
      if (rows.length > 0 && opts.onRows) await opts.onRows(rows);
      await session.commit(opts.attach?.save());
      out.rows.push(...rows);
      lo = hi;
      day = dayEnd;
    }
    t = end;
  }
  out.evaluated = session.evaluator.counts.readings;
  out.floods = session.evaluator.counts.floods;
  out.late = session.evaluator.counts.late;
  return out;
}
