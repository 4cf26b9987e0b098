import { readFile, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ReadingBatch } from '../readings/index.ts';
import { MillwrightError, isErrorCode } from '../errors/index.ts';
import { writeReadings } from '../store/index.ts';
import { decodeSegment } from './format.ts';
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

function concat(batches: ReadingBatch[]): ReadingBatch {
  if (batches.length === 1) return batches[0];
  const n = batches.reduce((s, b) => s + b.ts.length, 0);
  // Preallocated and filled by index: pushing 3 strings per reading cost ~1 s per 1M readings.
  const out: ReadingBatch = { ts: new Float64Array(n), value: new Float64Array(n), site: new Array<string>(n), asset: new Array<string>(n), signal: new Array<string>(n) };
  const anyQuality = batches.some((b) => b.quality);
  if (anyQuality) out.quality = new Uint8Array(n);
  let o = 0;
  for (const b of batches) {
    out.ts.set(b.ts, o);
    out.value.set(b.value, o);
    if (out.quality && b.quality) out.quality.set(b.quality, o);
    for (let i = 0; i < b.ts.length; i++) {
      out.site[o + i] = b.site[i];
      out.asset[o + i] = b.asset[i];
      out.signal[o + i] = b.signal[i];
    }
    o += b.ts.length;
  }
  return out;
}

/**
 * Moves spooled segments into the store: reads up to `maxRows` readings' worth of segments,
 * writes them with `writeReadings` (durable when it resolves), and only then deletes those
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
  try {
    result.recovered = (await recoverSpool(opts.spool)).length;
    let segments = await listSegments(opts.spool);
    if (opts.destinations?.length) segments = await resumePending(opts, segments, result);
    let i = 0;
    while (i < segments.length) {
      const group: { path: string; batch: ReadingBatch }[] = [];
      let rows = 0;
      while (i < segments.length && (group.length === 0 || rows < maxRows)) {
        const path = segments[i++];
        let buf: Buffer;
        try {
          buf = await readFile(path);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
          throw err;
        }
        const seg = decodeSegment(buf);
        if ('torn' in seg) {
          await rename(path, `${path}.corrupt`);
          result.quarantined.push(`${path}.corrupt`);
          opts.log?.(`spool segment ${basename(path)} is damaged (${seg.torn}); set aside as ${basename(path)}.corrupt`);
          continue;
        }
        group.push({ path, batch: seg.batch });
        rows += seg.batch.ts.length;
      }
      if (group.length === 0) continue;
      await writeGroup(opts, group, result);
    }
    if (result.segments > 0 || result.quarantined.length > 0) await fsyncDir(opts.spool);
    return result;
  } finally {
    await release();
  }
}

async function writeGroup(opts: FlushOptions, group: { path: string; batch: ReadingBatch }[], result: FlushResult): Promise<void> {
  let written;
  try {
    written = await writeReadings(opts.store, concat(group.map((g) => g.batch)));
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
  // The store write is durable (fsynced file and directory): now the segments may go.
  for (const g of group) {
    await unlink(g.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  result.segments += group.length;
  result.rows += written.rows;
  result.files += written.files.length;
  opts.onWrite?.({ segments: group.map((g) => g.path), rows: written.rows, files: written.files });
  if (landed) await settleBatch(opts.spool, landed);
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
      for (const p of left) {
        await unlink(p).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
        claimed.add(p);
      }
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
  const batches: ReadingBatch[] = [];
  for (const p of left) {
    const seg = decodeSegment(await readFile(p));
    if ('torn' in seg) return batch; // cannot rebuild; the delivery reports the missing file
    batches.push(seg.batch);
  }
  const written = await writeReadings(opts.store, concat(batches));
  const byPartition = new Map(written.files.map((f) => [basename(join(f, '..', '..')) + '/' + basename(join(f, '..')), f]));
  const files = batch.files.map((f, i) => (missing[i] ? { ...f, path: byPartition.get(f.rel.split('/').slice(0, 2).join('/')) ?? f.path } : f));
  return { ...batch, files };
}
