import type { DuckDBConnection } from '@duckdb/node-api';
import { EMPTY_READINGS_SQL, readParquetSql } from './duckdb.ts';
import { listFiles } from './list-files.ts';
import { normalFilter } from './filters.ts';

/**
 * Creates the temporary `readings` view on `conn`: every `part-*.parquet` file of the store with
 * Hive partition columns `site` (VARCHAR) and `date` (DATE). Columns: ts (TIMESTAMPTZ), asset,
 * signal, value (DOUBLE), quality (UTINYINT), date, site. Temp files are never included.
 */
export async function createReadingsView(conn: DuckDBConnection, root: string): Promise<number> {
  const { files } = await listFiles(normalFilter({ root }));
  const source = files.length === 0 ? `(${EMPTY_READINGS_SQL})` : readParquetSql(files.map((f) => f.path));
  await conn.run(`CREATE OR REPLACE TEMP VIEW readings AS SELECT * FROM ${source}`);
  return files.length;
}
