/**
 * The gateway: sources speaking the plant's protocols, one bounded spool, the flush into the
 * store, heartbeats and events, the asset model and a status server (docs/gateway.md).
 *
 * @packageDocumentation
 */
export { QUALITY, type QualityCode, type Source, type SourceContext, type SourceEvent, type SourceReading, type SourceState, type SourceStatus } from './source.ts';
export { SourceStatusTracker } from './source-status.ts';
export { SOURCE_TYPES, type SourceType } from './sources/index.ts';
export { durationField, sizeField, tagTarget, sourceBase } from './config-fields.ts';
export { loadGatewayConfig, parseGatewayConfig, gatewayConfigSchema, unknownAssets, type GatewayConfig, type SourceConfig } from './config.ts';
export { formatIssues, formatPath } from './config-issues.ts';
export { loadAssetModel, assetModelSchema, assetRows, closestName, type AssetModel } from './assets.ts';
export { startGateway, type GatewayHandle, type GatewayStatus, type SourceReport, type StartOptions } from './runner.ts';
export { appendEvents, flushEvents, listEventFiles, type EventFlushResult } from './event-spool.ts';
export { SpoolWriter, type SpoolAlarm, type SpoolWriterOptions } from './spool-writer.ts';
export { startStatusServer, gatewayMetrics, type StatusServer } from './status-server.ts';
export { WindowPollSimulator, WindowPollSource, WindowPollClient, windowPollType, windowPollSchema, type WindowPollConfig, type SimulatorOptions, type SimTag, type ServedRead } from './window-poll/index.ts';
