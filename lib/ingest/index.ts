/**
 * Ingestion: streaming CSV / NDJSON readers (long and wide), Parquet from other writers of readings (columnar batches, bad rows to a
 * rejects file) and the `ingest` pipeline into the store or the spool.
 *
 * @example
 * import { ingest } from 'millwright';
 * const s = await ingest(['readings.csv'], { store: '.millwright/store', site: 'plant-1' });
 *
 * @packageDocumentation
 */
export { ingest, defaultRejectsPath, type IngestOptions, type IngestSummary, type IngestProgress, type BatchCommit, type SourceSummary } from './ingest.ts';
export { readCsv, readCsvEncoded, splitQuoted, KNOWN_COLUMNS, DEFAULT_BATCH_ROWS, type ReadOptions } from './csv.ts';
export { readNdjson, readNdjsonEncoded } from './ndjson.ts';
export { parseTimestamp, MIN_TS, MAX_TS } from './timestamp.ts';
export { parseDecimal } from './number.ts';
export { nameProblem } from './names.ts';
export { formatOfPath, openInput, readEncoded, readInput, READINGS_FORMATS, type ReadingsFormat } from './source.ts';
export { readWideCsv, readWideCsvEncoded } from './wide-csv.ts';
export { readWideNdjson, readWideNdjsonEncoded } from './wide-ndjson.ts';
export { readParquetReadings, inspectParquet, type ParquetColumn } from './parquet-input.ts';
export { checkParquetPages, type PagesReport } from './parquet-pages.ts';
export { LocalTimeZone, type AmbiguousPolicy } from './local-time.ts';
export { planWideColumns, TIMESTAMP_NAMES, type WideOptions, type ColumnsInfo, type LeftOut, type WidePlan } from './wide-columns.ts';
export type { Reject } from './reject.ts';
export type { ParsedBatch, EncodedBatch } from './batch-builder.ts';
