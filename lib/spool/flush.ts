import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { readFile, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MillwrightError, isErrorCode } from '../errors/index.ts';
import { writeChunks } from '../store/write-chunks.ts';
import { openSegment, segmentChunk, type OpenSegment } from './format.ts';
import { fsyncDir } from '../durable/index.ts';
import { listSegments, lockSpool, recoverSpool } from './spool.ts';
import { deliverBatch, pendingBatches, recordBatch, settleBatch, type LandingDestination, type LandingBatch } from '../landing/index.ts';

/** Options of {@link flushSpool}. */
export interface FlushOptions {
  /** Spool directory. */
  spool: string;
  /** Store root. */
  store: string;
  /** Segments are merged into store writes of up to this many readings (default 1,000,000). */
  maxRows?: number;
  /** Receives one line per notable event (quarantined segments). */
  log?: (line: string) => void;
  /** Called after each durable store write (tests use it to observe progress). */
  onWrite?: (info: { segments: string[]; rows: number; files: string[] }) => void;
  /**
   * Destinations (e.g. `forwardToS3(...)`) that must each confirm a batch's store files before
   * its segments are deleted. A batch is recorded in `<spool>/.landing/` first, so after an
   * outage or a crash the next flush resumes the same batch (same files, same object names)
   * before taking new segments, and sends only what was not confirmed.
   */
  destinations?: readonly LandingDestination[];
  /** Called after a batch was confirmed by every destination. */
  onDeliver?: (info: { batch: LandingBatch; results: { name: string; sent: number; skipped: number; bytes: number }[] }) => void;
}

/** What {@link flushSpool} moved. */
export interface FlushResult {
  /** Segments written to the store and deleted from the spool. */
  segments: number;
  rows: number;
  /** Parquet files written. */
  files: number;
  /** Segments found torn or corrupt and set aside as `*.corrupt` (never deleted). */
  quarantined: string[];
  /** Abandoned temp files of dead writers that were removed (never acknowledged data). */
  recovered: number;
}

/**
 * Moves spooled segments into the store: reads up to `maxRows` readings' worth of segments,
 * writes them with the store's writer straight from the segments' bytes (each segment's name
 * dictionary passed through: no string per row, no joined copy; durable when it resolves), and
 * only then deletes those
 * segments. Delivery is at-least-once: a crash after the store write and before the deletes
 * writes the same readings again on the next flush, and `millwright compact` removes the
 * duplicates (same site, asset, signal, ts). Torn or corrupt segments are renamed to
 * `*.corrupt` and reported, never deleted. Store failures (missing or unwritable destination)
 * reject with UNAVAILABLE and leave the spool untouched.
 *
 * @example
 * const r = await flushSpool({ spool: '.millwright/spool', store: '.millwright/store' });
 * console.log(`${r.rows} readings from ${r.segments} segments`);
 */
export async function flushSpool(opts: FlushOptions): Promise<FlushResult> {
  const maxRows = opts.maxRows ?? 1_000_000;
  const release = await lockSpool(opts.spool);
  const result: FlushResult = { segments: 0, rows: 0, files: 0, quarantined: [], recovered: 0 };
  const { arena, release: releaseArena } = takeArena();
  try {
    result.recovered = (await recoverSpool(opts.spool)).length;
    let segments = await listSegments(opts.spool);
    if (opts.destinations?.length) segments = await resumePending(opts, segments, result);
    let i = 0;
    while (i < segments.length) {
      const group: { path: string; seg: OpenSegment }[] = [];
      let rows = 0;
      arena.reset(); // the last group's views are done with: its write is durable
      while (i < segments.length && (group.length === 0 || rows < maxRows)) {
        const path = segments[i++];
        const buf = arena.read(path);
        if (!buf) continue;
        const seg = openSegment(buf);
        if ('torn' in seg) {
          await rename(path, `${path}.corrupt`);
          result.quarantined.push(`${path}.corrupt`);
          opts.log?.(`spool segment ${basename(path)} is damaged (${seg.torn}); set aside as ${basename(path)}.corrupt`);
          continue;
        }
        group.push({ path, seg });
        rows += seg.rows;
      }
      if (group.length === 0) continue;
      await writeGroup(opts, group, result);
    }
    if (result.segments > 0 || result.quarantined.length > 0) await fsyncDir(opts.spool);
    return result;
  } finally {
    releaseArena();
    await release();
  }
}

/**
 * Where a flush reads its segments: one buffer, reused by the next group and the next flush,
 * each segment at an 8-byte-aligned offset so its columns are read in place (see
 * `segmentChunk`). A fresh buffer per segment (readFileSync) was a hundred ~290 KB external
 * allocations a flush, each counted by V8 towards its next collection. Taken by one flush at a
 * time (`busy`); a second flush in the same process (another spool) reads into its own.
 */
class SegmentArena {
  private buf = Buffer.allocUnsafe(0);
  private used = 0;
  busy = false;

  /** Starts a group: the bytes handed out before are no longer used. */
  reset(): void {
    this.used = 0;
  }

  /**
   * A segment's bytes, or undefined when it is gone (ENOENT). Read synchronously on purpose: a
   * segment comes from the page cache in about 0.1 ms, while a thread-pool round trip per file
   * (open, stat, read, close) costs 0.3-1 ms of wall time and more CPU under load, and the store
   * write that follows holds the event loop far longer (the Parquet encode) anyway.
   */
  read(path: string): Buffer | undefined {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const size = fstatSync(fd).size;
      let at = (this.used + 7) & ~7;
      if (at + size > this.buf.length) {
        // Views handed out earlier in this group keep the old buffer alive; new reads go here.
        this.buf = Buffer.allocUnsafe(Math.max(size, 2 * this.buf.length, 1 << 20));
        at = 0;
      }
      let got = 0;
      while (got < size) {
        const n = readSync(fd, this.buf, at + got, size - got, got);
        if (n === 0) break;
        got += n;
      }
      this.used = at + got;
      return this.buf.subarray(at, at + got);
    } finally {
      closeSync(fd);
    }
  }
}

const shared = new SegmentArena();

/** The shared arena when no other flush in this process holds it, else a fresh one for this flush. */
function takeArena(): { arena: SegmentArena; release: () => void } {
  if (shared.busy) return { arena: new SegmentArena(), release: () => {} };
  shared.busy = true;
  return {
    arena: shared,
    release: () => {
      shared.reset();
      shared.busy = false;
    },
  };
}

async function writeGroup(opts: FlushOptions, group: { path: string; seg: OpenSegment }[], result: FlushResult): Promise<void> {
  let written;
  try {
    written = await writeChunks(opts.store, group.map((g) => segmentChunk(g.seg)));
  } catch (err) {
    if (isErrorCode(err, 'BAD_INPUT')) {
      // Cannot happen for segments spooled by millwright (rows are validated before spooling),
      // but one bad segment must not block the spool forever: find it and set it aside.
      if (group.length > 1) {
        for (const g of group) await writeGroup(opts, [g], result);
        return;
      }
      const path = group[0].path;
      await rename(path, `${path}.corrupt`);
      result.quarantined.push(`${path}.corrupt`);
      opts.log?.(`spool segment ${basename(path)} was refused by the store (${(err as Error).message}); set aside as ${basename(path)}.corrupt`);
      return;
    }
    throw new MillwrightError('UNAVAILABLE', `store ${opts.store} is not writable (${(err as Error).message}); the spool keeps every reading`, { cause: err });
  }
  // Every destination confirms before a segment goes (the batch is recorded first, see resumePending).
  const landed = opts.destinations?.length ? await recordBatch(opts.spool, opts.store, group.map((g) => g.path), written.files, written.rows) : undefined;
  if (landed) await deliver(opts, landed);
  // The store write is durable (fsynced file and directory): now the segments may go, several
  // unlinks in flight (one at a time, 100 segments cost 0.1-0.5 s of metadata writes under load).
  await removeSegments(group.map((g) => g.path));
  result.segments += group.length;
  result.rows += written.rows;
  result.files += written.files.length;
  opts.onWrite?.({ segments: group.map((g) => g.path), rows: written.rows, files: written.files });
  if (landed) await settleBatch(opts.spool, landed);
}

/**
 * Deletes segments (already gone is fine), up to 16 unlinks in flight. Not synchronously: an
 * unlink of a freshly fsynced segment can wait on the file system's journal (100 of them took
 * 57-100 ms on the main thread here, against 15-18 ms of wall time sixteen at a time).
 */
async function removeSegments(paths: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const p = paths[next++];
      await unlink(p).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, paths.length) }, worker));
}

async function deliver(opts: FlushOptions, batch: LandingBatch): Promise<void> {
  const results = await deliverBatch(opts.spool, batch, opts.destinations!);
  opts.onDeliver?.({ batch, results: results.map((r) => ({ name: r.name, ...r.result })) });
}

/**
 * Finishes the batches an earlier flush recorded but did not settle: delivers them (each
 * destination skips what it confirmed), deletes their segments, and returns the segments left
 * for new batches. A batch whose segments are all gone was confirmed everywhere already.
 */
async function resumePending(opts: FlushOptions, segments: string[], result: FlushResult): Promise<string[]> {
  const claimed = new Set<string>();
  const present = new Set(segments);
  for (const batch of await pendingBatches(opts.spool)) {
    const left = batch.segments.map((s) => join(opts.spool, s)).filter((p) => present.has(p));
    if (left.length > 0) {
      await deliver(opts, await restoreFiles(opts, batch, left));
      await removeSegments(left);
      for (const p of left) claimed.add(p);
      result.segments += left.length;
      result.rows += batch.rows;
      result.files += batch.files.length;
    }
    await settleBatch(opts.spool, batch);
  }
  return segments.filter((p) => !claimed.has(p));
}

/**
 * A recorded store file can vanish before it was sent (`compact` merged it): the batch's
 * segments, still in the spool, are written again and each new file is sent under the recorded
 * name of its partition, so the object name stays the batch's.
 */
async function restoreFiles(opts: FlushOptions, batch: LandingBatch, left: string[]): Promise<LandingBatch> {
  const missing = await Promise.all(batch.files.map((f) => readFile(f.path).then(() => false, () => true)));
  if (!missing.some(Boolean) || left.length !== batch.segments.length) return batch;
  const segments: OpenSegment[] = [];
  for (const p of left) {
    const seg = openSegment(await readFile(p));
    if ('torn' in seg) return batch; // cannot rebuild; the delivery reports the missing file
    segments.push(seg);
  }
  const written = await writeChunks(opts.store, segments.map(segmentChunk));
  const byPartition = new Map(written.files.map((f) => [basename(join(f, '..', '..')) + '/' + basename(join(f, '..')), f]));
  const files = batch.files.map((f, i) => (missing[i] ? { ...f, path: byPartition.get(f.rel.split('/').slice(0, 2).join('/')) ?? f.path } : f));
  return { ...batch, files };
}
