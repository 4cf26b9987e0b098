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

const KIND: Record<StoreColumnName, ChunkKind> = { ts: 'ms', asset: 'names', signal: 'names', value: 'double', quality: 'u8' };

/**
 * Decodes every column in `out` of one row group (its bytes and their offsets in `bytes`, see
 * read-chunks-pages.ts `readColumns`) into rows [at, at + rows) of `out`, and returns the name
 * columns' local dictionaries. Used by the parallel full scan on both threads.
 */
export function decodeRowGroupInto(bytes: Uint8Array, rg: RowGroupInfo, where: string, out: ColumnsOut, at: number): Partial<Record<'asset' | 'signal', string[]>> {
  const names: Partial<Record<'asset' | 'signal', string[]>> = {};
  for (const c of Object.keys(out) as StoreColumnName[]) {
    const col = out[c]!;
    try {
      const decoded = decodeColumnChunk(bytes, rg.columns[c]!, KIND[c], rg.rows, col.subarray(at, at + rg.rows));
      if (c === 'asset' || c === 'signal') names[c] = decoded.dictionary!;
    } catch (err) {
      throw new MillwrightError('INTEGRITY', `store file ${where}, column ${c} does not decode (${(err as Error).message}); the file is corrupt or was changed during the scan`, { cause: err });
    }
  }
  return names;
}
