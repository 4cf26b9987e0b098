import * as pw from 'parquet-wasm/node';
import { openFdBlob } from './fd-blob.ts';

/** Key-value metadata key in which a compacted file lists the part files it replaces. */
export const COMPACTED_FROM_KEY = 'millwright.compacted_from';

const MERGED_RE = /-compacted-[0-9a-z]+\.parquet$/;

/** True for a file written by `compact` (its name carries the `-compacted-` marker). */
export function isMergedName(name: string): boolean {
  return MERGED_RE.test(name);
}

/**
 * Splits a partition's part files into the live ones and those superseded by a compacted file
 * (a compaction that crashed, or is still running, between writing its merged file and deleting
 * its inputs). Readers use only the live files, so they see every reading exactly once even then.
 * Only partitions holding a compacted file next to other files pay for reading its footer.
 */
export async function liveParts(dir: string, names: readonly string[]): Promise<{ live: string[]; superseded: string[] }> {
  if (names.length < 2 || !names.some(isMergedName)) return { live: [...names], superseded: [] };
  const superseded = new Set<string>();
  for (const name of names.filter(isMergedName)) {
    for (const s of await compactedFrom(`${dir}/${name}`)) if (s !== name) superseded.add(s);
  }
  return { live: names.filter((n) => !superseded.has(n)), superseded: names.filter((n) => superseded.has(n)) };
}

async function compactedFrom(path: string): Promise<string[]> {
  let handle: Awaited<ReturnType<typeof openFdBlob>>;
  try {
    handle = await openFdBlob(path);
  } catch {
    return []; // gone already: superseded itself by a later compaction
  }
  try {
    const pf = await pw.ParquetFile.fromFile(handle.blob as unknown as Blob);
    try {
      const meta = pf.metadata();
      const kv = meta.fileMetadata().keyValueMetadata() as Map<string, string>;
      meta.free();
      const raw = kv.get(COMPACTED_FROM_KEY);
      const list: unknown = raw ? JSON.parse(raw) : [];
      return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
    } finally {
      pf.free();
    }
  } finally {
    await handle.close();
  }
}
