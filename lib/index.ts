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
  writeReadings, writeEncodedReadings, scan, scanTable, scanArrays, scanStream, planScan, slicePlan, tsExtent, sql, resample, resampleStore, resampleSql, parseEvery, compact,
  validatePartitionValue, partitionDir, RESAMPLE_AGGS,
  type EncodedReadings, type WriteEncodedOptions, type WriteOptions, type WriteResult, type PartitionKind, type ScanOptions, type ScanReader, type ScanArrays, type ScanPlan, type PlannedFile,
  type StoreFilter, type SqlOptions, type SqlRows, type SqlValue, type SqlFormat, type ResampleAgg, type ResampleOptions,
  type ResampleStoreOptions, type CompactOptions, type CompactResult,
} from './store/index.ts';

/** Ingestion of CSV / NDJSON readings files into the store or the spool. */
export {
  ingest, defaultRejectsPath, readCsv, readNdjson, parseTimestamp, KNOWN_COLUMNS, DEFAULT_BATCH_ROWS, MIN_TS, MAX_TS,
  type IngestOptions, type IngestSummary, type IngestProgress, type BatchCommit, type SourceSummary, type ReadOptions,
  type ReadingsFormat, type Reject, type ParsedBatch,
  readWideCsv, readWideNdjson, readParquetReadings, inspectParquet, type ParquetColumn, LocalTimeZone, type AmbiguousPolicy, type WideOptions, type ColumnsInfo, type LeftOut,
} from './ingest/index.ts';

/** The local spool of the gateway case: append durably now, move into the store later. */
export {
  appendToSpool, spoolStatus, flushSpool, runGateway,
  type SpoolAck, type SpoolStatus, type FlushOptions, type FlushResult, type GatewayOptions,
} from './spool/index.ts';

/** The gateway: protocol sources into a bounded spool, heartbeats and events, the asset model, the status server. */
export {
  startGateway, loadGatewayConfig, parseGatewayConfig, gatewayConfigSchema, loadAssetModel, assetModelSchema, closestName,
  formatIssues, SOURCE_TYPES, QUALITY, durationField, sizeField, tagTarget, sourceBase, flushEvents,
  WindowPollSimulator, WindowPollSource, windowPollType, SourceStatusTracker,
  type GatewayConfig, type SourceConfig, type GatewayHandle, type GatewayStatus, type SourceReport, type StartOptions, type AssetModel,
  type Source, type SourceContext, type SourceEvent, type SourceReading, type SourceState, type SourceStatus, type QualityCode, type SourceType,
  type WindowPollConfig, type SimulatorOptions, type SimTag, type SpoolAlarm,
} from './gateway/index.ts';

/** The store's events table (gateway events, alarms) and asset model, beside the readings. */
export { writeEvents, writeAssets, EVENT_SEVERITIES, type EventRow, type EventSeverity, type AssetRow } from './store/index.ts';

/** Alarms on readings: rule files, the ISA-18.2 evaluator (gateway and `alarms run`), ack/shelve, flood summaries, ISO 20816-3 zones. */
export {
  loadAlarmRules, parseAlarmRules, ruleFileSchema, RULE_KINDS, AlarmEvaluator, AlarmSession, AlarmStateDir, runAlarms, ALARM_STATES,
  ISO_20816_3_ZONES, VIBRATION_ZONES, vibrationZone, velocityRms,
  type AlarmRules, type RuleSpec, type AlarmState, type AlarmRecord, type ReadingColumns, type CodedReadingColumns, type EvaluatorSnapshot, type OperatorAction,
  type RunAlarmsOptions, type RunAlarmsResult, type VibrationZone,
} from './alarms/index.ts';

/** Raw landing in S3-compatible object storage: a flush destination, sync into a local store, a read-only cached s3 store. */
export {
  forwardToS3, syncFromS3, openS3Store, createS3Client, parseS3Url, pruneFromSql, type SqlPruning,
  type LandingDestination, type LandingBatch, type LandingFile, type DeliveryResult, type ConfirmJournal, type Confirmation,
  type ForwardS3Options, type SyncOptions, type SyncResult, type S3StoreOptions, type S3StoreView, type CacheStats,
  type S3Location, type S3ConnectOptions,
} from './landing/index.ts';

/** Feature engineering: typed-array fast paths and long-form arquero tables. */
export * from './features/index.ts';

/** Durations and sizes as people write them (`500ms`, `10s`, `2h`, `6mb`), and the one quantile. */
export { parseDuration, parseSize, type DurationOptions, type SizeOptions } from './units/index.ts';
export { quantileSorted } from './stats/index.ts';

/** Observable Plot charts rendered to SVG (and displayed in tslab notebooks). */
export * from './plot/index.ts';

/** Models: the train/predict contract, training runner, verified artifacts, registry, retraining. */
export * from './model/index.ts';
export * from './plant/index.ts';

/** The built-in algorithms (model packages), their metrics and the histogram forest. */
export * from './algorithms/index.ts';

/** Request wire formats (CSV, MLflow JSON, JSON Lines) shared by the server and the reports. */
export * from './wire/index.ts';

/** Vision models: image bodies into input tensors (sharp), detector output into labelled boxes. */
export * from './vision/index.ts';

/** The data-capture record format (SageMaker Model Monitor's JSON Lines layout). */
export * from './capture/index.ts';

/** Late ground truth: SageMaker's merge layout or CSV, stored durably in arrival order. */
export * from './ground-truth/index.ts';

/** The gateway's `files` source: a watched folder of exports (long or wide, local time), each file read once. */
export { filesSourceType, type FilesSourceConfig } from './gateway/sources/files.ts';
/** Gateway sources: OPC UA (node-opcua subscriptions) and Modbus TCP (modbus-serial polling). */
export { OpcuaSource, opcuaSource, opcuaSchema, type OpcuaConfig, type OpcuaTag } from './gateway/sources/opcua.ts';
export { ModbusSource, modbusSource, modbusSchema, decodeWords, encodeWords, MODBUS_REGISTER_TYPES, type ModbusConfig, type ModbusRegister } from './gateway/sources/modbus.ts';
/** Gateway sources for MQTT (JSON by topic pattern) and Sparkplug B; the gateway builds them from its config file. */
export { createMqttSource, mqttSchema, mqttSourceType, type MqttSourceConfig } from './gateway/sources/mqtt.ts';
export { createSparkplugSource, sparkplugSchema, sparkplugSourceType, type SparkplugSourceConfig } from './gateway/sources/sparkplug.ts';

/** Edge bundles: signed model and code bundles, deployed into an edge folder with health-checked atomic switches and rollback. */
export * from './bundle/index.ts';
/** Maintenance records (failure, repair, inspection) as events: added, imported from a CMMS export, listed; the labels and alarm scores read them. */
export {
  addMaintenanceRecord, addMaintenanceRecords, listMaintenanceRecords, importCmmsCsv, recordProblem, MAINTENANCE_KINDS, CMMS_FIELDS,
  type MaintenanceKind, type MaintenanceRecord, type MaintenanceFilter, type StoredMaintenanceRecord, type CmmsMapping, type CmmsImportOptions, type CmmsImportSummary,
} from './maintenance/index.ts';
/** Scheduled predictions into the store's `predictions` table, and results back to the plant (MQTT, Sparkplug B, OPC UA). */
export {
  runPredictions, SlotLedger, WriteBack, MqttWriteBack, OpcuaWriteBack, sparkplugQuality,
  type ModelChange, type PredictionScheduleOptions, type SlotResult, type ModelSpec, type PredictSource, type LedgerRecord, type SlotEntry, type SlotStatus,
  type WriteBackMessage, type WriteBackSink, type WriteBackUpdate, type WriteBackOptions, type MqttWriteBackOptions, type OpcuaWriteBackOptions, type OpcuaTagNodes,
} from './predict/index.ts';
export { writePredictions, PREDICTIONS_DIR, type PredictionRow } from './store/index.ts';
/** Notifications with a durable outbox: webhook, e-mail (SMTP) and MQTT channels, templates, routing, idempotency keys. */
export {
  createOutbox, outboxStatus, deadLetters, alarmToNotification, notificationKey, parseNotifyConfig, loadNotifyConfig,
  renderEmail, renderJson, DeliveryFailure, AlarmFeed,
  type AlarmFeedResult, type AlarmFeedSnapshot, type Outbox, type OutboxOptions, type EnqueueResult, type ChannelStatus, type RunResult, type Notification, type AlarmEventRow,
  type NotifyConfig, type ChannelConfig, type WebhookConfig, type EmailConfig, type MqttConfig, type Route, type RetryOptions, type Channel,
} from './notify/index.ts';
