/**
 * Building the two bundles an edge box receives separately: the model (a verified artifact, large,
 * changed by every retraining) and the inference code (a model package's predict.ts/features.ts,
 * small, changed by a bug fix), each signed on its own so either can be shipped and rolled back
 * without the other.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { entryDir, MANIFEST_FILE, sha256, sha256File, verifyArtifact } from '../model/artifact.ts';
import { SIGNATURE_FILE } from '../model/signing.ts';
import { builtinAlgorithmsDir } from '../model/packages.ts';
import { writeBundle, type BundleManifest, type BundleMember, type BundleSignature } from './archive.ts';

/** What a build wrote. */
export interface BuiltBundle {
  file: string;
  manifest: BundleManifest;
  signature: BundleSignature;
  bytes: number;
}

const BUILTIN_NAME = /^[a-z0-9][a-z0-9-]*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;

async function readKey(keyFile: string): Promise<KeyObject> {
  let key: KeyObject;
  try {
    key = createPrivateKey(await readFile(resolve(keyFile)));
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `--key ${keyFile}: not a readable private key (${(err as Error).message}); make one with: millwright keys new`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new MillwrightError('BAD_INPUT', `--key ${keyFile}: an ${key.asymmetricKeyType} key; bundles are signed with Ed25519 (millwright keys new)`);
  return key;
}

async function members(root: string, paths: string[]): Promise<BundleMember[]> {
  const out: BundleMember[] = [];
  for (const p of paths) {
    const file = join(root, ...p.split('/'));
    out.push({ path: p, size: (await stat(file)).size, sha256: await sha256File(file) });
  }
  return out;
}

/** Whether a manifest's `algorithm` names a built-in (which ships with millwright, not in a code bundle). */
export function isBuiltinAlgorithm(algorithm: string): boolean {
  return BUILTIN_NAME.test(algorithm) && existsSync(join(builtinAlgorithmsDir(), algorithm));
}

/**
 * Bundles a model dir: verifies it (a broken artifact is never shipped), then packs model.json,
 * model.sig when present and every file the manifest lists, signed with `keyFile`.
 *
 * @example
 * import { buildModelBundle } from 'millwright';
 * await buildModelBundle('/opt/ml/model', 'press-energy-v7.mwb', 'keys/release.key');
 */
export async function buildModelBundle(modelDir: string, out: string, keyFile: string): Promise<BuiltBundle> {
  const dir = resolve(modelDir);
  const key = await readKey(keyFile);
  const m = await verifyArtifact(dir);
  for (const [what, v] of [['name', m.name], ['version', m.version]] as const) {
    if (!NAME.test(v)) throw new MillwrightError('BAD_INPUT', `model ${what} "${v}" cannot name a folder on the edge box: use letters, digits, ".", "_", "+" or "-"`);
  }
  const paths = [MANIFEST_FILE, ...(existsSync(join(dir, SIGNATURE_FILE)) ? [SIGNATURE_FILE] : []), ...Object.keys(m.files).sort()];
  const builtin = isBuiltinAlgorithm(m.algorithm);
  const manifest: BundleManifest = {
    format: 1,
    kind: 'model',
    name: m.name,
    version: m.version,
    createdAt: new Date().toISOString(),
    members: await members(dir, paths),
    model: { algorithm: m.algorithm, package: builtin ? m.algorithm : basename(m.algorithm), builtin, task: m.task },
  };
  const w = await writeBundle(resolve(out), dir, manifest, key);
  return { file: resolve(out), manifest, ...w };
}

const SKIP_DIRS = new Set(['node_modules', '.git']);
const SOURCE = /\.(ts|mts|js|mjs)$/;
// Static imports and re-exports (`import type` is erased at run time, so it locks nothing), and dynamic import().
const IMPORT = /\b(?:import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s*)?['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g;

/** The package name of a bare import specifier (`@scope/name/sub` -> `@scope/name`), or undefined for relative, absolute and `node:` ones. */
export function packageOfSpecifier(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || /^[a-z]+:/.test(spec)) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The version of `name` that Node would resolve from `fromDir` (walking up node_modules folders), if any. */
export async function installedVersion(name: string, fromDir: string): Promise<string | undefined> {
  for (let d = resolve(fromDir); ; d = dirname(d)) {
    const pj = join(d, 'node_modules', ...name.split('/'), 'package.json');
    if (existsSync(pj)) return (JSON.parse(await readFile(pj, 'utf8')) as { version?: string }).version ?? '0.0.0';
    if (dirname(d) === d) return undefined;
  }
}

/** Node's own modules (`fs`, `path`) imported without the `node:` prefix. */
const NODE_BUILTINS = new Set(['assert', 'buffer', 'child_process', 'crypto', 'events', 'fs', 'http', 'https', 'net', 'os', 'path', 'stream', 'url', 'util', 'worker_threads', 'zlib', 'readline', 'perf_hooks', 'timers']);

/** Files of a package folder (sorted, `/`-separated), leaving out node_modules and .git; a symlink fails. */
async function packageFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const rel = relative(dir, join(entryDir(e), e.name)).split(sep).join('/');
    if (rel.split('/').some((p) => SKIP_DIRS.has(p))) continue;
    if (e.isDirectory()) continue;
    if (!e.isFile()) throw new MillwrightError('BAD_INPUT', `package ${dir}: "${rel}" is not a regular file (a code bundle holds plain files only)`);
    out.push(rel);
  }
  return out.sort();
}

/**
 * Bundles a model package folder (predict.ts, features.ts, train.ts and whatever else it holds,
 * without node_modules) with the lock of its dependencies: every package its sources import,
 * at the version installed where the package is now. The edge box refuses the bundle if it
 * would resolve another version.
 *
 * @example
 * import { buildCodeBundle } from 'millwright';
 * await buildCodeBundle('./my-model', 'my-model-code.mwb', 'keys/release.key', { version: '1.4.0' });
 */
export async function buildCodeBundle(packageDir: string, out: string, keyFile: string, opts: { version?: string } = {}): Promise<BuiltBundle> {
  const dir = resolve(packageDir);
  const key = await readKey(keyFile);
  if (!existsSync(dir) || !(await stat(dir)).isDirectory()) throw new MillwrightError('NOT_FOUND', `package folder ${dir} does not exist`);
  const files = await packageFiles(dir);
  if (!files.some((f) => /^predict\.(ts|mts|js|mjs)$/.test(f))) throw new MillwrightError('BAD_INPUT', `package ${dir} has no predict.ts: a code bundle carries a model package's inference code`);
  const deps = new Map<string, string>();
  for (const f of files.filter((x) => SOURCE.test(x))) {
    const text = await readFile(join(dir, ...f.split('/')), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      if (m[1]) continue;
      const name = packageOfSpecifier((m[2] ?? m[3])!);
      if (!name || NODE_BUILTINS.has(name) || deps.has(name)) continue;
      const v = await installedVersion(name, dir);
      if (v === undefined) throw new MillwrightError('BAD_INPUT', `package ${dir}: ${f} imports "${name}", which is not installed where the package is (npm install it first, so its version can be locked)`);
      deps.set(name, v);
    }
  }
  const mem = await members(dir, files);
  let version = opts.version;
  if (version === undefined && files.includes('package.json')) version = (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
  version ??= `sha-${sha256(mem.map((m) => `${m.path}:${m.sha256}`).join('\n')).slice(0, 12)}`;
  const name = basename(dir);
  for (const [what, v] of [['package folder name', name], ['version', version]] as const) {
    if (!NAME.test(v)) throw new MillwrightError('BAD_INPUT', `code ${what} "${v}" cannot name a folder on the edge box: use letters, digits, ".", "_", "+" or "-"`);
  }
  const manifest: BundleManifest = {
    format: 1,
    kind: 'code',
    name,
    version,
    createdAt: new Date().toISOString(),
    members: mem,
    code: { package: name, dependencies: [...deps].sort((a, b) => a[0].localeCompare(b[0])).map(([n, v]) => ({ name: n, version: v })) },
  };
  const w = await writeBundle(resolve(out), dir, manifest, key);
  return { file: resolve(out), manifest, ...w };
}
