import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import * as arrow from 'apache-arrow';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import * as pw from 'parquet-wasm/node';
import { MillwrightError } from '../lib/errors/index.ts';
import type { ReadingBatch } from '../lib/readings/index.ts';

/** Output formats of `millwright datasets load`. */
export type TableFormat = 'csv' | 'ndjson' | 'parquet';

/** The format implied by a file name (`.csv`, `.ndjson`/`.jsonl`, `.parquet`). */
export function formatOf(path: string): TableFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.parquet') return 'parquet';
  throw new MillwrightError('BAD_INPUT', `output file ${path}: unknown extension "${ext}" (expected .csv, .ndjson or .parquet)`);
}

/** Long-form readings as an arquero table (ts, site, asset, signal, value). */
export function readingsTable(batch: ReadingBatch): ColumnTable {
  return aq.table({ ts: batch.ts, site: batch.site, asset: batch.asset, signal: batch.signal, value: batch.value });
}

// Whole-millisecond ts columns are written as ISO 8601 UTC (what ingest and people read);
// sub-millisecond ones (raw IMS) stay epoch-ms numbers so no two samples collapse.
function isoTs(table: ColumnTable): boolean {
  if (!table.columnNames().includes('ts')) return false;
  const ts = table.array('ts') as ArrayLike<number>;
  for (let i = 0; i < ts.length; i++) if (!Number.isInteger(ts[i])) return false;
  return true;
}

/** CSV text: header, `ts` as ISO 8601 UTC when whole milliseconds, NaN as an empty field. */
export function tableToCsv(table: ColumnTable): string {
  const iso = isoTs(table);
  return aq.toCSV(table, {
    format: Object.fromEntries(
      table.columnNames().map((c) => [c, c === 'ts' && iso ? (v: number) => new Date(v).toISOString() : (v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? '' : v)]),
    ),
  }) + '\n';
}

/** NDJSON text: one object per row, `ts` as in {@link tableToCsv}, NaN as null. */
export function tableToNdjson(table: ColumnTable): string {
  const iso = isoTs(table);
  const names = table.columnNames();
  const cols = names.map((c) => table.array(c) as ArrayLike<unknown>);
  const lines: string[] = [];
  for (let i = 0; i < table.numRows(); i++) {
    const row: Record<string, unknown> = {};
    names.forEach((c, j) => {
      const v = cols[j]![i];
      row[c] = c === 'ts' && iso ? new Date(v as number).toISOString() : typeof v === 'number' && Number.isNaN(v) ? null : v;
    });
    lines.push(JSON.stringify(row));
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** Parquet bytes (zstd): `ts` as TIMESTAMP(MILLIS, UTC) when whole ms, numbers float64, strings utf8. */
export function tableToParquet(table: ColumnTable): Uint8Array {
  const iso = isoTs(table);
  const vectors: Record<string, arrow.Vector> = {};
  for (const c of table.columnNames()) {
    const values = table.array(c) as ArrayLike<unknown>;
    if (c === 'ts' && iso) {
      const ms = values as ArrayLike<number>;
      const data = BigInt64Array.from({ length: ms.length }, (_, i) => BigInt(ms[i]!));
      vectors[c] = arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMillisecond('UTC'), length: ms.length, data }));
    } else if (typeof values[0] === 'string') {
      vectors[c] = arrow.vectorFromArray(Array.from(values as ArrayLike<string>), new arrow.Utf8());
    } else {
      vectors[c] = arrow.makeVector(Float64Array.from(values as ArrayLike<number>));
    }
  }
  const ipc = arrow.tableToIPC(new arrow.Table(vectors), 'stream');
  const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.ZSTD).build();
  return pw.writeParquet(pw.Table.fromIPCStream(ipc), props);
}

/**
 * Writes a table to `path` in the format its extension names.
 *
 * @example
 * await writeTable(loadSteel(), 'steel.parquet');
 */
export async function writeTable(table: ColumnTable, path: string): Promise<void> {
  const format = formatOf(path);
  const body = format === 'csv' ? tableToCsv(table) : format === 'ndjson' ? tableToNdjson(table) : tableToParquet(table);
  await writeFile(path, body);
}
