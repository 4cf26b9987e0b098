import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

let instance: Promise<DuckDBInstance> | undefined;

/**
 * Runs `fn` on a fresh connection to the process-wide in-memory DuckDB instance (created on first
 * use, session time zone UTC so timestamps print and bucket in UTC). The connection is closed
 * afterwards; temporary views made on it disappear with it.
 */
export async function withConnection<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const conn = await connect();
  try {
    return await fn(conn);
  } finally {
    conn.closeSync();
  }
}

/** A new connection (session time zone UTC) to the process-wide instance; the caller closes it. */
export async function connect(): Promise<DuckDBConnection> {
  instance ??= DuckDBInstance.create(':memory:');
  const conn = await (await instance).connect();
  try {
    await conn.run("SET TimeZone = 'UTC'");
  } catch (err) {
    conn.closeSync();
    throw err;
  }
  return conn;
}

/** A SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** A SQL list literal of strings: `['a', 'b']`. */
export function sqlList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]`;
}

/**
 * `read_parquet` over an explicit list of store files with Hive partition columns typed
 * (site stays VARCHAR even when it looks numeric; date is a DATE).
 */
export function readParquetSql(files: readonly string[]): string {
  return `read_parquet(${sqlList(files)}, hive_partitioning = true, hive_types = {'site': VARCHAR, 'date': DATE})`;
}

/** An empty relation with the `readings` columns, for a store without files. */
export const EMPTY_READINGS_SQL =
  'SELECT NULL::TIMESTAMPTZ AS ts, NULL::VARCHAR AS asset, NULL::VARCHAR AS signal, NULL::DOUBLE AS value, ' +
  'NULL::UTINYINT AS quality, NULL::DATE AS date, NULL::VARCHAR AS site WHERE false';
