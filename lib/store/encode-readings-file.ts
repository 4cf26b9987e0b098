import * as arrow from 'apache-arrow';
import { compress as zstdCompress } from '@bokuweb/zstd-wasm';
import { CODEC, ENCODING, PHYSICAL } from './parquet-footer.ts';
import { ByteSink, bitWidth, encodeDeltaBinaryPacked, encodeRleHybrid } from './parquet-page-encoders.ts';
import { DEFAULT_ROW_GROUP_SIZE, fileSchema, type FileColumns, type ParquetWriteOptions } from './parquet.ts';
import { TTYPE, ThriftWriter } from './thrift-compact.ts';

/**
 * The store's own Parquet writer for readings files: the layout parquet-wasm wrote for
 * {@link fileSchema} (and that DuckDB, arrow-rs, Spark and the store's page reader all read),
 * encoded straight from the sorted columns, with no Arrow IPC round trip and no WebAssembly
 * other than zstd. Per row group and column: ts one DELTA_BINARY_PACKED data page; asset,
 * signal and quality a PLAIN dictionary page (the names the row group uses, in first-use
 * order) and an RLE_DICTIONARY data page; value (OPTIONAL, never null here) PLAIN doubles
 * behind one run of definition levels. Chunk statistics (min/max, null count 0) on every
 * column, which the scan planner prunes row groups by; `ARROW:schema` in the footer, so
 * arrow-rs reads asset and signal back as dictionaries and ts in UTC.
 *
 * Why not parquet-wasm: encoding a 10M-reading ingest through it took longer than parsing the
 * CSV (Arrow IPC out, into WebAssembly, and back), which made it the slower half of `ingest`.
 */

/** zstd level of page bodies: 1, what parquet-wasm's writer used (`ZstdLevel::default()`). */
const ZSTD_LEVEL = 1;

const PAGE = { DATA: 0, DICTIONARY: 2 } as const;
const REQUIRED = 0;
const OPTIONAL = 1;
const CONVERTED = { UTF8: 0, TIMESTAMP_MILLIS: 9, UINT_8: 11 } as const;

const utf8 = new TextEncoder();

/** The footer's `ARROW:schema`: base64 of the IPC schema message arrow-rs looks for. */
let arrowSchema: string | undefined;
function arrowSchemaBase64(): string {
  if (arrowSchema === undefined) {
    const stream = arrow.tableToIPC(new arrow.Table(fileSchema), 'stream');
    // continuation marker, metadata length, flatbuffer (padded to 8): the first message
    const len = new DataView(stream.buffer, stream.byteOffset + 4, 4).getInt32(0, true);
    arrowSchema = Buffer.from(stream.subarray(0, 8 + len)).toString('base64');
  }
  return arrowSchema;
}

/** One column chunk as written: where its pages are and what the footer says of it. */
interface ChunkMeta {
  type: number;
  encodings: number[];
  name: string;
  values: number;
  uncompressed: number;
  compressed: number;
  dataOffset: number;
  dictOffset?: number;
  min?: Uint8Array;
  max?: Uint8Array;
}

/** Bytes of the file being written, with the page header writer. */
class FileSink extends ByteSink {
  private readonly header = new ThriftWriter();

  /** Writes one page (header, then its body zstd-compressed); returns its size on disk and raw. */
  page(type: number, raw: Uint8Array, head: (w: ThriftWriter) => void): { compressed: number; uncompressed: number } {
    const body = zstdCompress(raw, ZSTD_LEVEL);
    const w = this.header.reset();
    w.i32(1, type).i32(2, raw.length).i32(3, body.length);
    head(w);
    const h = w.finish();
    this.bytes(h);
    this.bytes(body);
    return { compressed: h.length + body.length, uncompressed: h.length + raw.length };
  }
}

function dataPage(sink: FileSink, raw: Uint8Array, values: number, encoding: number): { compressed: number; uncompressed: number } {
  return sink.page(PAGE.DATA, raw, (w) => w.struct(5).i32(1, values).i32(2, encoding).i32(3, ENCODING.RLE).i32(4, ENCODING.RLE).end());
}

function dictPage(sink: FileSink, raw: Uint8Array, values: number): { compressed: number; uncompressed: number } {
  return sink.page(PAGE.DICTIONARY, raw, (w) => w.struct(7).i32(1, values).i32(2, ENCODING.PLAIN).end());
}

function int64Bytes(v: number): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  const hi = Math.floor(v / 4294967296);
  dv.setUint32(0, v - hi * 4294967296, true);
  dv.setInt32(4, hi, true);
  return out;
}

function int32Bytes(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, v, true);
  return out;
}

function doubleBytes(v: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, v, true);
  return out;
}

/** Unsigned lexicographic byte order (Parquet's order for UTF-8 strings). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * The ids a row group uses, renumbered in first-use order (a dictionary page's order): writes
 * the local index of each row into `local` and returns the global ids in that order.
 */
function localDictionary(ids: ArrayLike<number>, lo: number, hi: number, map: Int32Array, local: Int32Array): number[] {
  const order: number[] = [];
  let last = -1;
  let lastLocal = -1;
  for (let i = lo; i < hi; i++) {
    const id = ids[i]!;
    if (id !== last) {
      let l = map[id]!;
      if (l < 0) {
        l = order.length;
        map[id] = l;
        order.push(id);
      }
      last = id;
      lastLocal = l;
    }
    local[i - lo] = lastLocal;
  }
  for (const id of order) map[id] = -1;
  return order;
}

/** A dictionary-encoded column chunk: dictionary page, then one RLE_DICTIONARY data page. */
function dictChunk(sink: FileSink, scratch: ByteSink, local: Int32Array, rows: number, dictRaw: Uint8Array, dictSize: number): Pick<ChunkMeta, 'dictOffset' | 'dataOffset' | 'compressed' | 'uncompressed'> {
  const dictOffset = sink.len;
  const d = dictPage(sink, dictRaw, dictSize);
  const dataOffset = sink.len;
  const width = Math.max(1, bitWidth(dictSize - 1));
  scratch.len = 0;
  scratch.byte(width);
  encodeRleHybrid(scratch, local, 0, rows, width);
  const p = dataPage(sink, scratch.view(), rows, ENCODING.RLE_DICTIONARY);
  return { dictOffset, dataOffset, compressed: d.compressed + p.compressed, uncompressed: d.uncompressed + p.uncompressed };
}

/** ts: one DELTA_BINARY_PACKED page; min and max from a pass (each series starts over). */
function tsChunk(sink: FileSink, scratch: ByteSink, ts: Float64Array, lo: number, hi: number): ChunkMeta {
  let min = Infinity;
  let max = -Infinity;
  for (let i = lo; i < hi; i++) {
    const t = ts[i]!;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  scratch.len = 0;
  encodeDeltaBinaryPacked(scratch, ts, lo, hi);
  const dataOffset = sink.len;
  const page = dataPage(sink, scratch.view(), hi - lo, ENCODING.DELTA_BINARY_PACKED);
  return { type: PHYSICAL.INT64, encodings: [ENCODING.RLE, ENCODING.DELTA_BINARY_PACKED], name: 'ts', values: hi - lo, ...page, dataOffset, min: int64Bytes(min), max: int64Bytes(max) };
}

/** value: OPTIONAL (as parquet-wasm declared it) with every row defined, so one RLE run of 1s, then PLAIN doubles. */
function valueChunk(sink: FileSink, scratch: ByteSink, value: Float64Array, lo: number, hi: number): ChunkMeta {
  const rows = hi - lo;
  let min = Infinity;
  let max = -Infinity;
  for (let i = lo; i < hi; i++) {
    const v = value[i]!;
    if (v < min) min = v; // NaN never compares: left out of the statistics, as arrow-rs does
    if (v > max) max = v;
  }
  const levels = new ByteSink(16);
  levels.varint(rows * 2);
  levels.byte(1);
  scratch.len = 0;
  scratch.u32(levels.len);
  scratch.bytes(levels.view());
  scratch.bytes(new Uint8Array(value.buffer, value.byteOffset + lo * 8, rows * 8));
  const dataOffset = sink.len;
  const page = dataPage(sink, scratch.view(), rows, ENCODING.PLAIN);
  const finite = min <= max;
  // Parquet's rule for signed zeros in statistics: a min of 0 is written -0, a max of 0 as +0.
  return {
    type: PHYSICAL.DOUBLE,
    encodings: [ENCODING.PLAIN, ENCODING.RLE],
    name: 'value',
    values: rows,
    ...page,
    dataOffset,
    min: finite ? doubleBytes(min === 0 ? -0 : min) : undefined,
    max: finite ? doubleBytes(max === 0 ? 0 : max) : undefined,
  };
}

/**
 * Encodes one readings file from sorted, validated columns (see `writeChunks`). Rows go in
 * row groups of `opts.rowGroupSize` (default {@link DEFAULT_ROW_GROUP_SIZE}); `opts.metadata`
 * joins `ARROW:schema` in the footer. zstd must be loaded (`loadZstd`).
 *
 * @example
 * import { encodeReadingsFile, loadZstd } from './index.ts';
 * await loadZstd();
 * const bytes = encodeReadingsFile({ ts: Float64Array.of(1709251200000), assetIdx: Int32Array.of(0), assets: ['m3'],
 *   signalIdx: Int32Array.of(0), signals: ['temp'], value: Float64Array.of(41.5), quality: Uint8Array.of(0) });
 */
export function encodeReadingsFile(cols: FileColumns, opts: ParquetWriteOptions = {}): Uint8Array {
  const n = cols.ts.length;
  const groupSize = opts.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE;
  const sink = new FileSink(Math.min(64 << 20, 16 * n + 4096));
  sink.bytes(utf8.encode('PAR1'));
  const scratch = new ByteSink(1 << 16);
  const assetBytes = cols.assets.map((s) => utf8.encode(s));
  const signalBytes = cols.signals.map((s) => utf8.encode(s));
  const assetMap = new Int32Array(cols.assets.length).fill(-1);
  const signalMap = new Int32Array(cols.signals.length).fill(-1);
  const qualityMap = new Int32Array(256).fill(-1);
  const local = new Int32Array(Math.min(groupSize, n));
  const rowGroups: { rows: number; offset: number; chunks: ChunkMeta[] }[] = [];

  const namesChunk = (name: 'asset' | 'signal', ids: Int32Array, lo: number, hi: number, bytes: Uint8Array[], map: Int32Array): ChunkMeta => {
    const order = localDictionary(ids, lo, hi, map, local);
    scratch.len = 0;
    let min = bytes[order[0]!]!;
    let max = min;
    for (const id of order) {
      const b = bytes[id]!;
      scratch.u32(b.length);
      scratch.bytes(b);
      if (compareBytes(b, min) < 0) min = b;
      if (compareBytes(b, max) > 0) max = b;
    }
    const dictRaw = scratch.view().slice();
    const at = dictChunk(sink, scratch, local, hi - lo, dictRaw, order.length);
    return { type: PHYSICAL.BYTE_ARRAY, encodings: [ENCODING.PLAIN, ENCODING.RLE, ENCODING.RLE_DICTIONARY], name, values: hi - lo, ...at, min, max };
  };

  for (let lo = 0; lo < n; lo += groupSize) {
    const hi = Math.min(n, lo + groupSize);
    const rows = hi - lo;
    const offset = sink.len;
    const chunks: ChunkMeta[] = [];

    chunks.push(tsChunk(sink, scratch, cols.ts, lo, hi));
    chunks.push(namesChunk('asset', cols.assetIdx, lo, hi, assetBytes, assetMap));
    chunks.push(namesChunk('signal', cols.signalIdx, lo, hi, signalBytes, signalMap));
    chunks.push(valueChunk(sink, scratch, cols.value, lo, hi));
    const qOrder = localDictionary(cols.quality, lo, hi, qualityMap, local);
    scratch.len = 0;
    for (const q of qOrder) scratch.u32(q);
    const qRaw = scratch.view().slice();
    const q = dictChunk(sink, scratch, local, rows, qRaw, qOrder.length);
    const qMin = Math.min(...qOrder);
    const qMax = Math.max(...qOrder);
    chunks.push({ type: PHYSICAL.INT32, encodings: [ENCODING.PLAIN, ENCODING.RLE, ENCODING.RLE_DICTIONARY], name: 'quality', values: rows, ...q, min: int32Bytes(qMin), max: int32Bytes(qMax) });
    rowGroups.push({ rows, offset, chunks });
  }

  const footer = footerBytes(n, rowGroups, opts.metadata);
  sink.bytes(footer);
  sink.u32(footer.length);
  sink.bytes(utf8.encode('PAR1'));
  return sink.view();
}

/** FileMetaData (parquet.thrift) of the file: schema, row groups, key-value metadata. */
function footerBytes(rows: number, rowGroups: { rows: number; offset: number; chunks: ChunkMeta[] }[], metadata: Record<string, string> | undefined): Uint8Array {
  const w = new ThriftWriter();
  w.i32(1, 1);
  w.list(2, TTYPE.STRUCT, 6);
  w.element().binary(4, 'arrow_schema').i32(5, 5).end();
  w.element()
    .i32(1, PHYSICAL.INT64)
    .i32(3, REQUIRED)
    .binary(4, 'ts')
    .i32(6, CONVERTED.TIMESTAMP_MILLIS)
    .struct(10)
    .struct(8)
    .bool(1, true)
    .struct(2)
    .struct(1)
    .end()
    .end()
    .end()
    .end()
    .end();
  for (const name of ['asset', 'signal']) {
    w.element().i32(1, PHYSICAL.BYTE_ARRAY).i32(3, REQUIRED).binary(4, name).i32(6, CONVERTED.UTF8).struct(10).struct(1).end().end().end();
  }
  w.element().i32(1, PHYSICAL.DOUBLE).i32(3, OPTIONAL).binary(4, 'value').end();
  w.element().i32(1, PHYSICAL.INT32).i32(3, REQUIRED).binary(4, 'quality').i32(6, CONVERTED.UINT_8).struct(10).struct(10).i8(1, 8).bool(2, false).end().end().end();
  w.i64(3, rows);
  w.list(4, TTYPE.STRUCT, rowGroups.length);
  rowGroups.forEach((rg, ordinal) => {
    w.element();
    w.list(1, TTYPE.STRUCT, rg.chunks.length);
    let raw = 0;
    let disk = 0;
    for (const c of rg.chunks) {
      raw += c.uncompressed;
      disk += c.compressed;
      w.element().i64(2, c.dictOffset ?? c.dataOffset).struct(3);
      w.i32(1, c.type).listI32(2, c.encodings).listBinary(3, [c.name]).i32(4, CODEC.ZSTD);
      w.i64(5, c.values).i64(6, c.uncompressed).i64(7, c.compressed).i64(9, c.dataOffset);
      if (c.dictOffset !== undefined) w.i64(11, c.dictOffset);
      w.struct(12).i64(3, 0);
      if (c.max && c.min) w.binary(5, c.max).binary(6, c.min);
      w.end();
      w.end().end();
    }
    w.i64(2, raw).i64(3, rg.rows).i64(5, rg.offset).i64(6, disk).i16(7, ordinal);
    w.end();
  });
  const kv: [string, string][] = [['ARROW:schema', arrowSchemaBase64()], ...Object.entries(metadata ?? {})];
  w.list(5, TTYPE.STRUCT, kv.length);
  for (const [k, v] of kv) w.element().binary(1, k).binary(2, v).end();
  w.binary(6, 'millwright');
  w.list(7, TTYPE.STRUCT, 5);
  for (let i = 0; i < 5; i++) w.element().struct(1).end().end();
  return w.finish().slice();
}
