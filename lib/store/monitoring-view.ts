import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { direntsIfExists, readdirIfExists } from '../durable/index.ts';
import { isPartFile } from './partition.ts';
import { sqlList } from './duckdb.ts';
import { MONITORING_DIR } from './write-monitoring.ts';

const EMPTY_MONITORING_SQL =
  'SELECT NULL::TIMESTAMPTZ AS ts, NULL::VARCHAR AS model_version, NULL::VARCHAR AS kind, NULL::VARCHAR AS feature, NULL::VARCHAR AS metric, ' +
  'NULL::DOUBLE AS value, NULL::DOUBLE AS threshold, NULL::DOUBLE AS lower, NULL::DOUBLE AS upper, NULL::BOOLEAN AS alert, NULL::INTEGER AS rank, ' +
  'NULL::TIMESTAMPTZ AS from_ts, NULL::TIMESTAMPTZ AS to_ts, NULL::VARCHAR AS detail, NULL::VARCHAR AS run, NULL::DATE AS date, NULL::VARCHAR AS model WHERE false';

/**
 * Creates the temporary `monitoring` view (rows of the scheduled monitoring runs,
 * `writeMonitoring`): ts, model_version, kind, feature, metric, value, threshold, lower, upper,
 * alert, rank, from_ts, to_ts, detail, run, date (of the run), model. Empty, with its columns,
 * when the store has none.
 */
export async function createMonitoringView(conn: DuckDBConnection, root: string): Promise<void> {
  const base = join(resolve(root), MONITORING_DIR);
  const files: string[] = [];
  for (const m of (await direntsIfExists(base)).filter((e) => e.isDirectory() && e.name.startsWith('model=')).map((e) => e.name).sort()) {
    for (const d of (await direntsIfExists(join(base, m))).filter((e) => e.isDirectory() && e.name.startsWith('date=')).map((e) => e.name).sort()) {
      for (const f of (await readdirIfExists(join(base, m, d))).filter(isPartFile).sort()) files.push(join(base, m, d, f));
    }
  }
  const source = files.length === 0 ? `(${EMPTY_MONITORING_SQL})` : `read_parquet(${sqlList(files)}, hive_partitioning = true, hive_types = {'model': VARCHAR, 'date': DATE})`;
  await conn.run(`CREATE OR REPLACE TEMP VIEW monitoring AS SELECT * FROM ${source}`);
}
