/**
 * millwright: the analyst's library. Store, SQL, resampling, features, plots, the model contract
 * and registry, the built-in algorithms, readings, wire and capture formats, and errors, with types.
 *
 * The list is curated: the module indexes under lib/ also export the plumbing the CLI, the server
 * and the reports share (durable files, locks, spool segments, encoded batches); those are not
 * part of the public API and are not re-exported here.
 *
 * @example
 * import { scanTable, sql, resample } from 'millwright';
 * const t = await scanTable({ root: '.millwright/store', sites: ['plant-a'], from: '2024-03-01' });
 *
 * @module millwright
 */

/** Readings in long form: the one data model every store, loader and ingest path speaks. */
export { READING_COLUMNS, batchLength, type Reading, type ReadingBatch } from './readings/index.ts';

/** The toolkit's one error type and its table of codes (HTTP status, CLI exit code, meaning). */
export {
  MillwrightError, isErrorCode, ERROR_CODES, exitCodeFor, httpStatusFor, isKnownErrorCode,
  type ErrorCode, type MillwrightErrorJSON,
} from './errors/index.ts';

/** Configuration: every MILLWRIGHT_ / SM_ / SAGEMAKER_ / MODEL_SERVER_ variable, read with one rule (empty = unset). */
export {
  CONFIG_VARS, readEnv, firstEnv, storeRoot, spoolDir, registryDir, mlBase, servedModelDir,
  type ConfigVar, type Env,
} from './config/index.ts';

/** The sensor store: write, scan, query with SQL, resample, compact. */
export {
  writeReadings, scan, scanTable, scanStream, planScan, sql, resample, resampleStore, resampleSql, parseEvery, compact,
  validatePartitionValue, partitionDir, RESAMPLE_AGGS,
  type WriteOptions, type WriteResult, type PartitionKind, type ScanOptions, type ScanReader, type ScanPlan, type PlannedFile,
  type StoreFilter, type SqlOptions, type SqlRows, type SqlValue, type SqlFormat, type ResampleAgg, type ResampleOptions,
  type ResampleStoreOptions, type CompactOptions, type CompactResult,
} from './store/index.ts';

/** Ingestion of CSV / NDJSON readings files into the store or the spool. */
export {
  ingest, defaultRejectsPath, readCsv, readNdjson, parseTimestamp, KNOWN_COLUMNS, DEFAULT_BATCH_ROWS, MIN_TS, MAX_TS,
  type IngestOptions, type IngestSummary, type IngestProgress, type BatchCommit, type SourceSummary, type ReadOptions,
  type ReadingsFormat, type Reject, type ParsedBatch,
} from './ingest/index.ts';

/** The local spool of the gateway case: append durably now, move into the store later. */
export {
  appendToSpool, spoolStatus, flushSpool, runGateway,
  type SpoolAck, type SpoolStatus, type FlushOptions, type FlushResult, type GatewayOptions,
} from './spool/index.ts';

/** Feature engineering: typed-array fast paths and long-form arquero tables. */
export * from './features/index.ts';

/** Durations and sizes as people write them (`500ms`, `10s`, `2h`, `6mb`), and the one quantile. */
export { parseDuration, parseSize, type DurationOptions, type SizeOptions } from './units/index.ts';
export { quantileSorted } from './stats/index.ts';

/** Observable Plot charts rendered to SVG (and displayed in tslab notebooks). */
export * from './plot/index.ts';

/** Models: the train/predict contract, training runner, verified artifacts, registry, retraining. */
export * from './model/index.ts';

/** The built-in algorithms (model packages), their metrics and the histogram forest. */
export * from './algorithms/index.ts';

/** Request wire formats (CSV, MLflow JSON, JSON Lines) shared by the server and the reports. */
export * from './wire/index.ts';

/** The data-capture record format (SageMaker Model Monitor's JSON Lines layout). */
export * from './capture/index.ts';

/** Gateway sources for MQTT (JSON by topic pattern) and Sparkplug B; the gateway builds them from its config file. */
export { createMqttSource, mqttSchema, mqttSourceType, type MqttSourceConfig } from './gateway/sources/mqtt.ts';
export { createSparkplugSource, sparkplugSchema, sparkplugSourceType, type SparkplugSourceConfig } from './gateway/sources/sparkplug.ts';
