import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/**
 * The second Parquet reader, DuckDB, for what arrow-rs (parquet-wasm) gets wrong or refuses.
 *
 * INT96 timestamps (Impala, Hive, old Spark) read by DuckDB. arrow-rs (parquet-wasm) turns INT96
 * into nanoseconds in an int64, which wraps silently for times outside 1677-2262 (a
 * `9999-12-31` "end of time" marker comes back as 1816); DuckDB keeps microseconds, which hold
 * every year the store accepts. Only files with INT96 columns pay for this second read.
 */

let instance: Promise<DuckDBInstance> | undefined;

/** Epoch ms (NaN for null) of each named INT96 column, in file row order. */
export async function readInt96Columns(path: string, columns: readonly string[], rows: number): Promise<Map<string, Float64Array>> {
  instance ??= DuckDBInstance.create(':memory:');
  const conn = await (await instance).connect();
  try {
    const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
    const list = columns.map((c) => `epoch_ms(${quote(c)})::DOUBLE`).join(', ');
    const reader = await conn.runAndReadAll(`SELECT file_row_number, ${list} FROM read_parquet('${path.replaceAll("'", "''")}', file_row_number = true) ORDER BY file_row_number`);
    const out = new Map(columns.map((c) => [c, new Float64Array(rows).fill(NaN)]));
    const got = reader.getRows();
    if (got.length !== rows) throw new Error(`DuckDB read ${got.length} rows of INT96 times, the footer says ${rows}`);
    for (const r of got) {
      const i = Number(r[0]);
      columns.forEach((c, k) => {
        const v = r[k + 1];
        if (v !== null) out.get(c)![i] = v as number;
      });
    }
    return out;
  } finally {
    conn.closeSync();
  }
}

/**
 * The file rewritten by DuckDB as plain Parquet (same columns, rows in file order), for a footer
 * arrow-rs refuses but DuckDB reads (see parquet-input.ts).
 */
export async function rewriteWithDuckDb(path: string): Promise<Buffer> {
  instance ??= DuckDBInstance.create(':memory:');
  const conn = await (await instance).connect();
  const dir = await mkdtemp(join(tmpdir(), 'mw-pq-rewrite-'));
  try {
    const out = join(dir, 'rewrite.parquet');
    const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
    await conn.run(`COPY (SELECT * EXCLUDE (file_row_number) FROM read_parquet(${q(path)}, file_row_number = true) ORDER BY file_row_number) TO ${q(out)} (FORMAT parquet)`);
    return await readFile(out);
  } finally {
    conn.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
