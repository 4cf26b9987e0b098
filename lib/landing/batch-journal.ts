import { open, readFile, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { basename, join, relative, resolve, sep } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { mkdirDurable, readdirIfExists, uniqueId, writeFileAtomic } from '../durable/index.ts';

/** One store file of a batch and its path relative to the store root (`site=a/date=2024-03-01/part-….parquet`). */
export interface LandingFile {
  path: string;
  rel: string;
}

/**
 * A flushed batch: spool segments written to the local store as `files`, waiting for every
 * destination to confirm them. Recorded durably in `<spool>/.landing/` before anything is sent,
 * so a retry after an outage or a crash sends the same files under the same object names.
 */
export interface LandingBatch {
  id: string;
  /** Store root (absolute). */
  store: string;
  /** Segment file names (in the spool directory). */
  segments: string[];
  files: LandingFile[];
  rows: number;
}

/** What one destination did with a batch. */
export interface DeliveryResult {
  /** Files sent and confirmed now. */
  sent: number;
  /** Files confirmed by an earlier attempt (not sent again). */
  skipped: number;
  bytes: number;
}

/** A file a destination confirmed: its size and MD5 (hex) as the destination acknowledged them. */
export interface Confirmation {
  rel: string;
  size: number;
  md5: string;
}

/** The durable record of what one destination confirmed for one batch (an append-only, fsynced journal). */
export interface ConfirmJournal {
  /** Files confirmed so far, by `rel`. */
  confirmed(): Promise<Map<string, Confirmation>>;
  /** Records one confirmation durably (appended and fsynced before it resolves). */
  confirm(c: Confirmation): Promise<void>;
}

/**
 * Somewhere a flushed batch must land before its spool segments may be deleted, such as
 * {@link forwardToS3}. `deliver` is retried with the same batch after a failure or a crash, so it
 * must be idempotent per file: skip what `journal` holds, overwrite the same name otherwise.
 */
export interface LandingDestination {
  /** For messages and the journal's name (`s3://bucket/prefix at http://host:port`); never holds a credential. */
  readonly name: string;
  deliver(batch: LandingBatch, journal: ConfirmJournal): Promise<DeliveryResult>;
}

const DIR = '.landing';

function landingDir(spool: string): string {
  return join(resolve(spool), DIR);
}

function destKey(d: LandingDestination): string {
  return createHash('sha256').update(d.name).digest('hex').slice(0, 16);
}

/** Store-relative path with `/` separators; refuses a file outside the store. */
function relOf(store: string, path: string): string {
  const rel = relative(store, path);
  if (rel.startsWith('..') || rel === '') throw new MillwrightError('INTERNAL', `store file ${path} is not inside the store ${store}`);
  return rel.split(sep).join('/');
}

/** Records a batch durably (before any destination sees it) and returns it. */
export async function recordBatch(spool: string, store: string, segments: readonly string[], files: readonly string[], rows: number): Promise<LandingBatch> {
  const root = resolve(store);
  const batch: LandingBatch = {
    id: uniqueId(),
    store: root,
    segments: segments.map((s) => basename(s)),
    files: files.map((f) => ({ path: resolve(f), rel: relOf(root, resolve(f)) })),
    rows,
  };
  const dir = landingDir(spool);
  await mkdirDurable(dir);
  await writeFileAtomic(join(dir, `${batch.id}.batch.json`), JSON.stringify(batch));
  return batch;
}

/** Batches recorded by an earlier flush and not settled (oldest first). Unreadable records (torn: never acted on) are removed. */
export async function pendingBatches(spool: string): Promise<LandingBatch[]> {
  const dir = landingDir(spool);
  const out: LandingBatch[] = [];
  for (const name of (await readdirIfExists(dir)).filter((n) => n.endsWith('.batch.json')).sort()) {
    try {
      const b = JSON.parse(await readFile(join(dir, name), 'utf8')) as LandingBatch;
      if (typeof b.id === 'string' && Array.isArray(b.segments) && Array.isArray(b.files)) out.push(b);
    } catch {
      await unlink(join(dir, name)).catch(() => undefined);
    }
  }
  return out;
}

function journalOf(spool: string, batch: LandingBatch, d: LandingDestination): ConfirmJournal {
  const file = join(landingDir(spool), `${batch.id}.${destKey(d)}.ok`);
  // Group commit: confirmations that arrive while an fsync is in flight are written and fsynced
  // together by the next round, so N uploads in flight cost far fewer than N fsyncs.
  const queue: { line: string; resolve: () => void; reject: (err: unknown) => void }[] = [];
  let running = false;
  const drain = async (): Promise<void> => {
    running = true;
    while (queue.length > 0) {
      const round = queue.splice(0);
      try {
        const fh = await open(file, 'a');
        try {
          await fh.write(round.map((q) => `\n${q.line}\n`).join(''));
          await fh.sync();
        } finally {
          await fh.close();
        }
        for (const q of round) q.resolve();
      } catch (err) {
        for (const q of round) q.reject(err);
      }
    }
    running = false;
  };
  return {
    async confirmed() {
      const map = new Map<string, Confirmation>();
      const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return '';
        throw err;
      });
      for (const line of text.split('\n')) {
        try {
          const c = JSON.parse(line) as Confirmation;
          if (typeof c.rel === 'string') map.set(c.rel, c);
        } catch {
          // A torn last line (killed mid-append) was never a confirmation.
        }
      }
      return map;
    },
    confirm(c) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ line: JSON.stringify(c), resolve, reject });
        if (!running) void drain();
      });
    },
  };
}

/**
 * Hands the batch to every destination (side by side) and resolves when all confirmed every
 * file. A destination that fails makes this reject with UNAVAILABLE naming it; what the others
 * confirmed stays recorded, so the retry sends only the rest.
 */
export async function deliverBatch(spool: string, batch: LandingBatch, destinations: readonly LandingDestination[]): Promise<{ name: string; result: DeliveryResult }[]> {
  const settled = await Promise.allSettled(destinations.map((d) => d.deliver(batch, journalOf(spool, batch, d))));
  const failed = settled.map((s, i) => ({ s, d: destinations[i] })).filter((x) => x.s.status === 'rejected');
  if (failed.length > 0) {
    const why = failed.map((f) => `${f.d.name}: ${((f.s as PromiseRejectedResult).reason as Error).message}`).join('; ');
    const first = (failed[0].s as PromiseRejectedResult).reason as unknown;
    const code = first instanceof MillwrightError && first.code === 'INTEGRITY' ? 'INTEGRITY' : 'UNAVAILABLE';
    throw new MillwrightError(code, `batch of ${batch.rows} readings (${batch.files.length} file(s)) not confirmed by ${why}; the spool keeps every reading and the next flush resumes it`);
  }
  return settled.map((s, i) => ({ name: destinations[i].name, result: (s as PromiseFulfilledResult<DeliveryResult>).value }));
}

/** Removes a batch's record and journals once its segments are deleted. */
export async function settleBatch(spool: string, batch: LandingBatch): Promise<void> {
  const dir = landingDir(spool);
  for (const name of await readdirIfExists(dir)) {
    if (name.startsWith(`${batch.id}.`) && name !== `${batch.id}.batch.json`) await unlink(join(dir, name)).catch(() => undefined);
  }
  // The record goes last: while it exists, a crash here is resumed (and finds nothing to send).
  // No fsync: a record that comes back after a power cut names deleted segments only, and the
  // next flush settles it again without sending anything.
  await unlink(join(dir, `${batch.id}.batch.json`)).catch(() => undefined);
}
