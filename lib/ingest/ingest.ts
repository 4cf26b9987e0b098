import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { writeEncodedReadings } from '../store/index.ts';
import { appendToSpool } from '../spool/index.ts';
import { decodeBatch, type EncodedBatch } from './batch-builder.ts';
import { DEFAULT_BATCH_ROWS, type ReadOptions } from './csv.ts';
import type { WorkerInput, WorkerMessage } from './parse-worker.ts';
import type { Reject } from './reject.ts';
import { RejectsFile } from './rejects-file.ts';
import { formatOfPath, readInput, type ReadingsFormat } from './source.ts';
import { parseCsvSplit, planCsvSplit } from './csv-split.ts';
import type { AmbiguousPolicy } from './local-time.ts';
import type { ColumnsInfo, WideOptions } from './wide-columns.ts';
import { startWorker } from '../workers/index.ts';
import { WriterPool } from './write-pool.ts';

/** Options of {@link ingest}. Exactly one of `store` and `spool` is the destination. */
export interface IngestOptions {
  /** Store root to write into (each batch: one atomic Parquet file per touched partition). */
  store?: string;
  /** Spool directory to append to instead (each batch: one fsynced, acknowledged segment). */
  spool?: string;
  /** Site for rows without one (CSV without a `site` column, NDJSON without `site`). */
  site?: string;
  /** Rows per batch (default 500,000). Each batch is one store write or one spool segment. */
  batchRows?: number;
  /** Rejects file (NDJSON). Default: `<parent of store or spool>/rejects/ingest-<time>-<pid>.ndjson`. */
  rejects?: string;
  /** Input format (default `auto`: by extension; stdin by its first character; wide when `wide` is given). */
  format?: ReadingsFormat;
  /** IANA zone that timestamps without a zone are read in (default: such rows are rejected). */
  timezone?: string;
  /** Local times made ambiguous or nonexistent by a DST change: `reject` (default), `earlier` or `later`. */
  ambiguous?: AmbiguousPolicy;
  /** Column mapping of wide inputs (time column, asset, skipped columns, strict). */
  wide?: WideOptions;
  /** Byte stream read for the source `-` (default process.stdin). */
  stdin?: AsyncIterable<Buffer | Uint8Array | string>;
  /**
   * Parse files on a worker thread, overlapping parsing with writing: `true`, `false` or
   * `'auto'` (default: files over 32 MB). stdin is always parsed on the main thread.
   */
  worker?: boolean | 'auto';
  /**
   * Extra store-writer threads. Default 0: batches are written on the main thread while the
   * parse worker(s) read ahead, which already keeps two cores busy; with spare cores, 2+ writers
   * encode batches side by side. The spool is always written from the main thread.
   */
  writers?: number;
  /**
   * Parser threads for a long-form CSV file (`'auto'` by default: 2 for plain CSV files over
   * 64 MiB on a machine with 4+ cores, else 1). With 2 or more, the file is cut into slices that
   * the parsers take in turns; batches, line numbers, rejects and store files are the same as
   * with one. Other formats, gzip and stdin use one parser.
   */
  parsers?: number | 'auto';
  /** Called after each batch is durable (written to the store, or spooled and acknowledged). */
  onBatch?: (commit: BatchCommit) => void;
  /** Called about 4 times a second with progress. */
  onProgress?: (p: IngestProgress) => void;
}

/** One durable batch. */
export interface BatchCommit {
  source: string;
  firstLine: number;
  lastLine: number;
  rows: number;
  /** Store files written (store destination). */
  files: string[];
  /** Spool segment written (spool destination). */
  segment?: string;
}

/** Progress of a running ingest. */
export interface IngestProgress {
  rows: number;
  rejected: number;
  bytesRead: number;
  /** Total input bytes when known (all inputs are plain files). */
  totalBytes?: number;
  seconds: number;
}

/** Per-input outcome. */
export interface SourceSummary {
  source: string;
  rows: number;
  rejected: number;
  /** Set when the input could not be read at all (bad header, missing file). */
  error?: string;
  /** Wide and Parquet inputs: the time column, the signal columns and the columns left out (with why). */
  columns?: ColumnsInfo;
}

/** What {@link ingest} did. */
export interface IngestSummary {
  rowsAccepted: number;
  rowsRejected: number;
  batches: number;
  /** Parquet files written (store) or segments spooled (spool). */
  filesWritten: number;
  seconds: number;
  rowsPerSecond: number;
  /** The rejects file, when any row was rejected. */
  rejectsFile?: string;
  sources: SourceSummary[];
  destination: { kind: 'store' | 'spool'; path: string };
}

/** Default rejects file beside the destination directory. */
export function defaultRejectsPath(destination: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return join(dirname(resolve(destination)), 'rejects', `ingest-${stamp}-${process.pid}.ndjson`);
}

const WORKER_MIN_BYTES = 32 << 20;
const SPLIT_MIN_BYTES = 64 << 20;

/** Parser threads for input `source` of `size` bytes (see {@link IngestOptions.parsers}). */
function parsersFor(source: string, size: number, useWorker: boolean, opts: IngestOptions): number {
  const csv = opts.format === 'csv' || ((opts.format ?? 'auto') === 'auto' && !opts.wide && formatOfPath(source) === 'csv');
  if (!useWorker || !csv || source.endsWith('.gz')) return 1;
  const p = opts.parsers ?? 'auto';
  if (p !== 'auto') return p;
  // On 2 vCPUs (often one core's two hyperthreads) a second parser measured 1-8 % faster for
  // 160 MiB more peak RSS (bench/ingest.bench.ts, 2026-12-03): worth it only with more cores.
  return size >= SPLIT_MIN_BYTES && availableParallelism() >= 4 ? 2 : 1;
}

/**
 * Reads CSV or NDJSON readings from files (or `-` for stdin) and writes them in batches to the
 * store or the spool. Rows that cannot be read (bad timestamp, non-numeric or non-finite value,
 * missing field, unknown column, invalid site/asset name) go to the rejects file and are counted;
 * they never stop the batch. An input that cannot be read at all (no or bad header, missing
 * file) is reported in `sources[].error` and the other inputs still go in.
 *
 * Store writes are atomic per file; a crash mid-ingest leaves whole files only, and running the
 * ingest again then `compact` removes the duplicates. For acknowledged, resumable delivery use
 * the spool (`spool`), then `flushSpool`.
 *
 * @example
 * const s = await ingest(['readings.csv'], { store: '.millwright/store' });
 * console.log(`${s.rowsAccepted} accepted, ${s.rowsRejected} rejected (${s.rejectsFile ?? 'no rejects'})`);
 */
export async function ingest(inputs: string[], opts: IngestOptions): Promise<IngestSummary> {
  if ((opts.store === undefined) === (opts.spool === undefined)) {
    throw new MillwrightError('USAGE', 'ingest needs exactly one destination: a store or a spool');
  }
  if (inputs.length === 0) throw new MillwrightError('USAGE', 'no inputs given (pass files, or - for stdin)');
  if (inputs.filter((i) => i === '-').length > 1) throw new MillwrightError('USAGE', 'stdin (-) can be read only once');
  const batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows < 1) throw new MillwrightError('USAGE', `batch rows must be a positive integer, got ${batchRows}`);
  const destination = opts.store !== undefined ? { kind: 'store' as const, path: resolve(opts.store) } : { kind: 'spool' as const, path: resolve(opts.spool!) };
  const rejects = new RejectsFile(resolve(opts.rejects ?? defaultRejectsPath(destination.path)));
  const started = performance.now();
  const sizes = await Promise.all(inputs.map((i) => (i === '-' ? undefined : stat(i).then((s) => (s.isFile() ? s.size : undefined), () => undefined))));
  const totalBytes = sizes.every((s) => s !== undefined) && !inputs.some((i) => i.endsWith('.gz')) ? sizes.reduce<number>((a, b) => a + (b ?? 0), 0) : undefined;
  const summary: IngestSummary = { rowsAccepted: 0, rowsRejected: 0, batches: 0, filesWritten: 0, seconds: 0, rowsPerSecond: 0, sources: [], destination };
  let bytesBefore = 0;
  let bytesNow = 0;
  let lastProgress = 0;
  const progress = (force = false) => {
    if (!opts.onProgress) return;
    const now = performance.now();
    if (!force && now - lastProgress < 250) return;
    lastProgress = now;
    opts.onProgress({ rows: summary.rowsAccepted, rejected: rejects.count, bytesRead: bytesBefore + bytesNow, totalBytes, seconds: (now - started) / 1000 });
  };

  const nWriters = destination.kind === 'store' ? (opts.writers ?? 0) : 0;
  if (!Number.isInteger(nWriters) || nWriters < 0) throw new MillwrightError('USAGE', `writers must be a non-negative integer, got ${opts.writers}`);
  if (opts.parsers !== undefined && opts.parsers !== 'auto' && !(Number.isInteger(opts.parsers) && opts.parsers >= 1 && opts.parsers <= 16)) {
    throw new MillwrightError('USAGE', `parsers must be 'auto' or an integer from 1 to 16, got ${opts.parsers}`);
  }
  const pool = nWriters > 0 ? new WriterPool(nWriters, destination.path) : undefined;

  const commit = async (enc: EncodedBatch, dict: readonly string[]): Promise<void> => {
    const rows = enc.ts.length;
    const origin = { source: enc.source, firstLine: enc.firstLine, lastLine: enc.lastLine };
    let files: string[] = [];
    let segment: string | undefined;
    if (pool) {
      files = (await pool.write(enc, dict)).files;
      summary.filesWritten += files.length;
    } else if (destination.kind === 'store') {
      // Names stay dictionary ids from the parser to the file: no string array per batch.
      files = (await writeEncodedReadings(destination.path, enc, dict)).files;
      summary.filesWritten += files.length;
    } else {
      segment = (await appendToSpool(destination.path, decodeBatch(enc, dict).batch, origin)).segment;
      summary.filesWritten++;
    }
    summary.rowsAccepted += rows;
    summary.batches++;
    opts.onBatch?.({ ...origin, rows, files, segment });
    progress();
  };

  try {
    for (let k = 0; k < inputs.length; k++) {
      const source = inputs[k];
      const src: SourceSummary = { source, rows: 0, rejected: 0 };
      summary.sources.push(src);
      const onReject = (r: Reject) => {
        rejects.add(r);
        src.rejected++;
      };
      if (source !== '-' && sizes[k] === undefined) {
        src.error = `${source}: no such file (or not a regular file)`;
        continue;
      }
      const useWorker = source !== '-' && (opts.worker === true || ((opts.worker ?? 'auto') === 'auto' && (sizes[k] ?? 0) >= WORKER_MIN_BYTES));
      const readOpts: ReadOptions = {
        source,
        batchRows,
        site: opts.site,
        timezone: opts.timezone,
        ambiguous: opts.ambiguous,
        wide: opts.wide,
        onReject,
        onBytes: (b) => ((bytesNow = b), progress()),
        onColumns: (c) => (src.columns = c),
      };
      const parsers = parsersFor(source, sizes[k] ?? 0, useWorker, opts);
      const plan = parsers > 1 ? await planCsvSplit(source, sizes[k]!, batchRows) : undefined;
      const batches = plan
        ? parseCsvSplit(plan, parsers, { path: source, format: 'csv', batchRows, site: opts.site, timezone: opts.timezone, ambiguous: opts.ambiguous }, readOpts)
        : useWorker
          ? parseInWorker(source, opts.format ?? 'auto', readOpts)
          : parseInThread(source, opts, readOpts);
      // Writes in flight: one per writer thread (at least one), so parsing the next batch
      // overlaps writing this one. The first failure stops the input after in-flight writes settle.
      const limit = Math.max(1, nWriters);
      const inflight = new Set<Promise<void>>();
      let failure: { err: unknown } | undefined;
      try {
        for await (const { batch, dict } of batches) {
          while (inflight.size >= limit && !failure) await Promise.race(inflight);
          if (failure) break;
          src.rows += batch.ts.length;
          const p: Promise<void> = commit(batch, dict).then(
            () => void inflight.delete(p),
            (err: unknown) => {
              inflight.delete(p);
              failure ??= { err };
            },
          );
          inflight.add(p);
        }
      } catch (err) {
        failure ??= { err };
      }
      await Promise.all(inflight);
      if (failure) {
        const err = failure.err;
        if (err instanceof MillwrightError && err.code === 'BAD_INPUT' && !String(err.message).startsWith('--site')) {
          src.error = err.message;
        } else {
          throw err;
        }
      }
      bytesBefore += sizes[k] ?? bytesNow;
      bytesNow = 0;
    }
  } finally {
    summary.rejectsFile = rejects.close();
    await pool?.close();
  }
  summary.rowsRejected = rejects.count;
  summary.seconds = (performance.now() - started) / 1000;
  summary.rowsPerSecond = summary.seconds > 0 ? summary.rowsAccepted / summary.seconds : 0;
  progress(true);
  return summary;
}

type Encoded = { batch: EncodedBatch; dict: readonly string[] };

function parseInThread(source: string, opts: IngestOptions, readOpts: ReadOptions): AsyncGenerator<Encoded> {
  return readInput(source, opts.format ?? 'auto', readOpts, opts.stdin);
}

/** Parses `source` on a worker thread; yields encoded batches, forwards rejects and progress. */
async function* parseInWorker(source: string, format: ReadingsFormat, readOpts: ReadOptions): AsyncGenerator<Encoded> {
  const data: WorkerInput = {
    path: source,
    format,
    batchRows: readOpts.batchRows ?? DEFAULT_BATCH_ROWS,
    site: readOpts.site,
    timezone: readOpts.timezone,
    ambiguous: readOpts.ambiguous,
    wide: readOpts.wide,
    // The worker parses one batch ahead of the one being written: writing is the slower half, so
    // a second batch ahead only held memory (~25 MiB of peak RSS).
    credits: 1,
  };
  const worker = startWorker(new URL('./parse-worker.ts', import.meta.url), data);
  const queue: (WorkerMessage | { type: 'crash'; error: Error })[] = [];
  let wake: (() => void) | undefined;
  const push = (m: WorkerMessage | { type: 'crash'; error: Error }) => {
    queue.push(m);
    wake?.();
  };
  worker.on('message', (m: WorkerMessage) => push(m));
  worker.on('error', (error) => push({ type: 'crash', error }));
  worker.on('exit', (code) => push({ type: 'crash', error: new Error(`parse worker exited with code ${code}`) }));
  const dict: string[] = [];
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const m = queue.shift()!;
      if (m.type === 'crash') throw m.error;
      for (const r of 'rejects' in m ? m.rejects : []) readOpts.onReject(r);
      if ('bytes' in m) readOpts.onBytes?.(m.bytes);
      if (m.type === 'columns') {
        readOpts.onColumns?.(m.columns);
        continue;
      }
      if (m.type === 'error') throw MillwrightError.fromJSON(m.error);
      if (m.type === 'end') return;
      if (m.type === 'batch') {
        for (const s of m.dictAdds) dict.push(s);
        worker.postMessage('more');
        yield { batch: m.batch, dict };
      }
    }
  } finally {
    await worker.terminate();
  }
}
