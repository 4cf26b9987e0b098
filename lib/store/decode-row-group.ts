import { MillwrightError } from '../errors/index.ts';
import type { RowGroupInfo, StoreColumnName } from './parquet-footer.ts';
import { decodeColumnChunk, type ChunkKind } from './parquet-pages.ts';

/** Whole-scan output columns (full length; a row group's rows go at its offset). Names hold local dictionary indices until mapped. */
export interface ColumnsOut {
  ts?: Float64Array;
  asset?: Int32Array;
  signal?: Int32Array;
  value?: Float64Array;
  quality?: Uint8Array;
}

/** Each column's array type in a whole-scan output. */
const ARRAY = { ts: Float64Array, asset: Int32Array, signal: Int32Array, value: Float64Array, quality: Uint8Array } as const;

/** Column `c` over a (shared) buffer: how both threads of the parallel scan see the same output. */
export function columnOver(c: StoreColumnName, buf: SharedArrayBuffer): NonNullable<ColumnsOut[StoreColumnName]> {
  const Ctor = ARRAY[c] as unknown as new (b: SharedArrayBuffer) => NonNullable<ColumnsOut[StoreColumnName]>;
  return new Ctor(buf);
}

/** A shared buffer for `rows` rows of column `c`. */
export function sharedColumn(c: StoreColumnName, rows: number): SharedArrayBuffer {
  return new SharedArrayBuffer(rows * ARRAY[c].BYTES_PER_ELEMENT);
}

const KIND: Record<StoreColumnName, ChunkKind> = { ts: 'ms', asset: 'names', signal: 'names', value: 'double', quality: 'u8' };

/**
 * Decodes column `c` of one row group (`rg`: offsets in `bytes`) into `target` (its rows), and
 * returns a name column's local dictionary. A page that does not decode is INTEGRITY naming
 * `where` (file and row group) and the column.
 */
export function decodeColumn(bytes: Uint8Array, rg: RowGroupInfo, c: StoreColumnName, target: Float64Array | Int32Array | Uint8Array, where: string): string[] | undefined {
  try {
    return decodeColumnChunk(bytes, rg.columns[c]!, KIND[c], rg.rows, target).dictionary;
  } catch (err) {
    throw new MillwrightError('INTEGRITY', `store file ${where}, column ${c} does not decode (${(err as Error).message}); the file is corrupt or was changed during the scan`, { cause: err });
  }
}

/**
 * Decodes every column in `out` of one row group (its bytes and their offsets in `bytes`, see
 * read-chunks-pages.ts `rowGroupBytes`) into rows [at, at + rows) of `out`, and returns the name
 * columns' local dictionaries. Used by the parallel full scan on both threads.
 */
export function decodeRowGroupInto(bytes: Uint8Array, rg: RowGroupInfo, where: string, out: ColumnsOut, at: number): Partial<Record<'asset' | 'signal', string[]>> {
  const names: Partial<Record<'asset' | 'signal', string[]>> = {};
  for (const c of Object.keys(out) as StoreColumnName[]) {
    const dictionary = decodeColumn(bytes, rg, c, out[c]!.subarray(at, at + rg.rows), where);
    if (c === 'asset' || c === 'signal') names[c] = dictionary!;
  }
  return names;
}
