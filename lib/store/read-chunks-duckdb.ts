import { existsSync } from 'node:fs';
import duckdb from '@duckdb/node-bindings';
import type { DuckDBDataChunk } from '@duckdb/node-api';
import { connect, sqlList, sqlString } from './duckdb.ts';
import { vanished } from './fd-blob.ts';
import type { ScanPlan } from './plan-scan.ts';
import type { Chunk, ChunkDicts, ScanColumn } from './read-chunks.ts';

/**
 * Max rows per yielded chunk. DuckDB hands over 2,048-row vectors; they are gathered per file into
 * chunks of up to 8 row groups, like the parquet-wasm reader's batches.
 */
const CHUNK_ROWS = 1 << 19;
/**
 * Rows per chunk with `reuse` (the caller copies each chunk at once): a buffer of 13 MB per query
 * for 512k rows was garbage the moment the query ended, and V8 answers that much external memory
 * with full collections (measured: most of `alarms run`'s GC); 32k rows is 0.8 MB.
 */
const REUSE_CHUNK_ROWS = 1 << 15;
/**
 * DuckDB's result buffer for a streaming query. Its default (~1 MB) makes the scan threads wait for
 * JS to fetch every 2,048 rows; 64 MB lets both cores decode ahead (measured: fetch time 1.0 s -> 0.6 s
 * for 10M readings).
 */
const STREAM_BUFFER = '64MB';

/**
 * Reads the planned files with DuckDB (multi-threaded native Parquet decoding) and yields the same
 * chunks as the parquet-wasm reader: same rows in the same order (file by file, as stored), same
 * scan-wide dictionaries (ids in order of first appearance). Strings never cross into JS per row:
 * asset/signal are decoded only where they change (see Names) or come as ENUM codes (see NameCodes), site is the file's index in the list; numeric vectors are copied
 * in bulk from DuckDB's memory (`vector_get_data`). Rows are filtered in SQL (exact: ts as integer ms).
 * With `reuse`, each chunk's arrays are views into one buffer, valid only until the next chunk is
 * asked for (for a caller that copies them at once: no copy per chunk, less garbage).
 */
export async function* readChunksDuckdb(
  plan: ScanPlan,
  columns: readonly ScanColumn[],
  dicts: ChunkDicts,
  opts: { tsInt64?: boolean; reuse?: boolean; timeOrder?: boolean; enumNames?: boolean } = {},
): AsyncGenerator<Chunk> {
  const { filter } = plan;
  const want = new Set(columns);
  const fileSite = plan.files.map((f) => dicts.site.id(f.site));
  if (plan.files.length === 0) return;
  if (filter.assets?.size === 0 || filter.signals?.size === 0) return; // an empty list matches nothing
  const paths = plan.files.map((f) => f.path);
  const timeOrder = opts.timeOrder === true;
  const source = `read_parquet(${sqlList(paths)}${timeOrder ? ', file_row_number = true' : ''})`;
  const conn = await connect();
  // The fetch in flight (see the loop): settled before the connection closes, whether the caller
  // read every chunk, stopped early or a chunk failed, so no native fetch outlives its result
  // and no rejection goes unhandled.
  let next: Promise<DuckDBDataChunk | null> | undefined;
  try {
    await conn.run(`SET streaming_buffer_size = '${STREAM_BUFFER}'`);
    const needAsset = want.has('asset');
    const needSignal = want.has('signal');
    const select = ['file_index::INTEGER AS f'];
    if (want.has('ts')) select.push('epoch_ms(ts) AS ts');
    // Names come either as DuckDB's 16-byte string structs, decoded only where they change (see
    // Names: cheap in stored order for names of up to 12 bytes, which DuckDB inlines), or, in
    // time order and when asked (`enumNames`), cast to an ENUM of the names the scan reads and
    // read as integer codes (see NameCodes): decoding costs ~1 µs a row wherever the name is not
    // the previous row's, which is every row in time order, and every row for longer names, whose
    // bytes DuckDB stores out of line. The ENUM costs one DISTINCT query, a loss on short names.
    const enumNames = timeOrder || opts.enumNames === true;
    if (needAsset) select.push(enumNames ? 'a__' : 'asset');
    if (needSignal) select.push(enumNames ? 's__' : 'signal');
    if (want.has('value')) select.push('value');
    if (want.has('quality')) select.push('quality');
    const where: string[] = [];
    // The timestamp literal lets DuckDB skip row groups; the integer comparison makes the bound exact.
    const inRange = (ms: number) => Math.abs(ms) < 8e15; // to_timestamp's range; the exact bound still applies
    if (filter.from !== undefined) {
      if (inRange(filter.from)) where.push(`ts >= to_timestamp(${Math.floor(filter.from / 1000)})`);
      where.push(`epoch_ms(ts) >= ${filter.from}`);
    }
    if (filter.to !== undefined) {
      if (inRange(filter.to)) where.push(`ts < to_timestamp(${Math.ceil(filter.to / 1000)})`);
      where.push(`epoch_ms(ts) < ${filter.to}`);
    }
    if (filter.assets) where.push(`asset IN (${[...filter.assets].map(sqlString).join(', ')})`);
    if (filter.signals) where.push(`signal IN (${[...filter.signals].map(sqlString).join(', ')})`);
    // Time order: (ts, asset, signal), ties in stored order (file, then row in the file), which is
    // what a stable sort of the file-by-file rows gives. Names sort by DuckDB's binary collation
    // (UTF-8 byte order): JavaScript's string order for every name outside the astral planes.
    const whereSql = where.length ? ` WHERE ${where.join(' AND ')}` : '';
    const cols = [needAsset && 'asset', needSignal && 'signal'].filter((c): c is 'asset' | 'signal' => c !== false);
    const names: { asset?: NameCodes; signal?: NameCodes } = {};
    if (enumNames && cols.length > 0) {
      const found = await run(paths, () => distinctNames(conn, source, whereSql, cols));
      if (found === undefined) return; // no row matches
      for (const [k, column] of cols.entries()) {
        const codes = new NameCodes(found[k]!, dicts[column]);
        names[column] = codes;
        select[select.indexOf(column === 'asset' ? 'a__' : 's__')] = `enum_code(${column}::${codes.type})::INTEGER AS ${column === 'asset' ? 'a__' : 's__'}`;
      }
    }
    // The codes follow DuckDB's own name order, so the sort compares integers instead of strings.
    const orderBy = timeOrder ? ` ORDER BY ${[want.has('ts') ? 'epoch_ms(ts)' : '', needAsset ? 'a__' : 'asset', needSignal ? 's__' : 'signal', 'file_index', 'file_row_number'].filter(Boolean).join(', ')}` : '';
    const query = `SELECT ${select.join(', ')} FROM ${source}${whereSql}${orderBy}`;
    const result = await run(paths, () => conn.stream(query));
    const assetNames = new Names(dicts.asset);
    const signalNames = new Names(dicts.signal);

    // One reused buffer; each chunk is copied out at its exact size, or handed over as views with `reuse` (fewer allocations, less GC).
    const b = new Builder(want, opts.tsInt64 ?? false, opts.reuse ? REUSE_CHUNK_ROWS : CHUNK_ROWS);
    const reuse = opts.reuse ?? false;
    let current = -1;
    let site = -1;
    // One fetch in flight while this chunk is copied: DuckDB hands each 2,048-row vector over
    // through the libuv threadpool, and waiting for each in turn left the JS thread idle for
    // about 0.6 s of a 1.4 s full scan of 10M readings (docs/benchmarks.md, 2026-12-03).
    const fetchNext = () => {
      const p = run(paths, () => result.fetchChunk());
      p.catch(() => undefined); // handled here while the caller holds the previous chunk; `await next` still throws it
      return p;
    };
    next = fetchNext();
    for (;;) {
      const chunk = await next;
      const n = chunk ? chunk.rowCount : 0; // a native call: read once
      if (!chunk || n === 0) break;
      next = fetchNext();
      const f = int32s(chunk, 0, n);
      let col = 1;
      const ts = want.has('ts') ? bigints(chunk, col++, n) : undefined;
      const asset = needAsset && !enumNames ? strings(chunk, col++, n) : undefined;
      const assetCodes = needAsset && enumNames ? int32s(chunk, col++, n) : undefined;
      const signal = needSignal && !enumNames ? strings(chunk, col++, n) : undefined;
      const signalCodes = needSignal && enumNames ? int32s(chunk, col++, n) : undefined;
      assetNames.newChunk();
      signalNames.newChunk();
      const value = want.has('value') ? float64s(chunk, col++, n) : undefined;
      const quality = want.has('quality') ? uint8s(chunk, col++, n) : undefined;
      // A yielded chunk holds the rows of one file in stored order (rows of one DuckDB chunk come
      // from one file in practice; split anyway if they do not), or of one site in time order (the
      // rows of that site's files interleave).
      for (let start = 0; start < n; ) {
        const fi = f[start];
        const key = timeOrder ? fileSite[fi] : fi;
        let end = start + 1;
        if (timeOrder) while (end < n && fileSite[f[end]] === key) end++;
        else while (end < n && f[end] === fi) end++;
        if (key !== current || b.length + (end - start) > b.capacity) {
          if (b.length > 0) yield b.take(site, reuse);
          current = key;
          site = fileSite[fi];
        }
        const at = b.length;
        const len = end - start;
        if (ts) {
          b.putTs(ts.subarray(start, end), at);
        }
        if (asset) assetNames.idsInto(b.asset!, at, asset, start, end);
        else if (assetCodes) names.asset!.idsInto(b.asset!, at, assetCodes, start, end);
        if (signal) signalNames.idsInto(b.signal!, at, signal, start, end);
        else if (signalCodes) names.signal!.idsInto(b.signal!, at, signalCodes, start, end);
        if (value) {
          b.value!.set(value.values.subarray(start, end), at);
          // Nulls (never written by millwright) read as NaN, as with the parquet-wasm reader.
          // (Bits read in JS: a native call per row would cost more than the whole decode.)
          const v = value.validity;
          if (v) for (let i = start; i < end; i++) if (v[i >>> 3] !== 0xff && !(v[i >>> 3] & (1 << (i & 7)))) b.value![at + i - start] = NaN;
        }
        if (quality) b.quality!.set(quality.subarray(start, end), at);
        b.length += len;
        start = end;
      }
    }
    if (b.length > 0) yield b.take(site, reuse);
  } finally {
    await next?.catch(() => undefined);
    conn.closeSync();
  }
}

/**
 * The distinct names of each column in the rows the query reads (one scan for both), each list
 * in UTF-8 byte order: DuckDB's own order for these columns, so ENUM codes sort as the names do.
 * Undefined when no row matches.
 */
async function distinctNames(conn: Awaited<ReturnType<typeof connect>>, source: string, whereSql: string, cols: readonly ('asset' | 'signal')[]): Promise<string[][] | undefined> {
  const rows = (await conn.runAndReadAll(`SELECT DISTINCT ${cols.join(', ')} FROM ${source}${whereSql}`)).getRowsJS();
  if (rows.length === 0) return undefined;
  return cols.map((_, k) => {
    const bytes = [...new Set(rows.map((row) => String(row[k])))].map((name) => Buffer.from(name, 'utf8'));
    return bytes.sort(Buffer.compare).map((b) => b.toString('utf8'));
  });
}

/**
 * ENUM codes to scan-wide ids. An id is given on a code's first row, so ids keep the order of
 * first appearance that the parquet-wasm reader gives.
 */
class NameCodes {
  readonly type: string;
  private readonly ids: Int32Array;
  constructor(
    private readonly names: readonly string[],
    private readonly dict: ChunkDicts['asset'],
  ) {
    this.type = `ENUM(${names.map(sqlString).join(', ')})`;
    this.ids = new Int32Array(names.length).fill(-1);
  }

  idsInto(out: Int32Array, at: number, codes: Int32Array, start: number, end: number): void {
    const ids = this.ids;
    for (let i = start; i < end; i++) {
      const c = codes[i]!;
      let id = ids[c]!;
      if (id < 0) id = ids[c] = this.dict.id(this.names[c]!);
      out[at + i - start] = id;
    }
  }
}

/** A failed DuckDB read because a planned file is gone (a concurrent compact) becomes retryable. */
async function run<T>(paths: readonly string[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const gone = paths.find((p) => !existsSync(p));
    if (gone) throw vanished(gone, err);
    throw err;
  }
}

const utf8 = new TextDecoder();

/**
 * Scan-wide ids of a VARCHAR vector's rows without a JS string per row. DuckDB stores each string
 * as 16 bytes: its length, then either the string itself (up to 12 bytes, "inlined") or a 4-byte
 * prefix and a pointer. Store files are sorted by (asset, signal), so names come in long runs:
 * a row whose 16 bytes equal the previous row's has the previous row's id (equal inlined bytes are
 * equal strings; an equal pointer is the same string while its chunk lives, so pointer matches are
 * only trusted within one chunk). Any other row is decoded and looked up.
 */
class Names {
  private w0 = -1;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;
  private id = -1;
  constructor(private readonly dict: ChunkDicts['asset']) {}

  /** A new chunk: a remembered pointer (non-inlined string) may now point elsewhere. */
  newChunk(): void {
    if (this.w0 > 12) this.w0 = -1;
  }

  idsInto(out: Int32Array, at: number, s: { words: Int32Array; bytes: Uint8Array }, start: number, end: number): void {
    const w = s.words;
    let { w0, w1, w2, w3, id } = this;
    for (let i = start; i < end; i++) {
      const k = 4 * i;
      if (w[k] !== w0 || w[k + 1] !== w1 || w[k + 2] !== w2 || w[k + 3] !== w3) {
        w0 = w[k];
        w1 = w[k + 1];
        w2 = w[k + 2];
        w3 = w[k + 3];
        id = this.dict.id(decodeString(s.bytes, 16 * i, w0));
      }
      out[at + i - start] = id;
    }
    Object.assign(this, { w0, w1, w2, w3, id });
  }
}

function decodeString(bytes: Uint8Array, offset: number, length: number): string {
  if (length <= 12) return utf8.decode(bytes.subarray(offset + 4, offset + 4 + length));
  return utf8.decode(duckdb.get_data_from_pointer(bytes.buffer as ArrayBuffer, bytes.byteOffset + offset + 8, length));
}

function strings(chunk: DuckDBDataChunk, col: number, n: number): { words: Int32Array; bytes: Uint8Array } {
  const d = raw(chunk, col, n * 16);
  return { words: new Int32Array(d.buffer, d.byteOffset, n * 4), bytes: d };
}

function raw(chunk: DuckDBDataChunk, col: number, bytes: number): Uint8Array {
  return duckdb.vector_get_data(duckdb.data_chunk_get_vector(chunk.chunk, col), bytes);
}

function int32s(chunk: DuckDBDataChunk, col: number, n: number): Int32Array {
  const d = raw(chunk, col, n * 4);
  return new Int32Array(d.buffer, d.byteOffset, n);
}

function bigints(chunk: DuckDBDataChunk, col: number, n: number): BigInt64Array {
  const d = raw(chunk, col, n * 8);
  return new BigInt64Array(d.buffer, d.byteOffset, n);
}

function uint8s(chunk: DuckDBDataChunk, col: number, n: number): Uint8Array {
  return raw(chunk, col, n);
}

function float64s(chunk: DuckDBDataChunk, col: number, n: number): { values: Float64Array; validity: Uint8Array | null } {
  const vector = duckdb.data_chunk_get_vector(chunk.chunk, col);
  const d = duckdb.vector_get_data(vector, n * 8);
  const validity = duckdb.vector_get_validity(vector, Math.ceil(n / 64) * 8);
  return { values: new Float64Array(d.buffer, d.byteOffset, n), validity: validity && validity.length > 0 ? validity : null };
}

/** Gathers DuckDB's 2,048-row vectors into larger chunks. */
class Builder {
  length = 0;
  readonly ts?: BigInt64Array;
  readonly tsMs?: Float64Array;
  readonly asset?: Int32Array;
  readonly signal?: Int32Array;
  readonly value?: Float64Array;
  readonly quality?: Uint8Array;
  constructor(
    want: Set<ScanColumn>,
    tsInt64: boolean,
    readonly capacity: number,
  ) {
    if (want.has('ts')) {
      this.tsMs = new Float64Array(capacity);
      if (tsInt64) this.ts = new BigInt64Array(capacity);
    }
    if (want.has('asset')) this.asset = new Int32Array(capacity);
    if (want.has('signal')) this.signal = new Int32Array(capacity);
    if (want.has('value')) this.value = new Float64Array(capacity);
    if (want.has('quality')) this.quality = new Uint8Array(capacity);
  }

  putTs(src: BigInt64Array, at: number): void {
    if (this.ts) this.ts.set(src, at);
    // int64 ms -> double via the two 32-bit words: no BigInt per value.
    const w = new Int32Array(src.buffer, src.byteOffset, src.length * 2);
    const out = this.tsMs!;
    for (let i = 0; i < src.length; i++) out[at + i] = (w[2 * i] >>> 0) + w[2 * i + 1] * 4294967296;
  }

  /** The rows gathered so far as a chunk (copied, or views into the buffer with `reuse`), and an empty builder again. */
  take(siteId: number, reuse: boolean): Chunk {
    const n = this.length;
    this.length = 0;
    if (reuse) {
      return {
        length: n,
        siteId,
        ts: this.ts?.subarray(0, n),
        tsMs: this.tsMs?.subarray(0, n),
        asset: this.asset?.subarray(0, n),
        signal: this.signal?.subarray(0, n),
        value: this.value?.subarray(0, n),
        quality: this.quality?.subarray(0, n),
      };
    }
    return {
      length: n,
      siteId,
      ts: this.ts?.slice(0, n),
      tsMs: this.tsMs?.slice(0, n),
      asset: this.asset?.slice(0, n),
      signal: this.signal?.slice(0, n),
      value: this.value?.slice(0, n),
      quality: this.quality?.slice(0, n),
    };
  }
}
