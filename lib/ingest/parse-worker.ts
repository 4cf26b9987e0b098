/**
 * Worker thread that parses one input file and posts encoded batches (typed arrays, transferred
 * without copying) to the ingest loop, so parsing the next batch overlaps writing this one.
 * Flow control: the worker holds at most `credits` unacknowledged batches.
 */
import { createReadStream } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { MillwrightError, type MillwrightErrorJSON } from '../errors/index.ts';
import type { EncodedBatch } from './batch-builder.ts';
import type { Reject } from './reject.ts';
import { readInput, type ReadingsFormat } from './source.ts';
import { csvSliceParser, type ReadOptions } from './csv.ts';
import { readHeadered } from './header-lines.ts';
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
  /**
   * Split parse (csv-split.ts): this worker's slices of a CSV file, in order, and the file's
   * header line. Each slice's lines are numbered from 0; its batches end at the slice's end.
   */
  split?: { header: string; slices: { index: number; start: number; end: number }[] };
}

export type WorkerMessage =
  | { type: 'batch'; batch: EncodedBatch; dictAdds: string[]; rejects: Reject[]; bytes: number; slice?: number }
  | { type: 'rejects'; rejects: Reject[]; bytes: number; slice?: number }
  | { type: 'slice-end'; slice: number; lines: number; rejects: Reject[]; bytes: number }
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
  let slice: number | undefined;
  let bytesBefore = 0; // bytes of this worker's slices already read (split parse)
  const readOpts: ReadOptions = {
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
        post({ type: 'rejects', rejects, bytes, slice });
        rejects = [];
      }
    },
    onBytes: (b) => {
      bytes = bytesBefore + b;
      const now = Date.now();
      if (now - lastPost > 250) {
        lastPost = now;
        post({ type: 'rejects', rejects, bytes, slice });
        rejects = [];
      }
    },
  };
  let sent = 0;
  const send = async (batches: AsyncIterable<{ batch: EncodedBatch; dict: readonly string[] }>) => {
    for await (const { batch, dict } of batches) {
      while (credits <= 0) await new Promise<void>((r) => (wake = r));
      credits--;
      const dictAdds = dict.slice(sent, batch.dictSize);
      sent = batch.dictSize;
      const transfer = [batch.ts, batch.value, batch.site, batch.asset, batch.signal, batch.quality, batch.lines]
        .filter((a) => a !== undefined)
        .map((a) => a.buffer as ArrayBuffer);
      post({ type: 'batch', batch, dictAdds, rejects, bytes, slice }, [...new Set(transfer)]);
      rejects = [];
    }
  };
  const run = async () => {
    try {
      if (input.split) {
        // One parser for all of this worker's slices: one dictionary, sent as it grows.
        const parser = csvSliceParser(input.split.header, readOpts);
        for (const sl of input.split.slices) {
          slice = sl.index;
          parser.line = 0;
          const stream = createReadStream(input.path, { start: sl.start, end: sl.end - 1, highWaterMark: 1 << 20 });
          await send(readHeadered(stream, readOpts, () => parser, '', parser));
          bytesBefore += sl.end - sl.start;
          bytes = bytesBefore;
          post({ type: 'slice-end', slice: sl.index, lines: parser.line, rejects, bytes });
          rejects = [];
        }
      } else {
        await send(readInput(input.path, input.format, readOpts));
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
