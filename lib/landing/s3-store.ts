import { link, readFile, readdir, rm, stat, unlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { MillwrightError } from '../errors/index.ts';
import { mkdirDurable, uniqueId, withLock, writeFileAtomic } from '../durable/index.ts';
import { toEpochMs } from '../store/filters.ts';
import { DAY_MS } from '../store/partition.ts';
import { s3Url, type S3Location } from './s3-client.ts';
import { listParts, type RemotePart } from './list-parts.ts';
import { fetchVerified } from './fetch-verified.ts';
import { mapLimit } from './map-limit.ts';

/** Options of {@link openS3Store}. */
export interface S3StoreOptions {
  client: S3Client;
  location: S3Location;
  /** Cache folder (objects, their index and the per-query views). */
  cacheDir: string;
  /** Largest total size of cached objects, bytes. */
  maxBytes: number;
  /** Partition pruning: sites, and a time range (from inclusive, to exclusive) that selects dates. */
  sites?: readonly string[];
  from?: number | Date | string;
  to?: number | Date | string;
}

/** What a query's cache did. */
export interface CacheStats {
  /** Store files the query needs (after partition pruning) / in the listed partitions' sites. */
  files: number;
  partitionsTotal: number;
  partitionsListed: number;
  hits: number;
  misses: number;
  bytesDownloaded: number;
  evicted: number;
  /** Bytes held by the cache after this query. */
  cachedBytes: number;
}

/** A read-only view of an object-storage store, as a local store root. */
export interface S3StoreView {
  /** A local store root holding exactly the files the query needs (hard links into the cache). */
  root: string;
  stats: CacheStats;
  /** Removes the view (the cached objects stay, bounded by maxBytes). */
  close(): Promise<void>;
}

interface CacheIndex {
  entries: Record<string, { size: number; lastUsed: number; key: string }>;
}

/**
 * Opens object storage as a read-only store for `sql` and `scan`: lists partitions first (sites
 * and dates outside the filter are never listed below their prefix), then fetches only the files
 * of the kept partitions into a local cache, verified ({@link fetchVerified}), and returns a local
 * root made of hard links to them, which DuckDB reads as any store. The cache is bounded: least
 * recently used objects are evicted past `maxBytes`, and a query that alone needs more than
 * `maxBytes` is refused (RESOURCE_EXHAUSTED) rather than let the cache overflow.
 *
 * @example
 * import { createS3Client, openS3Store, parseS3Url, sql } from 'millwright';
 * const client = await createS3Client({ endpoint: 'http://127.0.0.1:8080' });
 * const view = await openS3Store({ client, location: parseS3Url('s3://plant-lake/raw'), cacheDir: '.millwright/cache/s3', maxBytes: 1 << 30, sites: ['north'] });
 * try { console.log(await sql('SELECT count(*) AS n FROM readings', { root: view.root })); } finally { await view.close(); }
 */
export async function openS3Store(opts: S3StoreOptions): Promise<S3StoreView> {
  const from = opts.from === undefined ? undefined : toEpochMs('from', opts.from);
  const to = opts.to === undefined ? undefined : toEpochMs('to', opts.to);
  const listing = await listParts(opts.client, opts.location, {
    sites: opts.sites ? new Set(opts.sites) : undefined,
    fromDay: from === undefined ? undefined : Math.floor(from / DAY_MS),
    toDay: to === undefined ? undefined : Math.floor((to - 1) / DAY_MS),
  });
  const need = listing.parts.reduce((s, p) => s + p.size, 0);
  if (need > opts.maxBytes) {
    throw new MillwrightError('RESOURCE_EXHAUSTED', `the query needs ${listing.parts.length} object(s), ${need} bytes, more than the cache bound of ${opts.maxBytes} bytes; narrow it (--site, --from, --to) or raise --cache-size / MILLWRIGHT_OBJECT_CACHE_SIZE`);
  }
  const cacheDir = resolve(opts.cacheDir);
  const objects = join(cacheDir, 'objects');
  await mkdirDurable(objects);
  const stats: CacheStats = { files: listing.parts.length, partitionsTotal: listing.partitionsTotal, partitionsListed: listing.partitionsListed, hits: 0, misses: 0, bytesDownloaded: 0, evicted: 0, cachedBytes: 0 };
  await removeStaleViews(join(cacheDir, 'views'));
  const view = join(cacheDir, 'views', uniqueId());
  const idFor = (p: RemotePart) => createHash('sha256').update(`${s3Url(opts.location)}\n${p.key}\n${p.etag}\n${p.size}`).digest('hex').slice(0, 32);
  await withLock(join(cacheDir, '.cache.lock'), async () => {
    const indexFile = join(cacheDir, 'index.json');
    const index: CacheIndex = await readFile(indexFile, 'utf8').then((t) => JSON.parse(t) as CacheIndex, () => ({ entries: {} }));
    const now = Date.now();
    await mapLimit(listing.parts, 4, async (p) => {
      const id = idFor(p);
      const file = join(objects, `${id}.parquet`);
      const st = await stat(file).catch(() => undefined);
      if (st && st.size === p.size && index.entries[id]) {
        stats.hits++;
      } else {
        const { body } = await fetchVerified(opts.client, opts.location.bucket, p);
        await writeFileAtomic(file, body, { fsync: false });
        stats.misses++;
        stats.bytesDownloaded += body.length;
      }
      index.entries[id] = { size: p.size, lastUsed: now, key: p.key };
      const dir = join(view, `site=${p.site}`, `date=${p.date}`);
      await mkdirDurable(dir);
      await link(file, join(dir, p.name));
    });
    // Evict least recently used objects that this query does not hold, down to the bound.
    const held = new Set(listing.parts.map(idFor));
    let total = Object.values(index.entries).reduce((s, e) => s + e.size, 0);
    for (const [id, e] of Object.entries(index.entries).sort((a, b) => a[1].lastUsed - b[1].lastUsed)) {
      if (total <= opts.maxBytes) break;
      if (held.has(id)) continue;
      await unlink(join(objects, `${id}.parquet`)).catch(() => undefined);
      delete index.entries[id];
      total -= e.size;
      stats.evicted++;
    }
    stats.cachedBytes = total;
    await writeFileAtomic(indexFile, JSON.stringify(index), { fsync: false });
  }, { timeoutMs: 120_000 });
  await mkdirDurable(view);
  return { root: view, stats, close: () => rm(view, { recursive: true, force: true }) };
}

// A view whose query was killed is never closed; its hard links would pin evicted bytes on disk.
const STALE_VIEW_MS = 6 * 3_600_000;

async function removeStaleViews(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > STALE_VIEW_MS) await rm(join(dir, name), { recursive: true, force: true });
  }
}
