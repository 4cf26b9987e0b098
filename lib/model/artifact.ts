import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import type { ModelManifest } from './contract.ts';

/** The manifest's file name inside a model dir. */
export const MANIFEST_FILE = 'model.json';

/** Folder of a recursive readdir entry (`parentPath` since Node 20.12, `path` before). */
export function entryDir(e: { parentPath?: string; path?: string }): string {
  return e.parentPath ?? e.path!;
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** SHA-256 (hex) of a string or bytes. */
export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Every regular file under `dir` except the manifest, as sorted `/`-separated relative paths.
 * Symlinks, sockets and the like are refused: an artifact must be plain files so that what
 * was checksummed is what gets read.
 */
export async function listArtifactFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  for (const e of entries) {
    const rel = relative(dir, join(entryDir(e), e.name)).split(sep).join('/');
    if (e.isDirectory()) continue;
    if (!e.isFile()) {
      throw new MillwrightError('INTEGRITY', `model dir ${dir}: "${rel}" is not a regular file (symlinks and special files are not allowed in an artifact)`);
    }
    // The manifest and its signature describe the files; they are not among them.
    if (rel === MANIFEST_FILE || rel === 'model.sig') continue;
    out.push(rel);
  }
  return out.sort();
}

/** Checksums of every file of a model dir (except model.json), by relative path. */
export async function checksumDir(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const rel of await listArtifactFiles(dir)) files[rel] = await sha256File(join(dir, ...rel.split('/')));
  return files;
}

const TASKS = new Set(['regression', 'classification', 'anomaly', 'energy']);
const FEATURE_TYPES = new Set(['number', 'integer', 'string', 'boolean']);

/**
 * Checks that `value` has the shape of a {@link ModelManifest}; throws INTEGRITY naming the
 * first bad field. Used on every load: a manifest is data from disk, not trusted code.
 */
export function validateManifest(value: unknown, where: string): ModelManifest {
  const fail = (msg: string): never => {
    throw new MillwrightError('INTEGRITY', `malformed manifest ${where}: ${msg}`);
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('expected a JSON object');
  const m = value as Record<string, unknown>;
  if (m.format !== 1) fail(`"format" must be 1, got ${JSON.stringify(m.format)}`);
  for (const key of ['name', 'version', 'algorithm', 'createdAt', 'codeVersion'] as const) {
    if (typeof m[key] !== 'string' || m[key] === '') fail(`"${key}" must be a non-empty string`);
  }
  if (typeof m.task !== 'string' || !TASKS.has(m.task)) fail(`"task" must be one of ${[...TASKS].join(', ')}`);
  if (!Array.isArray(m.features)) fail('"features" must be an array');
  (m.features as unknown[]).forEach((f, i) => {
    const spec = f as Record<string, unknown> | null;
    if (!spec || typeof spec.name !== 'string' || !FEATURE_TYPES.has(spec.type as string)) {
      fail(`features[${i}] must be {name: string, type: ${[...FEATURE_TYPES].join('|')}}`);
    }
  });
  const names = (m.features as { name: string }[]).map((f) => f.name);
  if (new Set(names).size !== names.length) fail('"features" has duplicate names');
  if (m.hyperparameters === null || typeof m.hyperparameters !== 'object') fail('"hyperparameters" must be an object');
  const td = m.trainingData as Record<string, unknown> | null;
  if (!td || typeof td !== 'object' || typeof td.rows !== 'number') fail('"trainingData.rows" must be a number');
  const metrics = m.metrics as Record<string, unknown> | null;
  if (!metrics || typeof metrics !== 'object' || metrics.training === null || typeof metrics.training !== 'object') {
    fail('"metrics.training" must be an object');
  }
  if (!Array.isArray(m.baseline)) fail('"baseline" must be an array');
  const files = m.files as Record<string, unknown> | null;
  if (!files || typeof files !== 'object' || Array.isArray(files)) fail('"files" must be an object of path -> sha256');
  for (const [path, hash] of Object.entries(files as Record<string, unknown>)) {
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) fail(`files["${path}"] must be a hex SHA-256`);
    if (path.startsWith('/') || path.split('/').includes('..') || path === MANIFEST_FILE) fail(`files has an invalid path "${path}"`);
  }
  return value as ModelManifest;
}

/** Reads and validates `<dir>/model.json` (no checksum verification: see {@link verifyArtifact}). */
export async function readManifest(dir: string): Promise<ModelManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MillwrightError('INTEGRITY', `${dir} is not a model artifact: ${MANIFEST_FILE} is missing`);
    }
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MillwrightError('INTEGRITY', `malformed manifest ${path}: not valid JSON (${(err as Error).message})`);
  }
  return validateManifest(parsed, path);
}

/**
 * Verifies a model dir against its manifest: every listed file present with the recorded
 * SHA-256, no unlisted file, manifest well-formed. Resolves to the manifest; throws
 * `MillwrightError('INTEGRITY')` naming every problem otherwise.
 *
 * @example
 * const manifest = await verifyArtifact('/opt/ml/model');
 */
export async function verifyArtifact(dir: string): Promise<ModelManifest> {
  const manifest = await readManifest(dir);
  let present: string[];
  try {
    present = await listArtifactFiles(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MillwrightError('NOT_FOUND', `model dir ${dir} does not exist`);
    throw err;
  }
  const problems: string[] = [];
  const listed = new Set(Object.keys(manifest.files));
  for (const rel of present) if (!listed.has(rel)) problems.push(`unlisted file "${rel}"`);
  const presentSet = new Set(present);
  for (const [rel, expected] of Object.entries(manifest.files)) {
    if (!presentSet.has(rel)) {
      problems.push(`missing file "${rel}"`);
      continue;
    }
    const actual = await sha256File(join(dir, ...rel.split('/')));
    if (actual !== expected) problems.push(`"${rel}" was modified (sha256 ${actual.slice(0, 12)}…, manifest says ${expected.slice(0, 12)}…)`);
  }
  if (problems.length > 0) {
    throw new MillwrightError('INTEGRITY', `model artifact ${dir} failed verification: ${problems.join('; ')}. Refusing to load a tampered or incomplete model.`, {
      details: { problems },
    });
  }
  return manifest;
}
