import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { direntsIfExists, readdirIfExists } from '../durable/index.ts';
import { isPartFile } from './partition.ts';
import { readParquetSql, sqlList } from './duckdb.ts';
import { EVENTS_DIR } from './write-events.ts';
import { ASSETS_DIR } from './write-assets.ts';

const EMPTY_EVENTS_SQL =
  'SELECT NULL::TIMESTAMPTZ AS ts, NULL::VARCHAR AS source, NULL::VARCHAR AS kind, NULL::VARCHAR AS asset, NULL::VARCHAR AS signal, ' +
  'NULL::TIMESTAMPTZ AS from_ts, NULL::TIMESTAMPTZ AS to_ts, NULL::VARCHAR AS severity, NULL::VARCHAR AS message, NULL::VARCHAR AS id, ' +
  'NULL::DATE AS date, NULL::VARCHAR AS site WHERE false';

const EMPTY_ASSETS_SQL =
  'SELECT NULL::VARCHAR AS asset, NULL::VARCHAR AS line, NULL::VARCHAR AS area, NULL::VARCHAR AS site, NULL::VARCHAR AS type, ' +
  'NULL::DOUBLE AS rated_power, NULL::DOUBLE AS running_speed, NULL::VARCHAR AS machine_group, NULL::VARCHAR AS mounting, ' +
  'NULL::VARCHAR AS attributes WHERE false';

async function eventFiles(root: string): Promise<string[]> {
  const base = join(resolve(root), EVENTS_DIR);
  const out: string[] = [];
  for (const s of (await direntsIfExists(base)).filter((e) => e.isDirectory() && e.name.startsWith('site=')).map((e) => e.name).sort()) {
    for (const d of (await direntsIfExists(join(base, s))).filter((e) => e.isDirectory() && e.name.startsWith('date=')).map((e) => e.name).sort()) {
      for (const f of (await readdirIfExists(join(base, s, d))).filter(isPartFile).sort()) out.push(join(base, s, d, f));
    }
  }
  return out;
}

/**
 * Creates the temporary `events` view (the gateway's and alarms' event rows: ts, source, kind,
 * asset, signal, from_ts, to_ts, severity, message, id, date, site) and the `assets` view (the
 * plant's asset model as the gateway last wrote it: asset, line, area, site, type, rated_power,
 * running_speed, machine_group, mounting, attributes as JSON text). Both are empty, with their
 * columns, when the store has none.
 */
export async function createEventViews(conn: DuckDBConnection, root: string): Promise<void> {
  const files = await eventFiles(root);
  await conn.run(`CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM ${files.length === 0 ? `(${EMPTY_EVENTS_SQL})` : readParquetSql(files)}`);
  const dir = join(resolve(root), ASSETS_DIR);
  const assets = (await readdirIfExists(dir)).filter((f) => f.endsWith('.parquet') && !f.startsWith('.')).sort().map((f) => join(dir, f));
  await conn.run(`CREATE OR REPLACE TEMP VIEW assets AS SELECT * FROM ${assets.length > 0 ? `read_parquet(${sqlList(assets)})` : `(${EMPTY_ASSETS_SQL})`}`);
}
