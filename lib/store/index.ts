/**
 * The sensor store: Hive-partitioned Parquet (`<root>/site=<site>/date=<YYYY-MM-DD>/part-<id>.parquet`),
 * zstd, rows sorted by (asset, signal, ts) with row-group statistics. Write with `writeReadings`,
 * read with `scan`/`scanTable`/`scanStream`, query with `sql`, downsample with `resample` or
 * `resampleStore`, deduplicate and merge with `compact`.
 *
 * @packageDocumentation
 */
export { writeReadings, writeEncodedReadings, type EncodedReadings, type WriteEncodedOptions, type WriteOptions, type WriteResult } from './write-readings.ts';
export { validatePartitionValue, partitionDir, type PartitionKind } from './partition.ts';
export { scan, scanTable, scanArrays, scanStream, type ScanOptions, type ScanReader, type ScanArrays } from './scan.ts';
export { planScan, type ScanPlan, type PlannedFile } from './plan-scan.ts';
export { slicePlan } from './slice-plan.ts';
export { tsExtent } from './ts-extent.ts';
export type { StoreFilter } from './filters.ts';
export { sql, type SqlOptions, type SqlRows, type SqlValue, type SqlFormat } from './sql.ts';
export { resample, RESAMPLE_AGGS, type ResampleAgg, type ResampleOptions } from './resample.ts';
export { resampleStore, resampleSql, type ResampleStoreOptions } from './resample-store.ts';
export { parseEvery } from './every.ts';
export { compact, type CompactOptions, type CompactResult } from './compact.ts';
export { writeEvents, EVENTS_DIR, EVENT_SEVERITIES, type EventRow, type EventSeverity } from './write-events.ts';
export { writeAssets, ASSETS_DIR, type AssetRow } from './write-assets.ts';
export { writePredictions, predictionsFile, predictionsFileExists, type PredictionRow } from './write-predictions.ts';
export { PREDICTIONS_DIR } from './predictions-view.ts';
export { writeMonitoring, MONITORING_DIR, MONITORING_KINDS, type MonitoringRow, type MonitoringKind } from './write-monitoring.ts';
