import { join, resolve } from 'node:path';
import { access } from 'node:fs/promises';
import * as arrow from 'apache-arrow';
import { MillwrightError } from '../errors/index.ts';
import { writeFileAtomic } from '../durable/index.ts';
import { DAY_MS, dateOfDay, partitionDir, validatePartitionValue } from './partition.ts';
import { encodeParquet } from './parquet.ts';
import { PREDICTIONS_DIR } from './predictions-view.ts';

/** One row of the `predictions` table: one output of one model prediction for one target time. */
export interface PredictionRow {
  /** Target time the prediction is for, epoch ms. */
  ts: number;
  /** The schedule slot that produced it, epoch ms. */
  slot: number;
  site: string;
  asset?: string;
  /** Registry group (or the model dir's name). */
  group: string;
  /** Model name and version from its manifest. */
  model: string;
  modelVersion: string;
  /** Output name: `value` for a scalar prediction, the key of a record prediction (`expected`, `best`). */
  output: string;
  /** Numeric output (null when the output is text). */
  value: number | null;
  /** Text output (a class label). */
  text?: string;
  /** The inputs' time range, epoch ms: [from, to). */
  inputFrom: number;
  inputTo: number;
  id: string;
}

const ts = () => new arrow.TimestampMillisecond('UTC');
const schema = new arrow.Schema([
  new arrow.Field('ts', ts(), false),
  new arrow.Field('slot_ts', ts(), false),
  new arrow.Field('asset', new arrow.Utf8(), true),
  new arrow.Field('group', new arrow.Utf8(), false),
  new arrow.Field('model', new arrow.Utf8(), false),
  new arrow.Field('model_version', new arrow.Utf8(), false),
  new arrow.Field('output', new arrow.Utf8(), false),
  new arrow.Field('value', new arrow.Float64(), true),
  new arrow.Field('text', new arrow.Utf8(), true),
  new arrow.Field('input_from', ts(), false),
  new arrow.Field('input_to', ts(), false),
  new arrow.Field('id', new arrow.Utf8(), false),
]);

/**
 * The one file a slot's predictions go to: `<root>/predictions/site=<site>/date=<slot's UTC
 * date>/part-<slot ms>-<key>.parquet`. The name depends only on the slot and the key, so a slot run
 * again after a crash replaces its own file instead of adding a second one.
 */
export function predictionsFile(root: string, site: string, slot: number, key: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(key)) throw new MillwrightError('BAD_INPUT', `predictions key ${JSON.stringify(key)} must be letters, digits, ".", "_" or "-"`);
  const dir = partitionDir(join(resolve(root), PREDICTIONS_DIR), site, dateOfDay(Math.floor(slot / DAY_MS)));
  return join(dir, `part-${String(slot).padStart(13, '0')}-${key}.parquet`);
}

/** Whether a slot's predictions file exists (the slot ran, even if its ledger mark was lost). */
export async function predictionsFileExists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

/**
 * Writes one slot's prediction rows to {@link predictionsFile} atomically (temp file, fsync, rename,
 * fsync the directory): readers see the whole slot or nothing. Throws BAD_INPUT (writing nothing)
 * for an invalid row.
 *
 * @example
 * import { writePredictions } from 'millwright';
 * await writePredictions('.millwright/store', { site: 'plant-a', slot: Date.UTC(2026, 0, 1, 2), key: 'energy' }, rows);
 */
export async function writePredictions(root: string, at: { site: string; slot: number; key: string }, rows: PredictionRow[]): Promise<{ file: string; rows: number }> {
  validatePartitionValue('site', at.site);
  rows.forEach((r, i) => {
    const bad = (why: string) => new MillwrightError('BAD_INPUT', `prediction ${i}: ${why}`);
    for (const k of ['ts', 'slot', 'inputFrom', 'inputTo'] as const) if (!Number.isFinite(r[k])) throw bad(`${k} ${r[k]} is not epoch milliseconds`);
    for (const k of ['group', 'model', 'modelVersion', 'output', 'id'] as const) if (typeof r[k] !== 'string' || r[k].length === 0) throw bad(`${k} must be a non-empty string`);
    if (r.site !== at.site || r.slot !== at.slot) throw bad(`site/slot ${r.site}/${r.slot} differ from the file's ${at.site}/${at.slot}`);
  });
  const col = <T>(f: (r: PredictionRow) => T, type: arrow.DataType) => arrow.vectorFromArray(rows.map(f), type);
  const table = new arrow.Table(schema, {
    ts: col((r) => Math.round(r.ts), ts()),
    slot_ts: col((r) => Math.round(r.slot), ts()),
    asset: col((r) => r.asset ?? null, new arrow.Utf8()),
    group: col((r) => r.group, new arrow.Utf8()),
    model: col((r) => r.model, new arrow.Utf8()),
    model_version: col((r) => r.modelVersion, new arrow.Utf8()),
    output: col((r) => r.output, new arrow.Utf8()),
    value: col((r) => (r.value === null || !Number.isFinite(r.value) ? null : r.value), new arrow.Float64()),
    text: col((r) => r.text ?? null, new arrow.Utf8()),
    input_from: col((r) => Math.round(r.inputFrom), ts()),
    input_to: col((r) => Math.round(r.inputTo), ts()),
    id: col((r) => r.id, new arrow.Utf8()),
  } as unknown as Record<string, arrow.Vector>);
  const file = predictionsFile(root, at.site, at.slot, at.key);
  await writeFileAtomic(file, encodeParquet(table));
  return { file, rows: rows.length };
}
