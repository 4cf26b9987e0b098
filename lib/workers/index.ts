/**
 * Worker threads: one way to start a worker module that works both from the TypeScript sources
 * (under tsx) and from the built package. Used by ingestion (parse and write threads), the
 * serving pool and the report scheduler.
 *
 * @example
 * const worker = startWorker(new URL('./parse-worker.ts', import.meta.url), data);
 *
 * @packageDocumentation
 */
export { startWorker } from './start-worker.ts';
