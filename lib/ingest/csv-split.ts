import { open } from 'node:fs/promises';
import { MillwrightError } from '../errors/index.ts';
import { startWorker } from '../workers/index.ts';
import { BatchBuilder, type EncodedBatch } from './batch-builder.ts';
import { csvSliceParser, type ReadOptions } from './csv.ts';
import type { WorkerInput, WorkerMessage } from './parse-worker.ts';

/**
 * A long-form CSV file parsed by several worker threads at once (two by default): the file after
 * its header is cut into slices at line starts, the workers take turns at the slices, and the slices' rows are joined
 * again in file order here, so the batches, line numbers, rejects and store files are those of
 * one parser reading the file from the start. Why: parsing is the larger half of an ingest's
 * work (about 2.3M readings/s a core) and the store writer the smaller; two parsers and the
 * writer keep two cores busy.
 */

/** Where the rows of a CSV file start, and the slices of the rest. */
export interface CsvSplitPlan {
  /** The header line's text. */
  header: string;
  /** Lines up to and including the header (blank lines before it count). */
  headerLines: number;
  /** Byte offset of the first line after the header. */
  dataStart: number;
  slices: { index: number; start: number; end: number }[];
}

/** How much of the file's start is read to find the header and the typical line length. */
const HEAD_BYTES = 1 << 20;

/**
 * Plans the split parse of `path` (`size` bytes): the header (the first non-blank line, after a
 * byte-order mark) and slices of about `batchRows` lines each (at least 64 KiB, at most 64 MiB),
 * each starting at the beginning of a line. Undefined when the first MiB holds no complete header
 * line: the one-parser path then reads the file and reports what is wrong with it.
 */
export async function planCsvSplit(path: string, size: number, batchRows: number): Promise<CsvSplitPlan | undefined> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, HEAD_BYTES));
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const buf = head.subarray(0, bytesRead);
    let pos = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    let headerLines = 0;
    let header: string | undefined;
    while (pos < buf.length) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0) return undefined;
      headerLines++;
      let le = nl;
      if (le > pos && buf[le - 1] === 13) le--;
      const line = buf.toString('utf8', pos, le);
      pos = nl + 1;
      if (line.trim() !== '') {
        header = line;
        break;
      }
    }
    if (header === undefined) return undefined;
    const dataStart = pos;
    // Typical line length from the lines that follow the header.
    let lines = 0;
    let at = dataStart;
    while (lines < 1000) {
      const nl = buf.indexOf(10, at);
      if (nl < 0) break;
      lines++;
      at = nl + 1;
    }
    const lineBytes = lines > 0 ? (at - dataStart) / lines : 64;
    const sliceBytes = Math.min(64 << 20, Math.max(64 << 10, Math.round(lineBytes * batchRows)));
    const slices: CsvSplitPlan['slices'] = [];
    let start = dataStart;
    const window = Buffer.alloc(64 << 10);
    while (start < size) {
      let end = size;
      // The slice ends after the first newline at or past its nominal end.
      for (let probe = start + sliceBytes; probe < size; ) {
        const { bytesRead: got } = await fh.read(window, 0, window.length, probe);
        if (got <= 0) break;
        const nl = window.subarray(0, got).indexOf(10);
        if (nl >= 0) {
          end = probe + nl + 1;
          break;
        }
        probe += got;
      }
      slices.push({ index: slices.length, start, end });
      start = end;
    }
    return { header, headerLines, dataStart, slices };
  } finally {
    await fh.close();
  }
}

/** Worker input shared by both parsers (everything but their slices). */
export type SplitWorkerInput = Omit<WorkerInput, 'split' | 'credits'>;

type Queued = WorkerMessage | { type: 'crash'; error: Error };

/** One parse worker and the messages it has sent that are not consumed yet. */
class SliceWorker {
  readonly queue: Queued[] = [];
  private wake: (() => void) | undefined;
  /** This worker's dictionary id -> the joined dictionary's id. */
  map = new Int32Array(64);
  mapped = 0;
  bytes = 0;
  readonly worker;

  constructor(data: WorkerInput) {
    this.worker = startWorker(new URL('./parse-worker.ts', import.meta.url), data);
    const push = (m: Queued) => {
      this.queue.push(m);
      this.wake?.();
    };
    this.worker.on('message', (m: WorkerMessage) => push(m));
    this.worker.on('error', (error) => push({ type: 'crash', error }));
    this.worker.on('exit', (code) => push({ type: 'crash', error: new Error(`parse worker exited with code ${code}`) }));
  }

  async next(): Promise<Queued> {
    while (this.queue.length === 0) await new Promise<void>((r) => (this.wake = r));
    return this.queue.shift()!;
  }
}

/**
 * Parses the CSV file `plan` describes on `parsers` worker threads and yields its batches in file
 * order, exactly as the one-parser path cuts them (`readOpts.batchRows` rows, line ranges from
 * the file's first line), names as ids into one joined dictionary. Rejects reach
 * `readOpts.onReject` in line order with their line numbers in the file.
 */
export async function* parseCsvSplit(plan: CsvSplitPlan, parsers: number, data: SplitWorkerInput, readOpts: ReadOptions): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  const batchRows = data.batchRows;
  csvSliceParser(plan.header, readOpts); // a bad header (or --site) fails here, as with one parser, before any worker starts
  const n = Math.max(1, Math.min(parsers, plan.slices.length));
  const split = (w: number) => ({ header: plan.header, slices: plan.slices.filter((s) => s.index % n === w) });
  // Two batches ahead each: a worker finishes the slice it is on (about one batch) while its
  // next slice waits for the writer.
  const workers = Array.from({ length: n }, (_, w) => new SliceWorker({ ...data, credits: 2, split: split(w) }));
  const names: string[] = [];
  const ids = new Map<string, number>();
  // The joined batch: fresh arrays each time, handed to the writer whole; its own dictionary stays empty.
  const joined = new BatchBuilder(batchRows);
  let lineOffset = plan.headerLines;
  const forward = (rejects: readonly { line: number }[] | undefined) => {
    for (const r of rejects ?? []) readOpts.onReject({ ...(r as Parameters<ReadOptions['onReject']>[0]), line: r.line + lineOffset });
  };
  try {
    for (const slice of plan.slices) {
      const w = workers[slice.index % n]!;
      for (;;) {
        const m = await w.next();
        if (m.type === 'crash') throw m.error;
        forward('rejects' in m ? m.rejects : undefined);
        if ('bytes' in m) {
          w.bytes = m.bytes;
          readOpts.onBytes?.(workers.reduce((sum, x) => sum + x.bytes, plan.dataStart));
        }
        if (m.type === 'error') throw MillwrightError.fromJSON(m.error);
        if (m.type === 'slice-end') {
          lineOffset += m.lines;
          break;
        }
        if (m.type !== 'batch') continue;
        for (const name of m.dictAdds) {
          let id = ids.get(name);
          if (id === undefined) {
            id = names.length;
            ids.set(name, id);
            names.push(name);
          }
          if (w.mapped === w.map.length) {
            const grown = new Int32Array(w.map.length * 2);
            grown.set(w.map);
            w.map = grown;
          }
          w.map[w.mapped++] = id;
        }
        w.worker.postMessage('more');
        const piece = m.batch;
        for (let from = 0; from < piece.ts.length; ) {
          const to = Math.min(piece.ts.length, from + batchRows - joined.length);
          joined.appendMapped(piece, from, to, w.map, lineOffset);
          from = to;
          if (joined.length === batchRows) yield { batch: joined.takeEncoded(readOpts.source, names.length)!, dict: names };
        }
      }
    }
    const last = joined.takeEncoded(readOpts.source, names.length);
    if (last) yield { batch: last, dict: names };
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
}
