import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { direntsIfExists, readdirIfExists } from '../durable/index.ts';
import { isPartFile } from './partition.ts';
import { readParquetSql } from './duckdb.ts';

/** Folder of the `predictions` table inside a store root (beside `readings` and `events`). */
export const PREDICTIONS_DIR = 'predictions';

const EMPTY_PREDICTIONS_SQL =
  'SELECT NULL::TIMESTAMPTZ AS ts, NULL::TIMESTAMPTZ AS slot_ts, NULL::VARCHAR AS asset, NULL::VARCHAR AS "group", NULL::VARCHAR AS model, ' +
  'NULL::VARCHAR AS model_version, NULL::VARCHAR AS output, NULL::DOUBLE AS value, NULL::VARCHAR AS text, NULL::TIMESTAMPTZ AS input_from, ' +
  'NULL::TIMESTAMPTZ AS input_to, NULL::VARCHAR AS id, NULL::DATE AS date, NULL::VARCHAR AS site WHERE false';

/**
 * Creates the temporary `predictions` view (scheduled predictions, `lib/predict`): ts (the target
 * time), slot_ts, asset, group, model, model_version, output, value, text, input_from, input_to, id,
 * date (of the slot), site. Empty, with its columns, when the store has none.
 */
export async function createPredictionsView(conn: DuckDBConnection, root: string): Promise<void> {
  const base = join(resolve(root), PREDICTIONS_DIR);
  const files: string[] = [];
  for (const s of (await direntsIfExists(base)).filter((e) => e.isDirectory() && e.name.startsWith('site=')).map((e) => e.name).sort()) {
    for (const d of (await direntsIfExists(join(base, s))).filter((e) => e.isDirectory() && e.name.startsWith('date=')).map((e) => e.name).sort()) {
      for (const f of (await readdirIfExists(join(base, s, d))).filter(isPartFile).sort()) files.push(join(base, s, d, f));
    }
  }
  await conn.run(`CREATE OR REPLACE TEMP VIEW predictions AS SELECT * FROM ${files.length === 0 ? `(${EMPTY_PREDICTIONS_SQL})` : readParquetSql(files)}`);
}
