import type { ReadingBatch } from '../readings/index.ts';
import { checkColumns, StoreNames, writeChunks, type WriteOptions, type WriteResult } from './write-chunks.ts';

export type { WriteOptions, WriteResult } from './write-chunks.ts';

/**
 * Writes a batch of readings into the store: one new Parquet file per touched (site, UTC date)
 * partition, rows sorted by (asset, signal, ts), zstd, row-group statistics. Each file is written
 * atomically (hidden temp file in the partition directory, fsync, rename to
 * `part-<id>.parquet`, fsync the directory), so a crash leaves each file whole or absent.
 * Timestamps are rounded to whole milliseconds; a missing `quality` is stored as 0 (good).
 * Throws BAD_INPUT (and writes nothing) when any reading is invalid.
 *
 * @example
 * await writeReadings('./.millwright/store', {
 *   ts: Float64Array.of(Date.parse('2024-03-01T00:00:00Z')), site: ['plant-1'], asset: ['motor-3'],
 *   signal: ['temperature'], value: Float64Array.of(41.5),
 * }); // → { files: ['/…/site=plant-1/date=2024-03-01/part-….parquet'], rows: 1 }
 */
export async function writeReadings(root: string, batch: ReadingBatch, opts: WriteOptions = {}): Promise<WriteResult> {
  const n = checkColumns(batch);
  if (n === 0) return { files: [], rows: 0 };
  const names = new StoreNames();
  const siteId = new Int32Array(n);
  const assetId = new Int32Array(n);
  const signalId = new Int32Array(n);
  // Consecutive rows usually share site and asset (series-major input): skip the Map then.
  for (let i = 0; i < n; i++) {
    const s = batch.site[i];
    siteId[i] = i > 0 && s === batch.site[i - 1] ? siteId[i - 1] : names.sites.id(s);
    const a = batch.asset[i];
    assetId[i] = i > 0 && a === batch.asset[i - 1] ? assetId[i - 1] : names.assets.id(a);
    const sig = batch.signal[i];
    signalId[i] = i > 0 && sig === batch.signal[i - 1] ? signalId[i - 1] : names.signals.id(sig);
  }
  return writeChunks(root, [{ ts: batch.ts, value: batch.value, quality: batch.quality, site: siteId, asset: assetId, signal: signalId, dict: undefined }], opts, names);
}

/**
 * A batch whose site, asset and signal columns are ids into one dictionary of names (the form
 * spool segments and parsed ingest chunks already have). Ids may repeat names or leave entries
 * unused; only the names the rows use are checked and written.
 */
export interface EncodedReadings {
  ts: Float64Array;
  value: Float64Array;
  /** Missing: every row is 0 (good). */
  quality?: Uint8Array;
  site: Int32Array;
  asset: Int32Array;
  signal: Int32Array;
}

/** Options of {@link writeEncodedReadings}. */
export interface WriteEncodedOptions extends WriteOptions {
  /**
   * Accepted for compatibility and no longer needed: the writer reads the id columns in place
   * and never modifies them, so there is no copy to save.
   * @deprecated Has no effect.
   */
  reuseIds?: boolean;
}

/**
 * {@link writeReadings} for a batch already encoded against a dictionary of names: no string per
 * row is built or compared (each row costs an integer lookup per name column), and the store
 * receives exactly the files `writeReadings` writes for the decoded batch. Throws BAD_INPUT
 * (and writes nothing) when an id is outside the dictionary or any reading is invalid.
 *
 * @example
 * import { writeEncodedReadings } from 'millwright';
 * await writeEncodedReadings('./.millwright/store', {
 *   ts: Float64Array.of(Date.parse('2024-03-01T00:00:00Z'), Date.parse('2024-03-01T00:00:01Z')),
 *   value: Float64Array.of(41.5, 41.7),
 *   site: Int32Array.of(0, 0), asset: Int32Array.of(1, 1), signal: Int32Array.of(2, 2),
 * }, ['plant-1', 'motor-3', 'temperature']); // → { files: [ '/…/date=2024-03-01/part-….parquet' ], rows: 2 }
 */
export async function writeEncodedReadings(root: string, batch: EncodedReadings, dict: readonly string[], opts: WriteEncodedOptions = {}): Promise<WriteResult> {
  checkColumns(batch);
  return writeChunks(root, [{ ts: batch.ts, value: batch.value, quality: batch.quality, site: batch.site, asset: batch.asset, signal: batch.signal, dict }], opts);
}

