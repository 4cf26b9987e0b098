import { open, stat } from 'node:fs/promises';
import duckdb from '@duckdb/node-bindings';
import { DuckDBDataChunk } from '@duckdb/node-api';
import { MillwrightError } from '../errors/index.ts';
import { connect, sqlString } from './duckdb.ts';
import { DEFAULT_ROW_GROUP_SIZE, DEFAULT_ZSTD_LEVEL, msToInt64, type FileColumns } from './parquet.ts';

/**
 * The `ARROW:schema` footer entry parquet-wasm (arrow-rs) writes into every store file
 * (`fileSchema` in parquet.ts, IPC-encoded, base64). Files DuckDB encodes carry it too, so
 * arrow-rs readers (scan's parquet-wasm reader, compact) decode them to the same Arrow types: ts
 * as Timestamp(ms, UTC), asset and signal as Dictionary<Int32, Utf8>, quality as Uint8.
 * test/store/duckdb-parquet.test.ts checks it against a file parquet-wasm writes.
 */
export const STORE_ARROW_SCHEMA =
  '/////8gBAAAUAAAAAAAAAAAACgAMAAoACQAEAAoAAAAIAAAAAAEEAOD+//8EAAAABQAAAGABAAD4AAAAlAAAAFwAAAAUAAAAEAAWABAAAAAPAAQAAAAIABAAAAAYAAAAHAAAAAAAAAIYAAAAAAAGAAgABAAGAAAACAAAAAAAAAAHAAAAcXVhbGl0eQAQABYAEAAOAA8ABAAAAAgAEAAAABgAAAAcAAAAAAABAxgAAAAAAAYACAAGAAYAAAAAAAIAAAAAAAUAAAB2YWx1ZQAAALD///88AAAANAAAAAAAAAUQAAAAMAAAAAgAEAAIAAQACAAAAAwAAAABAAAAAAAAAKj///8gAAAAAAAAAQAAAACg////BgAAAHNpZ25hbAAAEAAYABQAAAAPAAQAEAAIABAAAABAAAAANAAAAAAAAAUQAAAANAAAAAgACAAAAAQACAAAAAwAAAAIAAwABAALAAgAAAAgAAAAAAAAAQAAAAAEAAQABAAAAAUAAABhc3NldAAAABAAFAAQAAAADwAEAAAACAAQAAAAHAAAAAwAAAAAAAAKJAAAAAAAAAAIAAwACgAEAAgAAAAIAAAAAAABAAMAAABVVEMAAgAAAHRzAAA=';

const VECTOR = 2048;
let table = 0;

/** An ENUM's index array at DuckDB's width for that many members (uint8 / uint16 / uint32). */
function enumIndex(idx: Int32Array, members: number): Uint8Array | Uint16Array | Uint32Array {
  const out = members <= 255 ? new Uint8Array(idx.length) : members <= 65_535 ? new Uint16Array(idx.length) : new Uint32Array(idx.length);
  out.set(idx);
  return out;
}

/**
 * Encodes one store file with DuckDB's Parquet writer (native, multi-threaded zstd) and writes it
 * to `path` (not fsynced: the caller renames it into place). The columns go into DuckDB as raw
 * vector memory (ts as int64, asset and signal as ENUM indices into their name lists, value,
 * quality), not value by value, and keep their row order. The file has the store's schema:
 * parquet-wasm's types (ts INT64 TIMESTAMP(MILLIS, UTC), asset/signal UTF8 with dictionary
 * pages, value DOUBLE, quality INT32 UINT_8), its `ARROW:schema` footer entry, zstd level 3 and
 * 65,536-row row groups with statistics; DuckDB marks every column OPTIONAL.
 */
export async function encodeParquetDuckdb(path: string, cols: FileColumns): Promise<void> {
  const n = cols.ts.length;
  const name = `mw_encode_${process.pid}_${++table}`;
  const conn = await connect();
  try {
    await conn.run(
      `CREATE TEMP TABLE ${name} (ts BIGINT, asset ENUM(${cols.assets.map(sqlString).join(", ")}), signal ENUM(${cols.signals.map(sqlString).join(", ")}), "value" DOUBLE, quality UTINYINT)`,
    );
    const columns: ArrayBufferView[] = [msToInt64(cols.ts), enumIndex(cols.assetIdx, cols.assets.length), enumIndex(cols.signalIdx, cols.signals.length), cols.value, cols.quality];
    const appender = await conn.createAppender(name);
    try {
      const raw = (appender as unknown as { appender: duckdb.Appender }).appender;
      const types = columns.map((_, i) => duckdb.appender_column_type(raw, i));
      const chunk = new DuckDBDataChunk(duckdb.create_data_chunk(types));
      for (let at = 0; at < n; at += VECTOR) {
        const m = Math.min(VECTOR, n - at);
        columns.forEach((col, i) => {
          const width = (col as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
          duckdb.copy_data_to_vector(duckdb.data_chunk_get_vector(chunk.chunk, i), 0, col.buffer as ArrayBuffer, col.byteOffset + at * width, m * width);
        });
        duckdb.data_chunk_set_size(chunk.chunk, m);
        appender.appendDataChunk(chunk);
        chunk.reset();
      }
      appender.flushSync();
    } finally {
      appender.closeSync();
    }
    await conn.run(
      `COPY (SELECT epoch_ms(ts)::TIMESTAMP_MS AS ts, asset::VARCHAR AS asset, signal::VARCHAR AS signal, "value", quality FROM ${name}) TO ${sqlString(path)} ` +
        `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${DEFAULT_ZSTD_LEVEL}, ROW_GROUP_SIZE ${DEFAULT_ROW_GROUP_SIZE}, KV_METADATA {'ARROW:schema': ${sqlString(STORE_ARROW_SCHEMA)}})`,
    );
  } finally {
    try {
      await conn.run(`DROP TABLE IF EXISTS ${name}`);
    } finally {
      conn.closeSync();
    }
  }
  await markTsUtc(path);
}

/**
 * DuckDB writes TIMESTAMP_MS as `TIMESTAMP(MILLIS, isAdjustedToUTC = false)`; store files say
 * `true` (UTC instants, read back as TIMESTAMPTZ). In the footer's Thrift compact encoding that
 * flag is the type nibble of one field header (2 = false, 1 = true) right before the MILLIS unit,
 * so it is flipped in place: same length, no offset moves. Exactly one match, or the file is refused.
 */
async function markTsUtc(file: string): Promise<void> {
  const size = (await stat(file)).size;
  const fh = await open(file, 'r+');
  try {
    const tail = Buffer.alloc(8);
    await fh.read(tail, 0, 8, size - 8);
    if (tail.toString('latin1', 4) !== 'PAR1') throw new MillwrightError('INTERNAL', `${file}: DuckDB wrote no Parquet footer`);
    const len = tail.readInt32LE(0);
    const footer = Buffer.alloc(len);
    await fh.read(footer, 0, len, size - 8 - len);
    // TimestampType{1: isAdjustedToUTC bool false, 2: unit TimeUnit{1: MILLIS{}}}
    const pattern = Buffer.from([0x12, 0x1c, 0x1c, 0x00, 0x00, 0x00]);
    // The schema is the footer's second field, right after the version: search it only, never the
    // row groups' statistics (binary min/max values) that follow.
    const schema = footer.subarray(0, Math.min(len, 512));
    const at = schema.indexOf(pattern);
    if (at < 0 || schema.indexOf(pattern, at + 1) >= 0) throw new MillwrightError('INTERNAL', `${file}: cannot find the one ts logical type in DuckDB's footer`);
    await fh.write(Buffer.from([0x11]), 0, 1, size - 8 - len + at);
  } finally {
    await fh.close();
  }
}
