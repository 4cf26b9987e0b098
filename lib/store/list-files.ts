import { readdir, stat } from 'node:fs/promises';
import { direntsIfExists } from '../durable/index.ts';
import { join, resolve } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { DAY_MS, dayOfDate, isPartFile } from './partition.ts';
import type { NormalFilter } from './filters.ts';
import { liveParts } from './supersede.ts';

/** One data file of the store with its partition values. */
export interface StoreFile {
  path: string;
  site: string;
  /** `YYYY-MM-DD`. */
  date: string;
  /** File name (`part-<id>.parquet`); ids sort in write order. */
  name: string;
}

/** Result of listing: the files kept and how many partition pruning skipped. */
export interface FileListing {
  files: StoreFile[];
  /** Files in the store (all partitions). */
  filesTotal: number;
}

async function dirEntries(dir: string, prefix: string): Promise<string[]> {
  const entries = await direntsIfExists(dir);
  return entries.filter((e) => e.isDirectory() && e.name.startsWith(prefix)).map((e) => e.name.slice(prefix.length));
}

/** Throws NOT_FOUND when the store root does not exist (a typo should not look like "no data"). */
export async function assertStoreRoot(root: string): Promise<string> {
  const abs = resolve(root);
  const st = await stat(abs).catch(() => undefined);
  if (!st?.isDirectory()) throw new MillwrightError('NOT_FOUND', `store root ${abs} does not exist or is not a directory`);
  return abs;
}

/**
 * Lists `part-*.parquet` files, pruning partitions by path (site list and the date range implied
 * by from/to). Hidden temp files (leading `.`) and other names are never listed, nor are files
 * already merged into a compacted file (see `liveParts`).
 */
export async function listFiles(filter: NormalFilter): Promise<FileListing> {
  const root = await assertStoreRoot(filter.root);
  const fromDay = filter.from === undefined ? -Infinity : Math.floor(filter.from / DAY_MS);
  const toDay = filter.to === undefined ? Infinity : Math.floor((filter.to - 1) / DAY_MS);
  const files: StoreFile[] = [];
  let filesTotal = 0;
  for (const site of (await dirEntries(root, 'site=')).sort()) {
    const siteDir = join(root, `site=${site}`);
    for (const date of (await dirEntries(siteDir, 'date=')).sort()) {
      const dir = join(siteDir, `date=${date}`);
      const names = (await readdir(dir)).filter(isPartFile).sort();
      const day = dayOfDate(date);
      if ((filter.sites && !filter.sites.has(site)) || !(day >= fromDay && day <= toDay)) {
        filesTotal += names.length;
        continue;
      }
      const { live } = await liveParts(dir, names);
      filesTotal += live.length;
      for (const name of live) files.push({ path: join(dir, name), site, date, name });
    }
  }
  return { files, filesTotal };
}
