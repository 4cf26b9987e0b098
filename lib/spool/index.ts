/**
 * The local spool for the gateway case: readings are appended durably (one fsynced, CRC-checked
 * segment per acknowledged batch) and later moved into the store by `flushSpool` / `runGateway`.
 * Delivery into the store is at-least-once; `compact` in the store removes the duplicates a
 * crash between "store write durable" and "segment deleted" can leave.
 *
 * @packageDocumentation
 */
export { appendToSpool, listSegments, recoverSpool, spoolStatus, lockSpool, publishSpoolFile, type SpoolAck, type SpoolStatus } from './spool.ts';
export { encodeSegment, decodeSegment, decodeSegmentEncoded, openSegment, copySegment, segmentChunk, type EncodedSegment, type OpenSegment, type SegmentMeta, type TornSegment } from './format.ts';
export { flushSpool, type FlushOptions, type FlushResult } from './flush.ts';
export { runGateway, type GatewayOptions } from './gateway.ts';
