/**
 * Worker thread that parses one input file and posts encoded batches (typed arrays, transferred
 * without copying) to the ingest loop, so parsing the next batch overlaps writing this one.
 * Flow control: the worker holds at most `credits` unacknowledged batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MillwrightError, type MillwrightErrorJSON } from '../errors/index.ts';
import type { EncodedBatch } from './batch-builder.ts';
import type { Reject } from './reject.ts';
import { readInput, type ReadingsFormat } from './source.ts';
import type { AmbiguousPolicy } from './local-time.ts';
import type { ColumnsInfo, WideOptions } from './wide-columns.ts';

export interface WorkerInput {
  path: string;
  format: ReadingsFormat;
  batchRows: number;
  site?: string;
  timezone?: string;
  ambiguous?: AmbiguousPolicy;
  wide?: WideOptions;
  credits: number;
}

export type WorkerMessage =
  | { type: 'batch'; batch: EncodedBatch; dictAdds: string[]; rejects: Reject[]; bytes: number }
  | { type: 'rejects'; rejects: Reject[]; bytes: number }
  | { type: 'columns'; columns: ColumnsInfo }
  | { type: 'end'; rejects: Reject[]; bytes: number }
  | { type: 'error'; error: MillwrightErrorJSON; rejects: Reject[] };

const port = parentPort;
if (port) {
  const input = workerData as WorkerInput;
  let credits = input.credits;
  let wake: (() => void) | undefined;
  port.on('message', (m) => {
    if (m === 'more') {
      credits++;
      wake?.();
    }
  });
  let rejects: Reject[] = [];
  let bytes = 0;
  let lastPost = 0;
  const post = (msg: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
  const run = async () => {
    let sent = 0;
    try {
      const batches = readInput(input.path, input.format, {
        source: input.path,
        batchRows: input.batchRows,
        site: input.site,
        timezone: input.timezone,
        ambiguous: input.ambiguous,
        wide: input.wide,
        onColumns: (columns) => post({ type: 'columns', columns }),
        onReject: (r) => {
          rejects.push(r);
          if (rejects.length >= 1000) {
            post({ type: 'rejects', rejects, bytes });
            rejects = [];
          }
        },
        onBytes: (b) => {
          bytes = b;
          const now = Date.now();
          if (now - lastPost > 250) {
            lastPost = now;
            post({ type: 'rejects', rejects, bytes });
            rejects = [];
          }
        },
      });
      for await (const { batch, dict } of batches) {
        while (credits <= 0) await new Promise<void>((r) => (wake = r));
        credits--;
        const dictAdds = dict.slice(sent, batch.dictSize);
        sent = batch.dictSize;
        const transfer = [batch.ts, batch.value, batch.site, batch.asset, batch.signal, batch.quality]
          .filter((a) => a !== undefined)
          .map((a) => a.buffer as ArrayBuffer);
        post({ type: 'batch', batch, dictAdds, rejects, bytes }, [...new Set(transfer)]);
        rejects = [];
      }
      post({ type: 'end', rejects, bytes });
    } catch (err) {
      // A missing file is the caller's mistake, not a crash; the path is only known here.
      const e = (err as { code?: unknown }).code === 'ENOENT' ? new MillwrightError('BAD_INPUT', `${input.path}: no such file`) : MillwrightError.from(err);
      post({ type: 'error', error: e.toJSON(), rejects });
    }
  };
  void run();
}
