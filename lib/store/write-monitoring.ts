import { join, resolve } from 'node:path';
import * as arrow from 'apache-arrow';
import { MillwrightError } from '../errors/index.ts';
import { mkdirDurable, uniqueId, writeFileAtomic } from '../durable/index.ts';
import { DAY_MS, dateOfDay, validatePartitionValue } from './partition.ts';
import { encodeParquet } from './parquet.ts';

/** Folder of the `monitoring` table inside a store root (beside readings, events and predictions). */
export const MONITORING_DIR = 'monitoring';

/** What a monitoring row measures. */
export const MONITORING_KINDS = ['drift', 'violation', 'attribution', 'estimated_performance', 'model_quality'] as const;
/** One of {@link MONITORING_KINDS}. */
export type MonitoringKind = (typeof MONITORING_KINDS)[number];

/**
 * One row of the `monitoring` table: one measured quantity of one scheduled monitoring run.
 *
 * | kind | feature | metric | value | threshold | alert |
 * |---|---|---|---|---|---|
 * | `drift` | the column | the test (ks, wasserstein, psi, ...) | its value (p-value or distance) | the test's threshold | drifted |
 * | `violation` | the column (or label) | the constraint check type | 1 | - | true |
 * | `attribution` | the feature | `rank:<label>` | mean abs attribution | - | the label's nDCG below its threshold |
 * | `attribution` | - | `ndcg:<label>` | nDCG | 0.9 | below it |
 * | `estimated_performance` | - | the metric (mae, accuracy, ...) | the estimate of one chunk (`from`..`to`) | - | outside the reference band |
 * | `model_quality` | - | the metric (mae, rmse, r2, f1, ...) | with ground truth | - | - |
 */
export interface MonitoringRow {
  /** When the run happened (epoch ms). */
  ts: number;
  /** The monitored model (Hive partition `model=`). */
  model: string;
  modelVersion?: string;
  kind: MonitoringKind;
  feature?: string;
  metric: string;
  value: number | null;
  threshold?: number;
  /** The band of an estimate (estimated_performance). */
  lower?: number;
  upper?: number;
  alert: boolean;
  /** Attribution rank (1 = largest) of the feature. */
  rank?: number;
  /** The time chunk a value covers (estimated_performance), epoch ms. */
  from?: number;
  to?: number;
  detail?: string;
  /** The run that wrote the row (every row of one run shares it). */
  run: string;
}

const schema = new arrow.Schema([
  new arrow.Field('ts', new arrow.TimestampMillisecond('UTC'), false),
  new arrow.Field('model_version', new arrow.Utf8(), true),
  new arrow.Field('kind', new arrow.Utf8(), false),
  new arrow.Field('feature', new arrow.Utf8(), true),
  new arrow.Field('metric', new arrow.Utf8(), false),
  new arrow.Field('value', new arrow.Float64(), true),
  new arrow.Field('threshold', new arrow.Float64(), true),
  new arrow.Field('lower', new arrow.Float64(), true),
  new arrow.Field('upper', new arrow.Float64(), true),
  new arrow.Field('alert', new arrow.Bool(), false),
  new arrow.Field('rank', new arrow.Int32(), true),
  new arrow.Field('from_ts', new arrow.TimestampMillisecond('UTC'), true),
  new arrow.Field('to_ts', new arrow.TimestampMillisecond('UTC'), true),
  new arrow.Field('detail', new arrow.Utf8(), true),
  new arrow.Field('run', new arrow.Utf8(), false),
]);

function checkRow(r: MonitoringRow, i: number): void {
  const bad = (why: string) => new MillwrightError('BAD_INPUT', `monitoring row ${i}: ${why}`);
  if (!Number.isFinite(r.ts)) throw bad(`ts ${r.ts} is not epoch milliseconds`);
  if (!MONITORING_KINDS.includes(r.kind)) throw bad(`kind ${JSON.stringify(r.kind)} is not one of ${MONITORING_KINDS.join(', ')}`);
  for (const k of ['metric', 'run'] as const) if (typeof r[k] !== 'string' || r[k].length === 0) throw bad(`${k} must be a non-empty string`);
  if (r.value !== null && typeof r.value !== 'number') throw bad('value must be a number or null');
  validatePartitionValue('site', r.model);
}

const num = (v: number | null | undefined) => (v === undefined || v === null || !Number.isFinite(v) ? null : v);
const ms = (v: number | undefined) => (v === undefined ? null : Math.round(v));

function table(rows: MonitoringRow[]): arrow.Table {
  const cols = {
    ts: arrow.vectorFromArray(rows.map((r) => Math.round(r.ts)), new arrow.TimestampMillisecond('UTC')),
    model_version: arrow.vectorFromArray(rows.map((r) => r.modelVersion ?? null), new arrow.Utf8()),
    kind: arrow.vectorFromArray(rows.map((r) => r.kind), new arrow.Utf8()),
    feature: arrow.vectorFromArray(rows.map((r) => r.feature ?? null), new arrow.Utf8()),
    metric: arrow.vectorFromArray(rows.map((r) => r.metric), new arrow.Utf8()),
    value: arrow.vectorFromArray(rows.map((r) => num(r.value)), new arrow.Float64()),
    threshold: arrow.vectorFromArray(rows.map((r) => num(r.threshold)), new arrow.Float64()),
    lower: arrow.vectorFromArray(rows.map((r) => num(r.lower)), new arrow.Float64()),
    upper: arrow.vectorFromArray(rows.map((r) => num(r.upper)), new arrow.Float64()),
    alert: arrow.vectorFromArray(rows.map((r) => r.alert), new arrow.Bool()),
    rank: arrow.vectorFromArray(rows.map((r) => r.rank ?? null), new arrow.Int32()),
    from_ts: arrow.vectorFromArray(rows.map((r) => ms(r.from)), new arrow.TimestampMillisecond('UTC')),
    to_ts: arrow.vectorFromArray(rows.map((r) => ms(r.to)), new arrow.TimestampMillisecond('UTC')),
    detail: arrow.vectorFromArray(rows.map((r) => r.detail ?? null), new arrow.Utf8()),
    run: arrow.vectorFromArray(rows.map((r) => r.run), new arrow.Utf8()),
  };
  return new arrow.Table(schema, cols as unknown as Record<string, arrow.Vector>);
}

/**
 * Writes monitoring rows into the store's `monitoring` table: one Parquet file per (model, UTC
 * date of the run) under `<root>/monitoring/model=<model>/date=<YYYY-MM-DD>/part-<id>.parquet`,
 * written atomically like the events (temp file, fsync, rename, fsync the directory), so a crash
 * leaves a run's rows whole or absent. `millwright sql` shows them as the `monitoring` view.
 * Throws BAD_INPUT (and writes nothing) when a row is invalid.
 *
 * @example
 * import { writeMonitoring } from 'millwright';
 * await writeMonitoring('.millwright/store', [{ ts: Date.now(), model: 'press-energy', kind: 'drift',
 *   feature: 'load', metric: 'wasserstein', value: 0.04, threshold: 0.1, alert: false, run: 'r1' }]);
 */
export async function writeMonitoring(root: string, rows: MonitoringRow[]): Promise<{ files: string[]; rows: number }> {
  rows.forEach(checkRow);
  const groups = new Map<string, MonitoringRow[]>();
  for (const r of rows) {
    const key = `${r.model}\u0000${dateOfDay(Math.floor(Math.round(r.ts) / DAY_MS))}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  const base = join(resolve(root), MONITORING_DIR);
  const files: string[] = [];
  for (const [key, g] of groups) {
    const [model, date] = key.split('\u0000') as [string, string];
    const dir = join(base, `model=${model}`, `date=${validatePartitionValue('date', date)}`);
    await mkdirDurable(dir);
    const file = join(dir, `part-${uniqueId()}.parquet`);
    await writeFileAtomic(file, encodeParquet(table(g)));
    files.push(file);
  }
  return { files, rows: rows.length };
}
