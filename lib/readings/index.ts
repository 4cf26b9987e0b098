/**
 * The raw data model: readings in long form. One reading is one value of one signal of one
 * asset at one instant. Every store, loader, generator and ingest path speaks this shape.
 *
 * @packageDocumentation
 */

/** One reading, row form (convenient, slow: use {@link ReadingBatch} for volume). */
export interface Reading {
  /** Epoch milliseconds, UTC. */
  ts: number;
  site: string;
  asset: string;
  signal: string;
  value: number;
  /** Optional quality flag: 0 = good (default). Non-zero values are source-specific. */
  quality?: number;
}

/**
 * Columnar batch of readings: all arrays have the same length. This is what writers take
 * and generators/loaders produce, so 10^8 readings can stream through in chunks without
 * allocating an object per reading.
 */
export interface ReadingBatch {
  ts: Float64Array;
  site: string[];
  asset: string[];
  signal: string[];
  value: Float64Array;
  quality?: Uint8Array;
}

/** Column names of the long form, in storage order (partition columns excluded). */
export const READING_COLUMNS = ['ts', 'asset', 'signal', 'value', 'quality'] as const;

/** Number of readings in a batch. */
export function batchLength(batch: ReadingBatch): number {
  return batch.ts.length;
}

export { StringDictionary } from './dictionary.ts';
export type { BatchOrigin } from './batch-origin.ts';
