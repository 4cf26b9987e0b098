import { join, resolve } from 'node:path';
import * as arrow from 'apache-arrow';
import { mkdirDurable, writeFileAtomic } from '../durable/index.ts';
import { validatePartitionValue } from './partition.ts';
import { encodeParquet } from './parquet.ts';

/** Folder of the asset model inside a store root: one `<site>.parquet` per gateway site. */
export const ASSETS_DIR = 'assets';

/** One asset of the plant's model, flattened with its place in the hierarchy. */
export interface AssetRow {
  asset: string;
  line?: string;
  area?: string;
  site: string;
  type?: string;
  ratedPower?: number;
  runningSpeed?: number;
  machineGroup?: string;
  mounting?: string;
  /** Every attribute as given (including the four above). */
  attributes: Record<string, unknown>;
}

const schema = new arrow.Schema([
  new arrow.Field('asset', new arrow.Utf8(), false),
  new arrow.Field('line', new arrow.Utf8(), true),
  new arrow.Field('area', new arrow.Utf8(), true),
  new arrow.Field('site', new arrow.Utf8(), false),
  new arrow.Field('type', new arrow.Utf8(), true),
  new arrow.Field('rated_power', new arrow.Float64(), true),
  new arrow.Field('running_speed', new arrow.Float64(), true),
  new arrow.Field('machine_group', new arrow.Utf8(), true),
  new arrow.Field('mounting', new arrow.Utf8(), true),
  new arrow.Field('attributes', new arrow.Utf8(), false),
]);

/**
 * Replaces the asset model of one site in the store (`<root>/assets/<site>.parquet`, written
 * atomically), which `millwright sql` shows as the `assets` view, so readings can be grouped by
 * line or area: `SELECT a.line, avg(value) FROM readings r JOIN assets a USING (asset) GROUP BY 1`.
 *
 * @example
 * import { writeAssets } from 'millwright';
 * await writeAssets('.millwright/store', 'plant-a', [{ asset: 'press1', line: 'line1', area: 'pressing', site: 'plant-a', type: 'press', attributes: {} }]);
 */
export async function writeAssets(root: string, site: string, rows: AssetRow[]): Promise<string> {
  validatePartitionValue('site', site);
  const col = <T>(f: (r: AssetRow) => T, type: arrow.DataType) => arrow.vectorFromArray(rows.map(f), type);
  const t = new arrow.Table(schema, {
    asset: col((r) => r.asset, new arrow.Utf8()),
    line: col((r) => r.line ?? null, new arrow.Utf8()),
    area: col((r) => r.area ?? null, new arrow.Utf8()),
    site: col((r) => r.site, new arrow.Utf8()),
    type: col((r) => r.type ?? null, new arrow.Utf8()),
    rated_power: col((r) => r.ratedPower ?? null, new arrow.Float64()),
    running_speed: col((r) => r.runningSpeed ?? null, new arrow.Float64()),
    machine_group: col((r) => r.machineGroup ?? null, new arrow.Utf8()),
    mounting: col((r) => r.mounting ?? null, new arrow.Utf8()),
    attributes: col((r) => JSON.stringify(r.attributes), new arrow.Utf8()),
  } as unknown as Record<string, arrow.Vector>);
  const dir = join(resolve(root), ASSETS_DIR);
  await mkdirDurable(dir);
  const file = join(dir, `${site}.parquet`);
  await writeFileAtomic(file, encodeParquet(t));
  return file;
}
