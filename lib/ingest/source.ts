import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { extname } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import type { EncodedBatch } from './batch-builder.ts';
import { readCsvEncoded, type ReadOptions } from './csv.ts';
import { readNdjsonEncoded } from './ndjson.ts';
import type { readParquetReadings as ReadParquetReadings } from './parquet-input.ts';
import { readWideCsvEncoded } from './wide-csv.ts';
import { readWideNdjsonEncoded } from './wide-ndjson.ts';

/**
 * Input formats. `csv`, `ndjson` and `parquet` are the long form (one reading per row);
 * `wide-csv`, `wide-ndjson` and `wide-parquet` have one row (object) per time and one column (key)
 * per signal. `auto` picks by file extension (and for stdin by the first character), wide when
 * wide options are given.
 */
export type ReadingsFormat = 'csv' | 'ndjson' | 'parquet' | 'wide-csv' | 'wide-ndjson' | 'wide-parquet' | 'auto';

/** Every accepted {@link ReadingsFormat}. */
export const READINGS_FORMATS: readonly ReadingsFormat[] = ['csv', 'ndjson', 'parquet', 'wide-csv', 'wide-ndjson', 'wide-parquet', 'auto'];

/** Format implied by a file name (`.csv`, `.ndjson`/`.jsonl`/`.json`, optionally `.gz`; `.parquet`), if any. */
export function formatOfPath(path: string): 'csv' | 'ndjson' | 'parquet' | undefined {
  if (path.toLowerCase().endsWith('.parquet')) return 'parquet';
  const p = path.toLowerCase().replace(/\.gz$/, '');
  const ext = extname(p);
  if (ext === '.csv' || ext === '.txt') return 'csv';
  if (ext === '.ndjson' || ext === '.jsonl' || ext === '.json') return 'ndjson';
  return undefined;
}

/**
 * Reads one input (a path, or `-` for stdin) in the given format: Parquet from the file itself
 * (it needs its footer first), everything else as a byte stream.
 */
export function readInput(
  path: string,
  format: ReadingsFormat,
  opts: ReadOptions,
  stdin?: AsyncIterable<Buffer | Uint8Array | string>,
): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  let fmt = format === 'auto' && path !== '-' ? formatOfPath(path) ?? 'auto' : format;
  if (format === 'auto' && opts.wide) fmt = fmt === 'parquet' ? 'wide-parquet' : fmt === 'ndjson' ? 'wide-ndjson' : fmt === 'csv' ? 'wide-csv' : fmt;
  if (fmt === 'parquet' || fmt === 'wide-parquet') {
    if (path === '-') throw new MillwrightError('USAGE', 'Parquet cannot be read from stdin (the footer comes last): pass the file');
    return readParquetLazily(path, fmt === 'parquet' ? 'long' : 'wide', opts);
  }
  return readEncoded(openInput(path, stdin), fmt, opts);
}

/**
 * The Parquet reader, loaded on first use: it brings parquet-wasm, Arrow and DuckDB (INT96), which
 * a CSV or NDJSON ingest (often on a parse worker of its own) never needs in memory.
 */
async function* readParquetLazily(...args: Parameters<typeof ReadParquetReadings>): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  const { readParquetReadings } = await import('./parquet-input.ts');
  yield* readParquetReadings(...args);
}

/** Opens a file (gunzipping `*.gz`) or, for `-`, the given stdin, as a byte stream. */
export function openInput(path: string, stdin: AsyncIterable<Buffer | Uint8Array | string> = process.stdin): AsyncIterable<Buffer | Uint8Array | string> {
  if (path === '-') return stdin;
  // 1 MiB reads: each becomes a decoded string that is garbage once parsed; 4 MiB ones piled up
  // to ~70 MiB more peak RSS in a 10M-reading ingest, and parsed no faster (bench/ingest.bench.ts).
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  return path.toLowerCase().endsWith('.gz') ? file.pipe(createGunzip({ chunkSize: 1 << 20 })) : file;
}

/**
 * Reads readings in the given format; `auto` uses the extension, else the first non-blank
 * character (`{` → NDJSON, anything else → CSV).
 */
export async function* readEncoded(
  stream: AsyncIterable<Buffer | Uint8Array | string>,
  format: ReadingsFormat,
  opts: ReadOptions,
): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  let fmt = format === 'auto' ? formatOfPath(opts.source) : format;
  let input = stream;
  if (fmt === undefined) {
    // Peek at the first chunk(s) and chain them back in front of the rest.
    const it = stream[Symbol.asyncIterator]();
    const head: (Buffer | Uint8Array | string)[] = [];
    let done = false;
    for (;;) {
      const r = await it.next();
      if (r.done) {
        done = true;
        break;
      }
      head.push(r.value);
      const text = Buffer.concat(head.map((h) => (typeof h === 'string' ? Buffer.from(h) : h)))
        .toString('utf8')
        .replace(/^\uFEFF/, '')
        .trimStart();
      if (text.length > 0) {
        fmt = text[0] === '{' ? (opts.wide ? 'wide-ndjson' : 'ndjson') : opts.wide ? 'wide-csv' : 'csv';
        break;
      }
    }
    fmt ??= opts.wide ? 'wide-csv' : 'csv';
    input = (async function* () {
      yield* head;
      if (!done) for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })();
  }
  if (fmt === 'csv') yield* readCsvEncoded(input, opts);
  else if (fmt === 'ndjson') yield* readNdjsonEncoded(input, opts);
  else if (fmt === 'wide-csv') yield* readWideCsvEncoded(input, opts);
  else if (fmt === 'wide-ndjson') yield* readWideNdjsonEncoded(input, opts);
  else throw new MillwrightError('USAGE', `format ${JSON.stringify(fmt)} cannot be read from a stream (expected csv, ndjson, wide-csv or wide-ndjson; Parquet needs a file)`);
}
