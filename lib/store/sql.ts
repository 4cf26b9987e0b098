import { rename, unlink } from 'node:fs/promises';
import { dirname, basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { DuckDBTypeId, type DuckDBConnection, type DuckDBResultReader, type DuckDBValue } from '@duckdb/node-api';
import { MillwrightError } from '../errors/index.ts';
import { withConnection, sqlString } from './duckdb.ts';
import { createReadingsView } from './readings-view.ts';
import { createEventViews } from './events-view.ts';
import { createPredictionsView } from './predictions-view.ts';
import { createMonitoringView } from './monitoring-view.ts';

/** A JS value of a SQL result cell: timestamps are epoch ms, dates `YYYY-MM-DD`, big integers strings. */
export type SqlValue = null | boolean | number | string | Uint8Array | SqlValue[] | { [key: string]: SqlValue };

/** Rows of a SQL result. */
export interface SqlRows {
  columns: string[];
  /** DuckDB type names, e.g. `TIMESTAMP WITH TIME ZONE`, `DOUBLE`, `VARCHAR`. */
  types: string[];
  rows: Record<string, SqlValue>[];
}

/** Output formats of {@link sql}. */
export type SqlFormat = 'rows' | 'table' | 'csv' | 'text' | 'parquet';

/** Options of {@link sql}. */
export interface SqlOptions {
  /** Store root: the query sees its files as the `readings` view. */
  root: string;
  /**
   * `rows` (default): {@link SqlRows}; `table`: an arquero table; `csv`: CSV text (header, RFC 4180
   * quoting, NULL as empty); `text`: aligned text for a terminal; `parquet`: writes the result to
   * `out` (zstd) and resolves to `{file, rows}`.
   */
  format?: SqlFormat;
  /** Output file, required for `parquet`. */
  out?: string;
}

/**
 * Runs SQL (DuckDB dialect) over the store, which appears as the view `readings(ts, asset, signal,
 * value, quality, date, site)` with Hive partitioning (plus the gateway's `events` and `assets` views, `predictions`, and the scheduled monitoring runs' `monitoring`): filters on `site` and `date` skip whole
 * directories, filters on asset/signal/ts skip row groups. The session time zone is UTC.
 *
 * @example
 * const { rows } = await sql("SELECT site, count(*) AS n FROM readings GROUP BY site", { root });
 * const csv = await sql("SELECT * FROM readings WHERE date = '2024-03-01'", { root, format: 'csv' });
 */
export async function sql(query: string, opts: SqlOptions & { format?: 'rows' }): Promise<SqlRows>;
export async function sql(query: string, opts: SqlOptions & { format: 'table' }): Promise<ColumnTable>;
export async function sql(query: string, opts: SqlOptions & { format: 'csv' | 'text' }): Promise<string>;
export async function sql(query: string, opts: SqlOptions & { format: 'parquet'; out: string }): Promise<{ file: string; rows: number }>;
export async function sql(query: string, opts: SqlOptions): Promise<SqlRows | ColumnTable | string | { file: string; rows: number }>;
export async function sql(query: string, opts: SqlOptions): Promise<SqlRows | ColumnTable | string | { file: string; rows: number }> {
  if (typeof query !== 'string' || query.trim() === '') throw new MillwrightError('BAD_INPUT', 'sql: the query is empty (expected a SQL statement over the "readings" view)');
  const format = opts.format ?? 'rows';
  if (!['rows', 'table', 'csv', 'text', 'parquet'].includes(format)) {
    throw new MillwrightError('BAD_INPUT', `sql: unknown format ${JSON.stringify(format)} (expected rows, table, csv, text or parquet)`);
  }
  // A compaction replaces part files (new file first, then the old ones deleted): a query planned
  // on the old list can meet a deleted file. Nothing is lost, so plan again on a fresh listing.
  for (let attempt = 1; ; attempt++) {
    try {
      return await runOnce(query, opts, format);
    } catch (err) {
      if (attempt >= 4 || !isVanishedFile(err)) throw err;
    }
  }
}

function isVanishedFile(err: unknown): boolean {
  return err instanceof MillwrightError && /Cannot open file .*No such file or directory|No files found that match the pattern/.test(err.message);
}

function runOnce(query: string, opts: SqlOptions, format: SqlFormat): Promise<SqlRows | ColumnTable | string | { file: string; rows: number }> {
  return withConnection(async (conn) => {
    await createReadingsView(conn, opts.root);
    await createEventViews(conn, opts.root);
    await createPredictionsView(conn, opts.root);
    await createMonitoringView(conn, opts.root);
    if (format === 'parquet') {
      if (!opts.out) throw new MillwrightError('BAD_INPUT', 'sql: format "parquet" needs an output file (out)');
      const file = resolve(opts.out);
      const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.tmp`);
      try {
        const res = await run(conn, `COPY (${stripSemicolon(query)}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
        const rows = Number(res.getRowsJS()[0]?.[0] ?? 0);
        await rename(tmp, file);
        return { file, rows };
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
    }
    const reader = await run(conn, query);
    if (format === 'csv' || format === 'text') {
      const columns = reader.columnNames();
      const typeIds = reader.columnTypes().map((t) => t.typeId);
      const cells = reader.getRows().map((r) => r.map((v, c) => cellText(v, typeIds[c])));
      return format === 'csv' ? toCsv(columns, cells) : toText(columns, cells, reader.columnTypes().map((t) => isNumericType(t.typeId)));
    }
    const result = toRows(reader);
    if (format === 'rows') return result;
    const data: Record<string, SqlValue[]> = {};
    for (const c of result.columns) data[c] = result.rows.map((r) => r[c]);
    return aq.table(data);
  });
}

async function run(conn: DuckDBConnection, query: string): Promise<DuckDBResultReader> {
  try {
    return await conn.runAndReadAll(query);
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `SQL error: ${(err as Error).message}`, { cause: err });
  }
}

function stripSemicolon(q: string): string {
  return q.trim().replace(/;\s*$/, '');
}

/** Cell as text; UTC timestamps with whole-ms precision print as ISO 8601 (`2024-03-01T20:00:00.000Z`). */
function cellText(v: DuckDBValue, typeId: DuckDBTypeId): string | null {
  if (v === null) return null;
  if ((typeId === DuckDBTypeId.TIMESTAMP_TZ || typeId === DuckDBTypeId.TIMESTAMP) && typeof v === 'object' && 'micros' in v) {
    const micros = (v as { micros: bigint }).micros;
    const ms = Number(micros / 1000n);
    if (micros % 1000n === 0n && Math.abs(ms) < 8.64e15) return new Date(ms).toISOString();
  }
  return String(v);
}

function isNumericType(id: DuckDBTypeId): boolean {
  return [
    DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT, DuckDBTypeId.HUGEINT,
    DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.UHUGEINT,
    DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL,
  ].includes(id);
}

function jsValue(v: unknown, typeId: DuckDBTypeId): SqlValue {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return typeId === DuckDBTypeId.DATE ? v.toISOString().slice(0, 10) : v.getTime();
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map((x) => jsValue(x, DuckDBTypeId.ANY));
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsValue(x, DuckDBTypeId.ANY)]));
  return v as SqlValue;
}

function toRows(reader: DuckDBResultReader): SqlRows {
  const columns = reader.columnNames();
  const typeIds = reader.columnTypes().map((t) => t.typeId);
  const cols = reader.getColumnsJS();
  const n = reader.currentRowCount;
  // Duplicate column names (SELECT a.x, b.x) get a numeric suffix so no value is lost.
  const keys = uniqueKeys(columns);
  const rows: Record<string, SqlValue>[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const row: Record<string, SqlValue> = {};
    for (let c = 0; c < columns.length; c++) row[keys[c]] = jsValue(cols[c][i], typeIds[c]);
    rows[i] = row;
  }
  return { columns: keys, types: reader.columnTypes().map((t) => t.toString()), rows };
}

function uniqueKeys(columns: string[]): string[] {
  const seen = new Map<string, number>();
  return columns.map((c) => {
    const k = seen.get(c) ?? 0;
    seen.set(c, k + 1);
    return k === 0 ? c : `${c}_${k}`;
  });
}

function csvField(v: string | null): string {
  if (v === null) return '';
  return /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replaceAll('"', '""')}"` : v;
}

/** CSV text: header line then one line per row. */
export function toCsv(columns: readonly string[], rows: readonly (string | null)[][]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(r.map(csvField).join(','));
  return `${lines.join('\n')}\n`;
}

/** Aligned text table for a terminal (numbers right-aligned, NULL shown as `NULL`). */
export function toText(columns: readonly string[], rows: readonly (string | null)[][], numeric: readonly boolean[]): string {
  const shown = rows.map((r) => r.map((v) => (v === null ? 'NULL' : v.replace(/[\r\n\t]/g, ' '))));
  const width = columns.map((c, i) => Math.max(c.length, ...shown.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells.map((v, i) => (numeric[i] ? v.padStart(width[i]) : v.padEnd(width[i]))).join('  ').trimEnd();
  const out = [line(columns), width.map((w) => '-'.repeat(w)).join('  '), ...shown.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return `${out.join('\n')}\n`;
}
