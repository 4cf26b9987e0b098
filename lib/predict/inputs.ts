import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import type { FeatureSpec } from '../model/index.ts';
import { sql, type SqlValue } from '../store/index.ts';

/** What a slot reads: the window [from, to) of one site. */
export interface InputWindow {
  site: string;
  from: number;
  to: number;
  /** The slot's time: the first target time of a `ts`-featured model. */
  slot: number;
  horizon: number;
  /** Interval of the built features and of the target times. */
  step: number;
}

/** Model input rows with what each row predicts for. */
export interface SlotInputs {
  table: ColumnTable;
  /** Target time of each row (epoch ms). */
  targets: number[];
  /** Asset of each row (undefined for a site-wide query without an `asset` column). */
  assets: (string | undefined)[];
  /** Newest reading time the inputs were built from (epoch ms), for the staleness check. */
  latestInput?: number;
  /** Assets the window had no value for some feature of (no prediction for them). */
  missing: string[];
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * The default feature query: per asset, the mean of each feature signal over `step` buckets of the
 * window (good-quality readings only); a feature is a signal of the same name. The feature named
 * `tsFeature` (the interval start of a time-featured model such as `energy-load-curve`) is not
 * read: it becomes the target time.
 */
export function defaultFeatureQuery(w: InputWindow, features: FeatureSpec[], tsFeature: string | undefined, assets?: string[]): string {
  const signals = features.map((f) => f.name).filter((n) => n !== tsFeature);
  if (signals.length === 0) return '';
  return (
    `SELECT asset, signal, epoch_ms(time_bucket(INTERVAL '${w.step} milliseconds', ts)) AS bucket, avg(value) AS value, epoch_ms(max(ts)) AS last_ts ` +
    `FROM readings WHERE site = ${quote(w.site)} AND ts >= epoch_ms(${w.from}::BIGINT) AND ts < epoch_ms(${w.to}::BIGINT) AND quality = 0 ` +
    `AND signal IN (${signals.map(quote).join(', ')})${assets && assets.length > 0 ? ` AND asset IN (${assets.map(quote).join(', ')})` : ''} ` +
    'GROUP BY asset, signal, bucket ORDER BY asset, signal, bucket'
  );
}

/** Target times of one slot: every `step` from the slot up to the horizon for a time-featured model, else the slot plus the horizon. */
export function targetTimes(w: InputWindow, timeFeatured: boolean): number[] {
  if (!timeFeatured) return [w.slot + w.horizon];
  const out: number[] = [];
  for (let t = w.slot; t < w.slot + w.horizon; t += w.step) out.push(t);
  return out;
}

/**
 * Builds a slot's model input with the default query: each asset's latest bucket mean of every
 * feature signal (the state the plant is in now, held over the horizon), one row per target time,
 * the time feature set to the target time.
 */
export async function buildDefaultInputs(store: string, w: InputWindow, features: FeatureSpec[], tsFeature: string | undefined, assets?: string[]): Promise<SlotInputs> {
  const q = defaultFeatureQuery(w, features, tsFeature, assets);
  const latest = new Map<string, Map<string, { value: number; last: number }>>();
  if (q !== '') {
    for (const r of (await sql(q, { root: store })).rows) {
      const a = String(r.asset);
      const m = latest.get(a) ?? new Map<string, { value: number; last: number }>();
      latest.set(a, m);
      m.set(String(r.signal), { value: Number(r.value), last: Number(r.last_ts) });
    }
  }
  const signals = features.map((f) => f.name).filter((n) => n !== tsFeature);
  const names = signals.length === 0 ? (assets ?? []) : [...(assets ?? latest.keys())];
  const targets = targetTimes(w, tsFeature !== undefined);
  const cols: Record<string, unknown[]> = Object.fromEntries(features.map((f) => [f.name, []]));
  const out: SlotInputs = { table: aq.table({}), targets: [], assets: [], missing: [] };
  for (const a of names.sort()) {
    const m = latest.get(a);
    if (signals.some((s) => !m?.has(s))) {
      out.missing.push(a);
      continue;
    }
    for (const t of targets) {
      for (const f of features) cols[f.name]!.push(f.name === tsFeature ? t : m!.get(f.name)!.value);
      out.targets.push(t);
      out.assets.push(a);
    }
    for (const s of signals) out.latestInput = Math.max(out.latestInput ?? -Infinity, m!.get(s)!.last);
  }
  if (signals.length === 0 && names.length === 0) {
    // A model of time alone (a load curve without drivers): one site-wide series.
    for (const t of targets) {
      cols[tsFeature!]!.push(t);
      out.targets.push(t);
      out.assets.push(undefined);
    }
    out.latestInput = w.to;
  }
  out.table = aq.table(cols);
  return out;
}

/** Placeholders of a configured query: `{site}`, `{from_ms}`, `{to_ms}`, `{from}`, `{to}` (ISO), `{slot_ms}`, `{horizon_ms}`. */
export function fillQuery(query: string, w: InputWindow): string {
  return query
    .replaceAll('{site}', quote(w.site).slice(1, -1))
    .replaceAll('{from_ms}', String(w.from))
    .replaceAll('{to_ms}', String(w.to))
    .replaceAll('{slot_ms}', String(w.slot))
    .replaceAll('{horizon_ms}', String(w.horizon))
    .replaceAll('{from}', new Date(w.from).toISOString())
    .replaceAll('{to}', new Date(w.to).toISOString());
}

const num = (v: SqlValue | undefined): number | undefined => (typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : undefined);

/**
 * Builds a slot's model input with a configured query: its rows are the model input (columns
 * named like the features), with optional `asset`, `target_ts` (default: slot + horizon) and
 * `input_ts` (newest reading behind the row, for the staleness check; default: the window's end).
 */
export async function buildQueryInputs(store: string, w: InputWindow, query: string, features: FeatureSpec[]): Promise<SlotInputs> {
  const res = await sql(fillQuery(query, w), { root: store });
  const missing = features.map((f) => f.name).filter((n) => !res.columns.includes(n));
  if (missing.length > 0) {
    throw new MillwrightError('BAD_INPUT', `prediction query returns no column ${missing.map((m) => `"${m}"`).join(', ')}; the model expects ${features.map((f) => f.name).join(', ')} (query: ${query})`);
  }
  const cols: Record<string, unknown[]> = Object.fromEntries(features.map((f) => [f.name, res.rows.map((r) => r[f.name])]));
  const out: SlotInputs = {
    table: aq.table(cols),
    targets: res.rows.map((r) => num(r.target_ts) ?? w.slot + w.horizon),
    assets: res.rows.map((r) => (r.asset === null || r.asset === undefined ? undefined : String(r.asset))),
    missing: [],
  };
  for (const r of res.rows) out.latestInput = Math.max(out.latestInput ?? -Infinity, num(r.input_ts) ?? w.to);
  return out;
}
