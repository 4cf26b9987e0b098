import { readFile, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { MillwrightError } from '../errors/index.ts';
import { writeFileAtomic, withLock, mkdirDurable } from '../durable/index.ts';
import { partitionDir, validatePartitionValue } from '../store/index.ts';
import { dayOfDate } from '../store/partition.ts';
import { s3Url, type S3Location } from './s3-client.ts';
import { listParts, type RemotePart } from './list-parts.ts';
import { fetchVerified } from './fetch-verified.ts';
import { mapLimit } from './map-limit.ts';

/** Options of {@link syncFromS3}. */
export interface SyncOptions {
  client: S3Client;
  from: S3Location;
  /** Local store root (created if missing). */
  store: string;
  /** Only these sites. */
  sites?: readonly string[];
  /** First and last UTC date (`YYYY-MM-DD`, inclusive). */
  fromDate?: string;
  toDate?: string;
  /** Downloads in flight (default 4). */
  concurrency?: number;
  /** One line per downloaded or refused object. */
  log?: (line: string) => void;
}

/** What {@link syncFromS3} did. */
export interface SyncResult {
  /** Store files listed after partition pruning. */
  listed: number;
  /** Downloaded, verified and written. */
  downloaded: number;
  /** Already present locally (same name, size and checksum): not downloaded. */
  present: number;
  bytes: number;
  /** Objects that failed verification (or could not be fetched): not written. */
  refused: { key: string; reason: string }[];
  partitionsTotal: number;
  partitionsListed: number;
  requests: number;
}

interface SyncState {
  /** rel → size and ETag of the object the local file was written from. */
  files: Record<string, { size: number; etag: string }>;
}

const STATE_DIR = '.sync';

/**
 * Pulls a landed prefix into a local store so `sql` and `scan` work on it: lists with partition
 * pruning (sites, date range), skips files already present (same name, size and ETag, recorded in
 * `<store>/.sync/`; a file found without a record is checked by its MD5), downloads the rest,
 * verifies each ({@link fetchVerified}) and writes it atomically. A damaged object is refused and
 * listed in `refused`, never written; the rest of the sync goes on. Pull only: nothing local is
 * deleted.
 *
 * @example
 * import { createS3Client, parseS3Url, syncFromS3 } from 'millwright';
 * const client = await createS3Client({ endpoint: 'http://127.0.0.1:8080' });
 * const r = await syncFromS3({ client, from: parseS3Url('s3://plant-lake/raw'), store: './lake', sites: ['north'] });
 * console.log(`${r.downloaded} downloaded, ${r.present} already present`);
 */
export async function syncFromS3(opts: SyncOptions): Promise<SyncResult> {
  const store = resolve(opts.store);
  for (const s of opts.sites ?? []) validatePartitionValue('site', s);
  for (const d of [opts.fromDate, opts.toDate]) if (d !== undefined) validatePartitionValue('date', d);
  if (opts.fromDate && opts.toDate && opts.fromDate > opts.toDate) throw new MillwrightError('USAGE', `--from-date ${opts.fromDate} is after --to-date ${opts.toDate}`);
  await mkdirDurable(store);
  const stateFile = join(store, STATE_DIR, `${createHash('sha256').update(s3Url(opts.from)).digest('hex').slice(0, 16)}.json`);
  return withLock(join(store, STATE_DIR, '.sync.lock'), async () => {
    const state: SyncState = await readFile(stateFile, 'utf8').then((t) => JSON.parse(t) as SyncState, () => ({ files: {} }));
    const listing = await listParts(opts.client, opts.from, {
      sites: opts.sites ? new Set(opts.sites) : undefined,
      fromDay: opts.fromDate ? dayOfDate(opts.fromDate) : undefined,
      toDay: opts.toDate ? dayOfDate(opts.toDate) : undefined,
    });
    const result: SyncResult = {
      listed: listing.parts.length, downloaded: 0, present: 0, bytes: 0, refused: [],
      partitionsTotal: listing.partitionsTotal, partitionsListed: listing.partitionsListed, requests: listing.requests,
    };
    await mapLimit(listing.parts, opts.concurrency ?? 4, async (part) => {
      const local = join(partitionDir(store, part.site, part.date), part.name);
      if (await isPresent(local, part, state)) {
        result.present++;
        return;
      }
      try {
        const { body } = await fetchVerified(opts.client, opts.from.bucket, part);
        await writeFileAtomic(local, body);
        state.files[part.rel] = { size: part.size, etag: part.etag };
        result.downloaded++;
        result.bytes += body.length;
        opts.log?.(`downloaded ${part.rel} (${body.length} bytes)`);
      } catch (err) {
        if (!(err instanceof MillwrightError)) throw err;
        result.refused.push({ key: part.key, reason: err.message });
        opts.log?.(`refused ${part.key}: ${err.message}`);
      }
    });
    await writeFileAtomic(stateFile, JSON.stringify(state));
    return result;
  }, { timeoutMs: 60_000 });
}

async function isPresent(local: string, part: RemotePart, state: SyncState): Promise<boolean> {
  const st = await stat(local).catch(() => undefined);
  if (!st || st.size !== part.size) return false;
  const known = state.files[part.rel];
  if (known) return known.size === part.size && known.etag === part.etag;
  // A file of the same name written some other way (the uploader's own store, an interrupted sync).
  if (!/^[0-9a-f]{32}$/.test(part.etag)) return false;
  const md5 = createHash('md5').update(await readFile(local)).digest('hex');
  if (md5 !== part.etag) return false;
  state.files[part.rel] = { size: part.size, etag: part.etag };
  return true;
}
