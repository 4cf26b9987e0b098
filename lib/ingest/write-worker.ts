/**
 * Worker thread that writes encoded batches into the store (decode names, then the store's
 * atomic `writeReadings`). Several run side by side so Parquet encoding, the slow part of an
 * ingest, uses every core.
 */
import { parentPort } from 'node:worker_threads';
import { MillwrightError, type MillwrightErrorJSON } from '../errors/index.ts';
import { writeReadings } from '../store/index.ts';
import { decodeBatch, type EncodedBatch } from './batch-builder.ts';

/** A write request from the pool. */
export interface WriteRequest {
  id: number;
  root: string;
  /** Start a new dictionary (a new input) before applying `dictAdds`. */
  reset: boolean;
  dictAdds: string[];
  batch: EncodedBatch;
}

/** The answer to a {@link WriteRequest}. */
export type WriteReply = { id: number; files: string[]; rows: number } | { id: number; error: MillwrightErrorJSON };

const port = parentPort;
if (port) {
  let dict: string[] = [];
  port.on('message', (req: WriteRequest) => {
    if (req.reset) dict = [];
    for (const s of req.dictAdds) dict.push(s);
    writeReadings(req.root, decodeBatch(req.batch, dict).batch).then(
      (r) => port.postMessage({ id: req.id, files: r.files, rows: r.rows } satisfies WriteReply),
      (err: unknown) => port.postMessage({ id: req.id, error: MillwrightError.from(err).toJSON() } satisfies WriteReply),
    );
  });
}
