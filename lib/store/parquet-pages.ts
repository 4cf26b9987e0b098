import { decompress as zstdDecompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import { CODEC, ENCODING, type ColumnChunkInfo } from './parquet-footer.ts';
import { num, sub, ThriftReader, type ThriftStruct } from './thrift-compact.ts';

/**
 * Decodes the pages of one column chunk of a store file (see parquet-footer.ts for the files it
 * is given) straight into typed arrays: no Arrow, no per-row objects, and names as indices into
 * the chunk's dictionary rather than strings. Page types DATA_PAGE, DATA_PAGE_V2 and
 * DICTIONARY_PAGE; values PLAIN, dictionary (RLE/bit-packed indices), DELTA_BINARY_PACKED (ts)
 * or BYTE_STREAM_SPLIT (value).
 */

/** How a column is decoded: `ms` INT64 -> float64, `double`, `u8` INT32 -> uint8, `names` BYTE_ARRAY -> local indices. */
export type ChunkKind = 'ms' | 'double' | 'u8' | 'names';

let ready: Promise<void> | undefined;

/** Loads the zstd decoder (WebAssembly, compiled once per thread). */
export function loadZstd(): Promise<void> {
  ready ??= zstdInit();
  return ready;
}

const utf8 = new TextDecoder();

/** A column chunk's rows, decoded. `names`: indices into `dictionary`. */
export interface DecodedChunk {
  /** For `names`: the strings the indices point at. */
  dictionary?: string[];
}

/** One data page, inflated: its values start at `data[dp]`; `defs` are its definition levels (OPTIONAL columns). */
interface DataPage {
  count: number;
  encoding: number;
  data: Uint8Array;
  dp: number;
  defs?: Uint8Array;
}

/** A page of a column chunk: a dictionary page's values, a data page, or nothing (index pages). */
type Page = { dictionary: Float64Array | Int32Array | string[] } | DataPage | undefined;

/** The page whose header starts at `pos`, and where the next one starts. */
function readPage(file: Uint8Array, pos: number, end: number, info: ColumnChunkInfo, kind: ChunkKind): { page: Page; next: number } {
  const r = new ThriftReader(file, pos);
  const header = r.struct();
  const type = num(header, 1);
  const rawSize = num(header, 2)!;
  const size = num(header, 3)!;
  if (r.pos + size > end) throw new RangeError(`page at byte ${r.pos} runs past its column chunk`);
  const bytes = file.subarray(r.pos, r.pos + size);
  const next = r.pos + size;
  if (type === 2) return { page: { dictionary: plainValues(inflate(bytes, info.codec, rawSize), 0, num(sub(header, 7)!, 1)!, kind) }, next };
  if (type === 0) {
    const dh = sub(header, 5)!;
    const count = num(dh, 1)!;
    const data = inflate(bytes, info.codec, rawSize);
    if (!info.optional) return { page: { count, encoding: num(dh, 2)!, data, dp: 0 }, next };
    const len = u32(data, 0);
    const defs = new Uint8Array(count);
    rle(data, 4, 4 + len, 1, count, defs, 0);
    return { page: { count, encoding: num(dh, 2)!, data, dp: 4 + len, defs }, next };
  }
  if (type !== 3) return { page: undefined, next };
  // v2: levels first, never compressed; then the values, compressed unless the header says not
  const dh = sub(header, 8)!;
  const count = num(dh, 1)!;
  const defLen = num(dh, 5) ?? 0;
  if ((num(dh, 6) ?? 0) !== 0) throw new RangeError('repetition levels in a flat column');
  let defs: Uint8Array | undefined;
  if (info.optional) {
    defs = new Uint8Array(count);
    rle(bytes, 0, defLen, 1, count, defs, 0);
  }
  const values = bytes.subarray(defLen);
  const data = (dh as ThriftStruct).get(7) !== false ? inflate(values, info.codec, rawSize - defLen) : values;
  return { page: { count, encoding: num(dh, 4)!, data, dp: 0, defs }, next };
}

/**
 * Decodes `rows` rows of a column chunk into `out` (Float64Array for ms/double, Uint8Array for
 * u8, Int32Array of dictionary indices for names). Value nulls become NaN; a null anywhere else
 * is an error (the footer check rules them out). Call {@link loadZstd} first.
 */
export function decodeColumnChunk(file: Uint8Array, info: ColumnChunkInfo, kind: ChunkKind, rows: number, out: Float64Array | Uint8Array | Int32Array): DecodedChunk {
  let pos = info.offset;
  const end = info.offset + info.size;
  let at = 0;
  let dictionary: Float64Array | Int32Array | string[] | undefined;
  // names without a dictionary page (PLAIN data pages): a dictionary built as they come
  let plainNames: PlainNames | undefined;
  while (pos < end && at < rows) {
    const { page, next } = readPage(file, pos, end, info, kind);
    pos = next;
    if (page === undefined) continue;
    if ('dictionary' in page) {
      dictionary = page.dictionary;
      continue;
    }
    const { count, defs } = page;
    if (at + count > rows) throw new RangeError(`column chunk holds more than its row group's ${rows} rows`);
    let present = count;
    if (defs) {
      present = 0;
      for (let i = 0; i < count; i++) present += defs[i]!;
      if (present < count && kind !== 'double') throw new RangeError('a null where the store allows none');
    }
    if (kind === 'names' && page.encoding === ENCODING.PLAIN) {
      if (dictionary) throw new RangeError('PLAIN names after a dictionary page'); // one local index space per chunk
      plainNames ??= { list: [], index: new Map() };
    }
    // Values land at `at` directly, or (nulls) compacted into a scratch array and spread out.
    if (present === count) decodeValues(page, kind, present, out, at, dictionary, plainNames);
    else {
      const dense = new Float64Array(present);
      decodeValues(page, kind, present, dense, 0, dictionary, plainNames);
      const o = out as Float64Array;
      for (let i = 0, k = 0; i < count; i++) o[at + i] = defs![i] ? dense[k++]! : NaN;
    }
    at += count;
  }
  if (at !== rows) throw new RangeError(`column chunk has ${at} rows, its row group ${rows}`);
  if (kind !== 'names') return {};
  return { dictionary: plainNames ? plainNames.list : ((dictionary as string[] | undefined) ?? []) };
}

type PlainNames = { list: string[]; index: Map<string, number> };

/** The `n` non-null values of a data page into target[tat..]. */
function decodeValues(page: DataPage, kind: ChunkKind, n: number, target: Float64Array | Uint8Array | Int32Array, tat: number, dictionary: Float64Array | Int32Array | string[] | undefined, plainNames: PlainNames | undefined): void {
  const { data, dp, encoding } = page;
  if (encoding === ENCODING.RLE_DICTIONARY || encoding === ENCODING.PLAIN_DICTIONARY) {
    if (!dictionary) throw new RangeError('dictionary-encoded page without a dictionary page');
    const bw = data[dp]!;
    if (bw > 32) throw new RangeError(`dictionary index width ${bw}`);
    // names keep their indices (mapped to scan ids later); other columns read through the dictionary
    if (kind === 'names') rle(data, dp + 1, data.length, bw, n, target, tat, dictionary.length);
    else rle(data, dp + 1, data.length, bw, n, target, tat, dictionary.length, dictionary as Float64Array | Int32Array);
  } else if (encoding === ENCODING.PLAIN && kind === 'names') {
    plainStrings(data, dp, n, target as Int32Array, tat, plainNames!);
  } else if (encoding === ENCODING.PLAIN && kind === 'double') {
    if (dp + n * 8 > data.length) throw new RangeError('PLAIN values run past the page');
    new Uint8Array(target.buffer, target.byteOffset + tat * 8, n * 8).set(data.subarray(dp, dp + n * 8));
  } else if (encoding === ENCODING.PLAIN) {
    (target as Float64Array).set(plainValues(data, dp, n, kind) as Float64Array, tat);
  } else if (encoding === ENCODING.BYTE_STREAM_SPLIT && kind === 'double') {
    // byte k of value i sits at k * n + i (Parquet's BYTE_STREAM_SPLIT)
    if (dp + n * 8 > data.length) throw new RangeError('BYTE_STREAM_SPLIT values run past the page');
    const dst = new Uint8Array(target.buffer, target.byteOffset + tat * 8, n * 8);
    for (let k = 0; k < 8; k++) for (let i = 0, src = dp + k * n; i < n; i++) dst[8 * i + k] = data[src + i]!;
  } else if (encoding === ENCODING.DELTA_BINARY_PACKED && kind === 'ms') {
    deltaBinaryPacked(data, dp, n, target as Float64Array, tat);
  } else {
    throw new RangeError(`encoding ${encoding} for a ${kind} column`);
  }
}

function inflate(page: Uint8Array, codec: number, rawSize: number): Uint8Array {
  if (codec === CODEC.UNCOMPRESSED) return page;
  const out = zstdDecompress(page, { defaultHeapSize: rawSize });
  if (out.length !== rawSize) throw new RangeError(`zstd page gave ${out.length} bytes, its header says ${rawSize}`);
  return out;
}

function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** `n` PLAIN values of a dictionary page or a data page, from byte `at`. */
function plainValues(b: Uint8Array, at: number, n: number, kind: ChunkKind): Float64Array | Int32Array | string[] {
  if (kind === 'names') {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const len = u32(b, at);
      out.push(utf8.decode(b.subarray(at + 4, at + 4 + len)));
      at += 4 + len;
    }
    return out;
  }
  const width = kind === 'u8' ? 4 : 8;
  if (at + n * width > b.length) throw new RangeError('PLAIN values run past the page');
  const view = new DataView(b.buffer, b.byteOffset + at, n * width);
  if (kind === 'u8') {
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
    return out;
  }
  const out = new Float64Array(n);
  if (kind === 'double') new Uint8Array(out.buffer).set(b.subarray(at, at + n * 8));
  else for (let i = 0; i < n; i++) out[i] = view.getUint32(8 * i, true) + view.getInt32(8 * i + 4, true) * 4294967296;
  return out;
}

/** PLAIN strings as indices into a dictionary built while reading (a name repeats in runs). */
function plainStrings(b: Uint8Array, at: number, n: number, out: Int32Array, o: number, d: PlainNames): void {
  let prevStart = -1;
  let prevLen = -1;
  let prev = -1;
  for (let i = 0; i < n; i++) {
    const len = u32(b, at);
    const start = at + 4;
    if (start + len > b.length) throw new RangeError('PLAIN string runs past the page');
    let same = len === prevLen;
    for (let k = 0; same && k < len; k++) same = b[start + k] === b[prevStart + k];
    if (!same) {
      const s = utf8.decode(b.subarray(start, start + len));
      let id = d.index.get(s);
      if (id === undefined) {
        id = d.list.length;
        d.list.push(s);
        d.index.set(s, id);
      }
      prev = id;
      prevStart = start;
      prevLen = len;
    }
    out[o + i] = prev;
    at = start + len;
  }
}

/**
 * Parquet's RLE / bit-packing hybrid: `n` values of `bw` bits from bytes [pos, end) into
 * out[o..]. Runs fill; bit-packed groups of eight are read LSB first. With `size`, every value
 * must be below it (a dictionary index); with `dict`, each index is replaced by its entry.
 */
function rle(b: Uint8Array, pos: number, end: number, bw: number, n: number, out: Int32Array | Uint8Array | Float64Array, o: number, size = Infinity, dict?: Float64Array | Int32Array): void {
  const bytes = (bw + 7) >> 3;
  const mask = bw >= 32 ? 0xffffffff : (1 << bw) - 1;
  // bit-packed values need a check only when bw bits can reach past the dictionary
  const check = 2 ** bw > size;
  let done = 0;
  while (done < n) {
    if (pos >= end) throw new RangeError('RLE data ends early');
    let header = 0;
    let shift = 0;
    for (;;) {
      const x = b[pos++]!;
      header += (x & 0x7f) * 2 ** shift;
      if (x < 0x80) break;
      shift += 7;
    }
    if (header % 2 === 0) {
      const count = Math.min(header / 2, n - done);
      let v = 0;
      for (let k = 0; k < bytes; k++) v += b[pos + k]! * 2 ** (8 * k);
      pos += bytes;
      if (v >= size) throw new RangeError(`dictionary index ${v} of ${size}`);
      out.fill(dict ? dict[v]! : v, o + done, o + done + count);
      done += count;
    } else {
      const values = ((header - 1) / 2) * 8;
      const take = Math.min(values, n - done);
      const base = pos;
      const at = o + done;
      if (bw <= 24) {
        for (let j = 0; j < take; j++) {
          const bit = j * bw;
          const p = base + (bit >>> 3);
          const v = ((b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> (bit & 7)) & mask;
          if (check && v >= size) throw new RangeError(`dictionary index ${v} of ${size}`);
          out[at + j] = dict ? dict[v]! : v;
        }
      } else {
        for (let j = 0; j < take; j++) {
          const v = bits(b, base, j * bw, bw);
          if (check && v >= size) throw new RangeError(`dictionary index ${v} of ${size}`);
          out[at + j] = dict ? dict[v]! : v;
        }
      }
      pos += (values * bw) / 8;
      done += take;
    }
  }
}

/** `w` bits (up to 64, exact below 2^53) at bit `bit` after byte `base`, least significant first. */
function bits(b: Uint8Array, base: number, bit: number, w: number): number {
  let v = 0;
  let got = 0;
  let p = base + Math.floor(bit / 8);
  let s = bit % 8;
  while (got < w) {
    const take = Math.min(8 - s, w - got);
    v += ((b[p++]! >>> s) & ((1 << take) - 1)) * 2 ** got;
    got += take;
    s = 0;
  }
  return v;
}

/** DELTA_BINARY_PACKED int64 values as numbers (exact below 2^53, as epoch milliseconds are). */
function deltaBinaryPacked(b: Uint8Array, pos: number, n: number, out: Float64Array, o: number): void {
  const r = { pos };
  const blockSize = varint(b, r);
  const miniblocks = varint(b, r);
  const total = varint(b, r);
  let value = zigzag(varint(b, r));
  if (total !== n) throw new RangeError(`DELTA_BINARY_PACKED holds ${total} values, the page ${n}`);
  if (miniblocks === 0 || blockSize % miniblocks !== 0) throw new RangeError('DELTA_BINARY_PACKED block header');
  const per = blockSize / miniblocks;
  if (n === 0) return;
  out[o] = value;
  let done = 1;
  while (done < n) {
    const minDelta = zigzag(varint(b, r));
    const widths = r.pos;
    r.pos += miniblocks;
    for (let m = 0; m < miniblocks && done < n; m++) {
      const w = b[widths + m]!;
      const take = Math.min(per, n - done);
      const base = r.pos;
      if (w === 0) {
        for (let j = 0; j < take; j++) out[o + done + j] = value += minDelta;
      } else if (w <= 24) {
        const mask = (1 << w) - 1;
        for (let j = 0; j < take; j++) {
          const bit = j * w;
          const p = base + (bit >>> 3);
          const word = b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
          out[o + done + j] = value += minDelta + ((word >>> (bit & 7)) & mask);
        }
      } else {
        for (let j = 0; j < take; j++) out[o + done + j] = value += minDelta + bits(b, base, j * w, w);
      }
      r.pos += (per * w) / 8;
      done += take;
    }
  }
  if (!Number.isSafeInteger(value)) throw new RangeError('timestamp beyond 2^53 ms');
}

function varint(b: Uint8Array, r: { pos: number }): number {
  let v = 0;
  let scale = 1;
  for (;;) {
    const x = b[r.pos++];
    if (x === undefined) throw new RangeError('varint runs past the page');
    v += (x & 0x7f) * scale;
    if (x < 0x80) return v;
    scale *= 128;
  }
}

function zigzag(v: number): number {
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}
