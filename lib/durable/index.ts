/**
 * Durable files: the few primitives every writer that must survive a crash shares (the store's
 * Parquet partitions, the spool's segments, the model registry). A crash at any moment leaves a
 * file whole or absent, never torn, and a rename is not acknowledged before its directory entry
 * is on disk.
 *
 * @example
 * await mkdirDurable('/data/store/site=a/date=2024-01-01');
 * await writeFileAtomic('/data/store/site=a/date=2024-01-01/part-1.parquet', bytes);
 *
 * @packageDocumentation
 */
export { uniqueId, fsyncDir, mkdirDurable, writeFileAtomic, readdirIfExists, direntsIfExists } from './atomic-file.ts';
export { moveInto } from './move-into.ts';
export { appendLine } from './append-line.ts';
export { SettledFiles } from './settled-files.ts';
export { acquireLock, withLock, processAlive, type LockOptions, type LockHolder } from './lock.ts';
