import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { extname } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import type { EncodedBatch } from './batch-builder.ts';
import { readCsvEncoded, type ReadOptions } from './csv.ts';
import { readNdjsonEncoded } from './ndjson.ts';

/** Input formats. `auto` picks by file extension, and for stdin by the first character. */
export type ReadingsFormat = 'csv' | 'ndjson' | 'auto';

/** Format implied by a file name (`.csv`, `.ndjson`/`.jsonl`/`.json`, optionally `.gz`), if any. */
export function formatOfPath(path: string): 'csv' | 'ndjson' | undefined {
  const p = path.toLowerCase().replace(/\.gz$/, '');
  const ext = extname(p);
  if (ext === '.csv' || ext === '.txt') return 'csv';
  if (ext === '.ndjson' || ext === '.jsonl' || ext === '.json') return 'ndjson';
  return undefined;
}

/** Opens a file (gunzipping `*.gz`) or, for `-`, the given stdin, as a byte stream. */
export function openInput(path: string, stdin: AsyncIterable<Buffer | Uint8Array | string> = process.stdin): AsyncIterable<Buffer | Uint8Array | string> {
  if (path === '-') return stdin;
  const file = createReadStream(path, { highWaterMark: 1 << 22 });
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
        fmt = text[0] === '{' ? 'ndjson' : 'csv';
        break;
      }
    }
    fmt ??= 'csv';
    input = (async function* () {
      yield* head;
      if (!done) for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })();
  }
  if (fmt === 'csv') yield* readCsvEncoded(input, opts);
  else if (fmt === 'ndjson') yield* readNdjsonEncoded(input, opts);
  else throw new MillwrightError('USAGE', `unknown format ${JSON.stringify(fmt)} (expected csv or ndjson)`);
}
