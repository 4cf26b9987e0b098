/**
 * Raw landing in S3-compatible object storage: flushed batches uploaded as the store's own
 * Hive-partitioned Parquet files (`forwardToS3`, a flush destination), pulled back into a local
 * store (`syncFromS3`), or read in place through a bounded local cache (`openS3Store`).
 * Credentials come from the AWS SDK's default chain only.
 *
 * @packageDocumentation
 */
export { createS3Client, parseS3Url, s3Url, isS3Url, safeEndpoint, s3Error, type S3Location, type S3ConnectOptions } from './s3-client.ts';
export {
  recordBatch, pendingBatches, deliverBatch, settleBatch,
  type LandingDestination, type LandingBatch, type LandingFile, type DeliveryResult, type ConfirmJournal, type Confirmation,
} from './batch-journal.ts';
export { forwardToS3, putVerified, etagOf, type ForwardS3Options } from './forward-s3.ts';
export { listParts, type RemotePart, type PartFilter, type PartListing } from './list-parts.ts';
export { fetchVerified, type Verification } from './fetch-verified.ts';
export { syncFromS3, type SyncOptions, type SyncResult } from './sync.ts';
export { openS3Store, type S3StoreOptions, type S3StoreView, type CacheStats } from './s3-store.ts';
export { pruneFromSql, type SqlPruning } from './sql-prune.ts';
