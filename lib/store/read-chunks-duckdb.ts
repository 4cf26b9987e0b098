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
 * DuckDB's result buffer for a streaming query. Its default (~1 MB) makes the scan threads wait for
 * JS to fetch every 2,048 rows; 64 MB lets both cores decode ahead (measured: fetch time 1.0 s -> 0.6 s
 * for 10M readings).
 */
const STREAM_BUFFER = '64MB';

/** `ENUM` type literal of distinct strings, so DuckDB hands over small integer codes instead of strings. */
function enumType(values: readonly string[]): string {
  return `ENUM(${values.map(sqlString).join(', ')})`;
}

/**
 * Reads the planned files with DuckDB (multi-threaded native Parquet decoding) and yields the same
 * chunks as the parquet-wasm reader: same rows in the same order (file by file, as stored), same
 * scan-wide dictionaries (ids in order of first appearance). Strings never cross into JS per row:
 * asset/signal come as ENUM codes, site as the file's index in the list; numeric vectors are copied
 * in bulk from DuckDB's memory (`vector_get_data`). Rows are filtered in SQL (exact: ts as integer ms).
 */
export async function* readChunksDuckdb(
  plan: ScanPlan,
  columns: readonly ScanColumn[],
  dicts: ChunkDicts,
  opts: { tsInt64?: boolean; timeOrder?: boolean } = {},
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
  try {
    await conn.run(`SET streaming_buffer_size = '${STREAM_BUFFER}'`);
    // Enum values: the filter's own list when there is one, else the distinct values of the files.
    const needAsset = want.has('asset');
    const needSignal = want.has('signal');
    let assets = filter.assets ? [...filter.assets] : undefined;
    let signals = filter.signals ? [...filter.signals] : undefined;
    if ((needAsset && !assets) || (needSignal && !signals)) {
      const r = await run(paths, () => conn.runAndReadAll(`SELECT list(DISTINCT asset), list(DISTINCT signal) FROM ${source}`));
      const row = r.getRowsJS()[0] as (string | null)[][];
      assets ??= (row[0] ?? []).filter((s): s is string => s !== null);
      signals ??= (row[1] ?? []).filter((s): s is string => s !== null);
    }
    if (timeOrder) {
      // ENUM codes in JavaScript string order, so ordering by the code is ordering by the string
      assets?.sort(codeUnitOrder);
      signals?.sort(codeUnitOrder);
    }
    const select = ['file_index::INTEGER AS f'];
    if (want.has('ts')) select.push('epoch_ms(ts) AS ts');
    if (needAsset) select.push(`enum_code(asset::${enumType(assets!)})::INTEGER AS asset`);
    if (needSignal) select.push(`enum_code(signal::${enumType(signals!)})::INTEGER AS signal`);
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
    // what a stable sort of the file-by-file rows gives. Positions: f is 1, then the selected columns.
    const orderBy = timeOrder
      ? ` ORDER BY ${[want.has('ts') ? 'epoch_ms(ts)' : '', needAsset ? String(select.findIndex((c) => c.endsWith(' AS asset')) + 1) : 'asset', needSignal ? String(select.findIndex((c) => c.endsWith(' AS signal')) + 1) : 'signal', 'file_index', 'file_row_number'].filter(Boolean).join(', ')}`
      : '';
    const query = `SELECT ${select.join(', ')} FROM ${source}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${orderBy}`;
    const result = await run(paths, () => conn.stream(query));

    const assetMap = new Int32Array(assets?.length ?? 0).fill(-1);
    const signalMap = new Int32Array(signals?.length ?? 0).fill(-1);
    // One reused buffer; each chunk is copied out at its exact size (fewer allocations, less GC).
    const b = new Builder(want, opts.tsInt64 ?? false, CHUNK_ROWS);
    let current = -1;
    let site = -1;
    for (;;) {
      const chunk = await run(paths, () => result.fetchChunk());
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      const f = int32s(chunk, 0, n);
      let col = 1;
      const ts = want.has('ts') ? bigints(chunk, col++, n) : undefined;
      const asset = needAsset ? int32s(chunk, col++, n) : undefined;
      const signal = needSignal ? int32s(chunk, col++, n) : undefined;
      const value = want.has('value') ? float64s(chunk, col++, n) : undefined;
      const quality = want.has('quality') ? uint8s(chunk, col++, n) : undefined;
      // A yielded chunk holds the rows of one file in stored order (rows of one DuckDB chunk come
      // from one file in practice; split anyway if they do not), of one site in time order (the
      // rows of that site's files interleave).
      for (let start = 0; start < n; ) {
        const fi = f[start];
        const key = timeOrder ? fileSite[fi] : fi;
        let end = start + 1;
        if (timeOrder) while (end < n && fileSite[f[end]] === key) end++;
        else while (end < n && f[end] === fi) end++;
        if (key !== current || b.length + (end - start) > b.capacity) {
          if (b.length > 0) yield b.take(site);
          current = key;
          site = fileSite[fi];
        }
        const at = b.length;
        const len = end - start;
        if (ts) {
          b.putTs(ts.subarray(start, end), at);
        }
        if (asset) remapInto(b.asset!, at, asset, start, end, assetMap, assets!, dicts.asset);
        if (signal) remapInto(b.signal!, at, signal, start, end, signalMap, signals!, dicts.signal);
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
    if (b.length > 0) yield b.take(site);
  } finally {
    conn.closeSync();
  }
}

/** JavaScript's default string order (UTF-16 code units), as the alarm evaluator compares names. */
function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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

function remapInto(out: Int32Array, at: number, codes: Int32Array, start: number, end: number, map: Int32Array, values: readonly string[], dict: ChunkDicts['asset']): void {
  for (let i = start; i < end; i++) {
    const c = codes[i];
    let id = map[c];
    if (id < 0) id = map[c] = dict.id(values[c]);
    out[at + i - start] = id;
  }
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

  /** The rows gathered so far as a chunk of their own (copied), and an empty builder again. */
  take(siteId: number): Chunk {
    const n = this.length;
    this.length = 0;
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
