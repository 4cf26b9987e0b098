/**
 * Lineage of a training pipeline: prepare -> train -> evaluate -> register, each step with its
 * start and end, inputs and outputs by content hash. It is written beside the registered version
 * (`<registry>/<group>/versions/<n>/lineage.json`), so "which data and code produced PROD's model"
 * has an answer on disk, and a re-run on the same inputs can say whether it reproduced the same
 * model bytes.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { writeFileAtomic } from '../durable/index.ts';
import { sha256, sha256File } from './artifact.ts';
import { checkGroup, checkVersion, readRecord, resolveRegistry, type RegistryOptions } from './registry.ts';
import { readdirIfExists } from '../durable/index.ts';

/** A file by content. */
export interface HashedFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** One pipeline step. */
export interface LineageStep {
  name: 'prepare' | 'train' | 'evaluate' | 'register';
  start: string;
  end: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

/** `lineage.json` of a registered version. */
export interface Lineage {
  format: 1;
  group: string;
  version: number;
  /** Hash of everything that determines the model: input data files, package code, hyperparameters. */
  inputsSha256: string;
  /** Hash of the model files (model.json excluded: it holds the time stamp and version name). */
  modelFilesSha256: string;
  steps: LineageStep[];
  /** The earlier version trained on the same inputs, if any, and whether the model files are identical. */
  reproduces?: { version: number; identical: boolean };
}

/** Every data file of a channel folder, hashed (sorted, relative to `base`). */
export async function hashChannel(dir: string, base: string): Promise<HashedFile[]> {
  const out: HashedFile[] = [];
  for (const name of (await readdir(dir)).filter((n) => !n.startsWith('.')).sort()) {
    const path = join(dir, name);
    const s = await stat(path);
    if (!s.isFile()) continue;
    out.push({ path: relative(base, path), bytes: s.size, sha256: await sha256File(path) });
  }
  return out;
}

/**
 * A fingerprint of the store's Parquet files at query time (path, size and mtime of each, hashed),
 * so a later run can tell that the store changed underneath the same query.
 */
export async function storeSnapshot(root: string): Promise<{ files: number; sha256: string }> {
  const entries: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdirIfExists(dir)).sort()) {
      const path = join(dir, name);
      const s = await stat(path).catch(() => undefined);
      if (!s) continue;
      if (s.isDirectory()) await walk(path);
      else if (name.endsWith('.parquet')) entries.push(`${relative(root, path)}\t${s.size}\t${s.mtimeMs}`);
    }
  };
  await walk(root);
  return { files: entries.length, sha256: sha256(entries.join('\n')) };
}

/** The content hash of a model's files (model.json excluded). */
export function modelFilesHash(files: Record<string, string>): string {
  return sha256(Object.keys(files).sort().map((k) => `${k}\t${files[k]}`).join('\n'));
}

function lineagePath(root: string, group: string, version: number): string {
  return join(root, group, 'versions', String(version), 'lineage.json');
}

/**
 * Writes a version's lineage, first looking for an earlier version with the same inputs hash to
 * say whether this run reproduced its model bytes.
 */
export async function writeLineage(lineage: Omit<Lineage, 'reproduces'>, opts: RegistryOptions = {}): Promise<Lineage> {
  const root = resolveRegistry(opts);
  let reproduces: Lineage['reproduces'];
  for (let v = lineage.version - 1; v >= 1 && !reproduces; v--) {
    const earlier = await readLineageFile(root, lineage.group, v);
    if (earlier?.inputsSha256 === lineage.inputsSha256) reproduces = { version: v, identical: earlier.modelFilesSha256 === lineage.modelFilesSha256 };
  }
  const full: Lineage = { ...lineage, ...(reproduces ? { reproduces } : {}) };
  await writeFileAtomic(lineagePath(root, lineage.group, lineage.version), `${JSON.stringify(full, null, 2)}\n`);
  return full;
}

async function readLineageFile(root: string, group: string, version: number): Promise<Lineage | undefined> {
  try {
    return JSON.parse(await readFile(lineagePath(root, group, version), 'utf8')) as Lineage;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MillwrightError('INTEGRITY', `lineage of ${group} version ${version} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * The recorded pipeline of a version (NOT_FOUND for a version registered without one, e.g. by hand).
 *
 * @example
 * import { readLineage } from 'millwright';
 * const l = await readLineage('plant-a', 4);
 * l.steps.map((s) => s.name); // ['prepare', 'train', 'evaluate', 'register']
 */
export async function readLineage(group: string, version: number | string, opts: RegistryOptions = {}): Promise<Lineage> {
  checkGroup(group);
  const n = checkVersion(version);
  const root = resolveRegistry(opts);
  await readRecord(root, group, n);
  const l = await readLineageFile(root, group, n);
  if (!l) throw new MillwrightError('NOT_FOUND', `${group} version ${n} has no lineage: it was registered by hand, not by a retrain pipeline`);
  return l;
}
