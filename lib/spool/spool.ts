import { open, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ReadingBatch } from '../readings/index.ts';
import { isErrorCode, MillwrightError } from '../errors/index.ts';
import { acquireLock, fsyncDir, mkdirDurable, processAlive, readdirIfExists, type LockHolder } from '../durable/index.ts';
import { encodeSegment, HEADER_BYTES, segmentRows, type SegmentMeta } from './format.ts';

/** What {@link appendToSpool} acknowledged. */
export interface SpoolAck {
  /** Absolute path of the new, durable segment. */
  segment: string;
  rows: number;
}

let counter = 0;

/**
 * Appends a batch to the spool durably, then acknowledges it: the segment is written to a
 * hidden temp file in the spool directory, fsynced, renamed to `seg-<time>-<pid>-<n>-<random>.spool`
 * and the directory fsynced. Only when this promise resolves is the batch acknowledged; a crash
 * before that leaves at most a `.tmp-*` file, which recovery ignores and removes. Every segment
 * also carries a length and a CRC-32, so a torn or damaged segment is detected, never flushed.
 *
 * @example
 * const ack = await appendToSpool('/var/spool/millwright', batch); // { segment: '…/seg-….spool', rows: 500 }
 */
export async function appendToSpool(dir: string, batch: ReadingBatch, meta: SegmentMeta = {}): Promise<SpoolAck> {
  const root = resolve(dir);
  await mkdirDurable(root);
  const bytes = encodeSegment(batch, { spooledAt: new Date().toISOString(), ...meta });
  const n = ++counter;
  const tmp = join(root, `.tmp-${process.pid}-${n}-${randomBytes(4).toString('hex')}.part`);
  // Time first (flush order), then pid, counter and randomness: unique across processes and threads.
  const name = `seg-${String(Date.now()).padStart(14, '0')}-${String(process.pid).padStart(7, '0')}-${String(n).padStart(8, '0')}-${randomBytes(3).toString('hex')}.spool`;
  const segment = await publishSpoolFile(root, tmp, name, bytes);
  return { segment, rows: batch.ts.length };
}

/**
 * Writes `bytes` to the spool temp file `tmp` (exclusive create, fsync), renames it to `name` and
 * fsyncs the folder: the one way anything enters a spool, so a crash leaves at most a `.tmp-*`
 * file that {@link recoverSpool} removes, never a half file under its final name.
 */
export async function publishSpoolFile(root: string, tmp: string, name: string, bytes: Uint8Array): Promise<string> {
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  const file = join(root, name);
  await rename(tmp, file);
  await fsyncDir(root);
  return file;
}

/** Acknowledged segments in the spool, oldest first (absolute paths). */
export async function listSegments(dir: string): Promise<string[]> {
  const names = await readdirIfExists(dir);
  return names
    .filter((f) => f.startsWith('seg-') && f.endsWith('.spool'))
    .sort()
    .map((f) => join(resolve(dir), f));
}

/**
 * Removes temp files left by writers that died mid-append (their data was never acknowledged).
 * Temp files of live processes are left alone. Returns the removed paths.
 */
export async function recoverSpool(dir: string): Promise<string[]> {
  const names = await readdirIfExists(dir);
  const removed: string[] = [];
  for (const f of names) {
    const m = /^\.tmp-(\d+)-/.exec(f);
    // Our own temp files may belong to an append still in flight in this process.
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    await unlink(join(dir, f)).catch(() => {});
    removed.push(join(dir, f));
  }
  return removed;
}

/** What is waiting in a spool. */
export interface SpoolStatus {
  segments: number;
  rows: number;
  bytes: number;
}

/** Counts the acknowledged segments and readings waiting in the spool (reads only the headers). */
export async function spoolStatus(dir: string): Promise<SpoolStatus> {
  const out: SpoolStatus = { segments: 0, rows: 0, bytes: 0 };
  for (const seg of await listSegments(dir)) {
    try {
      const fh = await open(seg, 'r');
      try {
        const head = Buffer.alloc(HEADER_BYTES + 4);
        const { bytesRead } = await fh.read(head, 0, head.length, 0);
        out.rows += segmentRows(head.subarray(0, bytesRead)) ?? 0;
        out.bytes += (await fh.stat()).size;
        out.segments++;
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return out;
}

/**
 * Takes the spool's flush lock (`.flush.lock`) so two flushers never race on one spool; a second
 * flusher fails at once with CONFLICT. A lock left by a dead process is taken over, and so is one
 * holding this process's own pid: the spool outlives container restarts, after which the new
 * process often has the dead one's pid. Returns the release function.
 */
export async function lockSpool(dir: string): Promise<() => Promise<void>> {
  const root = resolve(dir);
  await mkdirDurable(root);
  try {
    return await acquireLock(join(root, '.flush.lock'), { wait: false, staleMs: false, ownPidIsStale: true, singleHost: true });
  } catch (err) {
    const holder = isErrorCode(err, 'CONFLICT') ? (err.details?.holder as LockHolder | undefined) : undefined;
    if (holder?.pid === undefined) throw err;
    throw new MillwrightError('CONFLICT', `another flush (pid ${holder.pid}) is running on spool ${root}; wait for it or stop it`, { cause: err, details: { holder } });
  }
}
