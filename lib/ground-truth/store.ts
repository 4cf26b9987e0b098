import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readdirIfExists, uniqueId, writeFileAtomic } from '../durable/index.ts';
import { parseGroundTruth, type GroundTruthRecord } from './record.ts';

/** A stored label and its place in arrival order. */
export interface StoredGroundTruth extends GroundTruthRecord {
  /** Arrival order across every batch (0 = first), so "last wins" is well defined. */
  arrival: number;
  /** When its batch was stored (epoch ms). */
  receivedAt: number;
}

let counter = 0;

/**
 * Durable label store: each accepted batch is one file `<dir>/<received-ms>-<seq>-<id>.jsonl`,
 * written atomically (temp file, fsync, rename), so a crash never leaves half a batch and file
 * names sort in arrival order. Labels are never rewritten: merging reads them all and the last
 * label of an inference wins.
 *
 * @example
 * import { appendGroundTruth, readGroundTruth, parseGroundTruth } from 'millwright';
 * await appendGroundTruth('/var/lib/millwright/ground-truth/press', parseGroundTruth(body));
 * const labels = await readGroundTruth('/var/lib/millwright/ground-truth/press');
 */
export async function appendGroundTruth(dir: string, records: GroundTruthRecord[], now: Date = new Date()): Promise<{ file: string; records: number } | undefined> {
  if (records.length === 0) return undefined;
  counter = (counter + 1) % 1_000_000;
  const name = `${String(now.getTime()).padStart(14, '0')}-${String(counter).padStart(6, '0')}-${uniqueId()}.jsonl`;
  const file = join(dir, name);
  await writeFileAtomic(file, `${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return { file, records: records.length };
}

/** Every stored label in arrival order (hidden temp files ignored). */
export async function readGroundTruth(dir: string): Promise<StoredGroundTruth[]> {
  const names = (await readdirIfExists(dir)).filter((n) => n.endsWith('.jsonl') && !n.startsWith('.')).sort();
  const out: StoredGroundTruth[] = [];
  for (const n of names) {
    const receivedAt = Number(n.slice(0, 14));
    for (const r of parseGroundTruth(await readFile(join(dir, n), 'utf8'), 'jsonl')) out.push({ ...r, arrival: out.length, receivedAt });
  }
  return out;
}
