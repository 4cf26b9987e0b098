/**
 * The sensor store: Hive-partitioned Parquet (`<root>/site=<site>/date=<YYYY-MM-DD>/part-<id>.parquet`),
 * zstd, rows sorted by (asset, signal, ts) with row-group statistics.
 */
export { writeReadings, type WriteOptions, type WriteResult } from './writeReadings.ts';
export { validatePartitionValue, partitionDir, type PartitionKind } from './partition.ts';
