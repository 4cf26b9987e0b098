import { list, num, sub, ThriftReader, type ThriftStruct } from './thrift-compact.ts';

/** Parquet physical types (parquet.thrift `Type`). */
export const PHYSICAL = { INT32: 1, INT64: 2, DOUBLE: 5, BYTE_ARRAY: 6 } as const;
/** Compression codecs the JS page reader decodes (parquet.thrift `CompressionCodec`). */
export const CODEC = { UNCOMPRESSED: 0, ZSTD: 6 } as const;
/** Page encodings the JS page reader decodes (parquet.thrift `Encoding`). */
export const ENCODING = { PLAIN: 0, PLAIN_DICTIONARY: 2, RLE: 3, DELTA_BINARY_PACKED: 5, RLE_DICTIONARY: 8, BYTE_STREAM_SPLIT: 9 } as const;

/** The store's columns as the page reader decodes them. */
export type StoreColumnName = 'ts' | 'asset' | 'signal' | 'value' | 'quality';

/** One column chunk of a row group: where its pages are and how they are stored. */
export interface ColumnChunkInfo {
  /** Byte offset of the first page (the dictionary page when there is one). */
  offset: number;
  /** Bytes of all its pages, headers included. */
  size: number;
  codec: number;
  /** Definition levels precede the values (an OPTIONAL column). */
  optional: boolean;
}

export interface RowGroupInfo {
  rows: number;
  columns: Partial<Record<StoreColumnName, ColumnChunkInfo>>;
}

/** What a file's footer says, once it is known the page reader can read the columns asked for. */
export interface StoreFileLayout {
  rowGroups: RowGroupInfo[];
}

const utf8 = new TextDecoder();

/**
 * Parses a Parquet file's footer (`end`: the file's last bytes, at least the footer and its
 * 8-byte trailer; `fileSize`: the whole file's) and checks that the page reader decodes `columns` exactly as
 * DuckDB would: a flat schema; ts INT64 timestamps in milliseconds; asset and signal BYTE_ARRAY;
 * value DOUBLE; quality INT32 holding an unsigned 8-bit integer; zstd or no compression; PLAIN,
 * dictionary, RLE, DELTA_BINARY_PACKED and BYTE_STREAM_SPLIT encodings; no nulls except in value (whose nulls read
 * as NaN). Returns the reason when it does not (the caller then reads with DuckDB): millwright's
 * own writer always fits; files from other writers may not.
 */
export function parseStoreFooter(end: Uint8Array, fileSize: number, columns: readonly StoreColumnName[]): StoreFileLayout | { unsupported: string } {
  const n = end.length;
  if (fileSize < 12 || n < 8 || tail(end, n - 4) !== 'PAR1') return { unsupported: 'not a Parquet file' };
  const metaLen = new DataView(end.buffer, end.byteOffset + n - 8, 4).getUint32(0, true);
  if (metaLen + 12 > fileSize) return { unsupported: 'footer length past the start of the file' };
  if (metaLen + 8 > n) return { unsupported: 'footer longer than the bytes given' };
  let meta: ThriftStruct;
  try {
    meta = new ThriftReader(end.subarray(n - 8 - metaLen, n - 8)).struct();
  } catch (err) {
    return { unsupported: `footer: ${(err as Error).message}` };
  }
  const schema = list(meta, 2) as ThriftStruct[];
  const root = schema[0];
  if (!root || num(root, 5) !== schema.length - 1) return { unsupported: 'nested schema' };
  const leaf = new Map<string, { index: number; el: ThriftStruct }>();
  for (let i = 1; i < schema.length; i++) {
    const el = schema[i]!;
    if (num(el, 5) !== undefined) return { unsupported: 'nested schema' };
    leaf.set(utf8.decode(el.get(4) as Uint8Array), { index: i - 1, el });
  }
  for (const name of columns) {
    const col = leaf.get(name);
    if (!col) return { unsupported: `no column ${name}` };
    const why = columnType(name, col.el);
    if (why) return { unsupported: `column ${name}: ${why}` };
  }
  const rowGroups: RowGroupInfo[] = [];
  for (const rg of list(meta, 4) as ThriftStruct[]) {
    const chunks = list(rg, 1) as ThriftStruct[];
    const info: RowGroupInfo = { rows: num(rg, 3) ?? 0, columns: {} };
    for (const name of columns) {
      const { index, el } = leaf.get(name)!;
      const chunk = columnChunk(name, el, chunks[index], fileSize - 8 - metaLen);
      if ('unsupported' in chunk) return { unsupported: `column ${name}: ${chunk.unsupported}` };
      info.columns[name] = chunk;
    }
    rowGroups.push(info);
  }
  return { rowGroups };
}

/** Where a column chunk's pages are, or why the page reader cannot read them. */
function columnChunk(name: StoreColumnName, el: ThriftStruct, chunk: ThriftStruct | undefined, footerStart: number): ColumnChunkInfo | { unsupported: string } {
  const md = chunk && sub(chunk, 3);
  if (!md || chunk!.get(1) !== undefined) return { unsupported: 'metadata missing or in another file' };
  const codec = num(md, 4)!;
  if (codec !== CODEC.UNCOMPRESSED && codec !== CODEC.ZSTD) return { unsupported: `codec ${codec}` };
  const encodings = list(md, 2) as number[];
  if (!encodings.every((e) => (Object.values(ENCODING) as number[]).includes(e))) return { unsupported: `encodings ${encodings.join(',')}` };
  const optional = num(el, 3) === 1;
  // Only value may hold nulls (read as NaN); elsewhere the statistics must say there are none.
  if (optional && name !== 'value') {
    const stats = sub(md, 12);
    if (!stats || num(stats, 3) !== 0) return { unsupported: 'may hold nulls' };
  }
  const dict = num(md, 11);
  const data = num(md, 9)!;
  const offset = dict !== undefined && dict > 0 && dict < data ? dict : data;
  const size = num(md, 7)!;
  if (offset < 4 || offset + size > footerStart) return { unsupported: 'pages past the footer' };
  return { offset, size, codec, optional };
}

function tail(file: Uint8Array, at: number): string {
  return String.fromCharCode(file[at]!, file[at + 1]!, file[at + 2]!, file[at + 3]!);
}

/** Why column `name` is not of the type the page reader decodes it as (undefined when it is). */
function columnType(name: StoreColumnName, el: ThriftStruct): string | undefined {
  const type = num(el, 1);
  if (num(el, 3) === 2) return 'repeated';
  const logical = sub(el, 10);
  switch (name) {
    case 'ts': {
      if (type !== PHYSICAL.INT64) return `physical type ${type}`;
      const unit = logical && sub(logical, 8) && sub(sub(logical, 8)!, 2);
      const millis = unit ? unit.has(1) : num(el, 6) === 9; // TimeUnit.MILLIS, or converted TIMESTAMP_MILLIS
      return millis ? undefined : 'not a millisecond timestamp';
    }
    case 'asset':
    case 'signal':
      return type === PHYSICAL.BYTE_ARRAY ? undefined : `physical type ${type}`;
    case 'value':
      return type === PHYSICAL.DOUBLE ? undefined : `physical type ${type}`;
    case 'quality': {
      if (type !== PHYSICAL.INT32) return `physical type ${type}`;
      const int = logical && sub(logical, 10);
      const u8 = int ? num(int, 1) === 8 && int.get(2) === false : num(el, 6) === 11; // INT(8, unsigned), or converted UINT_8
      return u8 ? undefined : 'not an unsigned 8-bit integer';
    }
  }
}
