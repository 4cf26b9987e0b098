import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { assertStoreRoot } from './list-files.ts';
import { isPartFile, validatePartitionValue } from './partition.ts';
import { StringDictionary } from '../readings/index.ts';
import { readChunks, type Chunk } from './read-chunks.ts';
import { rankOf, sortRows } from './sort-rows.ts';
import type { ParquetWriteOptions } from './parquet.ts';
import { encodeReadingsFile } from './encode-readings-file.ts';
import { loadZstd } from './parquet-pages.ts';
import { fsyncDir, writeFileAtomic } from '../durable/index.ts';
import type { ScanPlan } from './plan-scan.ts';
import { randomBytes } from 'node:crypto';
import { COMPACTED_FROM_KEY, liveParts } from './supersede.ts';

/** Options of {@link compact}. */
export interface CompactOptions extends ParquetWriteOptions {
  /** Only these sites (default: all). */
  sites?: readonly string[];
  /** Only these UTC dates, `YYYY-MM-DD` (default: all). */
  dates?: readonly string[];
  /**
   * Hidden temp files (`.part-*.tmp`, left by a crashed writer) older than this are deleted
   * (default 1 hour: younger ones may belong to a write in progress).
   */
  tempMaxAgeMs?: number;
}

/** What {@link compact} did. */
export interface CompactResult {
  /** Partitions looked at / rewritten. */
  partitions: number;
  partitionsRewritten: number;
  filesBefore: number;
  filesAfter: number;
  rowsBefore: number;
  rowsAfter: number;
  duplicatesRemoved: number;
  tempFilesRemoved: number;
}

/**
 * Compacts partitions: merges each partition's `part-*.parquet` files into one, sorted by (asset,
 * signal, ts), and drops duplicate readings (same site, asset, signal, ts). Of duplicates, the copy
 * from the most recently written file is kept (file ids sort in write order; within one file, the
 * later row), so a re-delivered correction wins. Crash-safe: the merged file is written atomically
 * (temp, fsync, rename, fsync dir) BEFORE the old files are deleted, and its footer lists the files
 * it replaces: if a crash strikes in between, nothing is lost, millwright's readers (scan, sql,
 * resampleStore) already skip the replaced files, and running compact again deletes them. A
 * partition that is already one file without duplicates is left untouched. Each partition is
 * merged in memory. Don't run two compactions of the same partition at once.
 *
 * @example
 * const r = await compact('./.millwright/store', { sites: ['plant-1'] });
 * console.log(`${r.duplicatesRemoved} duplicates removed, ${r.filesBefore} → ${r.filesAfter} files`);
 */
export async function compact(root: string, opts: CompactOptions = {}): Promise<CompactResult> {
  const base = await assertStoreRoot(root);
  for (const s of opts.sites ?? []) validatePartitionValue('site', s);
  for (const d of opts.dates ?? []) validatePartitionValue('date', d);
  const result: CompactResult = {
    partitions: 0,
    partitionsRewritten: 0,
    filesBefore: 0,
    filesAfter: 0,
    rowsBefore: 0,
    rowsAfter: 0,
    duplicatesRemoved: 0,
    tempFilesRemoved: 0,
  };
  const sites = new Set(opts.sites ?? []);
  const dates = new Set(opts.dates ?? []);
  for (const siteEntry of (await readdir(base, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!siteEntry.isDirectory() || !siteEntry.name.startsWith('site=')) continue;
    const site = siteEntry.name.slice(5);
    if (sites.size > 0 && !sites.has(site)) continue;
    const siteDir = join(base, siteEntry.name);
    for (const dateEntry of (await readdir(siteDir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!dateEntry.isDirectory() || !dateEntry.name.startsWith('date=')) continue;
      const date = dateEntry.name.slice(5);
      if (dates.size > 0 && !dates.has(date)) continue;
      await compactPartition(join(siteDir, dateEntry.name), site, date, opts, result);
    }
  }
  return result;
}

async function compactPartition(dir: string, site: string, date: string, opts: CompactOptions, result: CompactResult): Promise<void> {
  result.partitions++;
  const names = await readdir(dir);
  const maxAge = opts.tempMaxAgeMs ?? 3_600_000;
  const now = Date.now();
  for (const name of names) {
    if (!(name.startsWith('.part-') && name.endsWith('.tmp'))) continue;
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st && now - st.mtimeMs > maxAge) {
      await unlink(join(dir, name)).catch(() => undefined);
      result.tempFilesRemoved++;
    }
  }
  const all = names.filter(isPartFile).sort();
  result.filesBefore += all.length;
  if (all.length === 0) return;
  // Files left by an interrupted compaction are already inside its merged file: read only the
  // live ones, delete all of them.
  const { live: parts, superseded } = await liveParts(dir, all);

  // Read every file in write order: concatenated position = delivery order.
  const dicts = { site: new StringDictionary(), asset: new StringDictionary(), signal: new StringDictionary() };
  const plan: ScanPlan = {
    filter: { root: dir },
    files: parts.map((name) => ({ path: join(dir, name), site, date, name })),
    filesTotal: parts.length,
    filesPrunedByPath: 0,
    filesPrunedByStats: 0,
    rowGroupsTotal: NaN,
    rowGroupsPruned: 0,
  };
  const chunks: Chunk[] = [];
  let n = 0;
  for await (const c of readChunks(plan, ['ts', 'asset', 'signal', 'value', 'quality'], dicts)) {
    chunks.push(c);
    n += c.length;
  }
  const ts = concat(chunks, n, (c) => c.tsMs!, Float64Array);
  const assetIdx = concat(chunks, n, (c) => c.asset!, Int32Array);
  const signalIdx = concat(chunks, n, (c) => c.signal!, Int32Array);
  const value = concat(chunks, n, (c) => c.value!, Float64Array);
  const quality = concat(chunks, n, (c) => c.quality!, Uint8Array);
  result.rowsBefore += n;

  const { groups } = sortRows(new Int32Array(n), 1, rankOf(dicts.asset.values), assetIdx, rankOf(dicts.signal.values), signalIdx, dicts.signal.values.length, ts);
  const order = groups[0];
  // Keep the last of each run of equal (asset, signal, ts): ties are in delivery order.
  const keep = new Int32Array(n);
  let m = 0;
  let sorted = true;
  for (let k = 0; k < n; k++) {
    const r = order[k];
    if (r !== k) sorted = false;
    const next = k + 1 < n ? order[k + 1] : -1;
    if (next >= 0 && assetIdx[next] === assetIdx[r] && signalIdx[next] === signalIdx[r] && ts[next] === ts[r]) continue;
    keep[m++] = r;
  }
  const duplicates = n - m;
  if (parts.length === 1 && duplicates === 0 && sorted) {
    for (const name of superseded) await unlink(join(dir, name)).catch(ignoreMissing);
    if (superseded.length > 0) await fsyncDir(dir);
    result.filesAfter += 1;
    result.rowsAfter += n;
    return;
  }
  const cols = {
    ts: new Float64Array(m),
    assetIdx: new Int32Array(m),
    assets: dicts.asset.values,
    signalIdx: new Int32Array(m),
    signals: dicts.signal.values,
    value: new Float64Array(m),
    quality: new Uint8Array(m),
  };
  for (let k = 0; k < m; k++) {
    const r = keep[k];
    cols.ts[k] = ts[r];
    cols.assetIdx[k] = assetIdx[r];
    cols.signalIdx[k] = signalIdx[r];
    cols.value[k] = value[r];
    cols.quality[k] = quality[r];
  }
  // The merged file sorts just before the newest input and after every older one, so "newest file
  // wins" still holds if a crash leaves both, and for files written while we ran.
  // Named after the newest input minus any earlier marker, so it sorts after every older input
  // and just before the newest one (whose values it holds for their keys).
  const newest = parts[parts.length - 1].replace(/(-compacted-[0-9a-z]+)?\.parquet$/, '');
  const mergedName = `${newest}-compacted-${Date.now().toString(36)}${randomBytes(4).toString('hex')}.parquet`;
  // The footer lists every file this one replaces, so readers skip them if we die before the deletes.
  const metadata = { [COMPACTED_FROM_KEY]: JSON.stringify(all) };
  await loadZstd();
  await writeFileAtomic(join(dir, mergedName), encodeReadingsFile(cols, { ...opts, metadata }));
  for (const name of all) await unlink(join(dir, name)).catch(ignoreMissing);
  await fsyncDir(dir);
  result.partitionsRewritten++;
  result.filesAfter += 1;
  result.rowsAfter += m;
  result.duplicatesRemoved += duplicates;
}

function ignoreMissing(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}

function concat<T extends Float64Array | Int32Array | Uint8Array>(
  chunks: Chunk[],
  n: number,
  get: (c: Chunk) => T,
  Ctor: new (n: number) => T,
): T {
  const out = new Ctor(n);
  let off = 0;
  for (const c of chunks) {
    out.set(get(c) as never, off);
    off += c.length;
  }
  return out;
}
