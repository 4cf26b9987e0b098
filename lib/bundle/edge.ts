/**
 * The edge folder: the model and code versions a box received, the deployment records (which
 * model version runs with which code version) and the `current` pointer. Nothing a deploy writes
 * is visible before it is whole: bundles unpack under `.staging/` and are renamed into place, a
 * record is written atomically, and the pointer is replaced by rename only after the new pair
 * passed its health check. A cut transfer or a killed deploy therefore leaves the running pair
 * as it was.
 *
 * ```
 * DIR/models/<name>@<version>/{bundle.json, model/}
 * DIR/code/<name>@<version>/{bundle.json, <package>/}
 * DIR/deployments/<seq>.json      one per pair ever switched to
 * DIR/current                     {"seq": N}
 * ```
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { fsyncDir, mkdirDurable, readdirIfExists, uniqueId, withLock, writeFileAtomic } from '../durable/index.ts';
import { sha256File } from '../model/artifact.ts';
import { loadModel } from '../model/load-model.ts';
import { loadTrustStore, type TrustStore } from '../model/signing.ts';
import type { LoadedModel } from '../model/contract.ts';
import { checkBundleSignature, extractBundle, openBundle, validateBundleManifest, type BundleManifest, type BundleSignature, type OpenedBundle } from './archive.ts';
import { installedVersion } from './build.ts';

/** One half of a pair, as a deployment record names it. */
export interface DeployedPart {
  /** Folder name under models/ or code/: `<name>@<version>`. */
  id: string;
  name: string;
  version: string;
  keyId: string;
  manifestSha256: string;
}

/** `deployments/<seq>.json`: the pair that ran from the moment it was switched to. */
export interface DeploymentRecord {
  format: 1;
  seq: number;
  deployedAt: string;
  model: DeployedPart;
  /** Absent when the model runs with a built-in algorithm (its code ships with millwright). */
  code?: DeployedPart;
  /** The pair that was current before this one (what `rollback` returns to). */
  previous?: number;
}

/** A received version's `bundle.json`. */
interface StoredBundle {
  manifestText: string;
  signature: BundleSignature;
  manifestSha256: string;
  receivedAt: string;
}

/** Runs one prediction on a typical row and throws when the model is not usable (serve's health check). */
export type HealthCheck = (model: LoadedModel) => Promise<void>;

/** Options of {@link deployBundle}. */
export interface DeployOptions {
  /** The edge folder. */
  to: string;
  /** Trust store (folder or loaded): the bundle must be signed by one of its keys. */
  trust: string | TrustStore;
  /** The health check a new pair must pass before it is switched to. */
  healthCheck: HealthCheck;
}

/** What a deploy did. */
export interface DeployResult {
  kind: 'model' | 'code';
  id: string;
  /** The pair switched to, when the folder then held both halves and the check passed. */
  record?: DeploymentRecord;
  /** Why nothing was switched (waiting for the other half, or the pair already runs). */
  note?: string;
}

const payloadOf = (m: BundleManifest) => (m.kind === 'model' ? 'model' : m.code!.package);
const kindDir = (root: string, kind: 'model' | 'code') => join(root, kind === 'model' ? 'models' : 'code');
const versionId = (m: BundleManifest) => `${m.name}@${m.version}`;
const recordFile = (root: string, seq: number) => join(root, 'deployments', `${String(seq).padStart(6, '0')}.json`);

/** The model dir and package folder of a record (package undefined for a built-in). */
export function pairDirs(root: string, rec: DeploymentRecord): { modelDir: string; packageDir?: string } {
  const modelDir = join(resolve(root), 'models', rec.model.id, 'model');
  if (!rec.code) return { modelDir };
  return { modelDir, packageDir: join(resolve(root), 'code', rec.code.id, rec.code.name) };
}

async function readJson<T>(file: string, what: string): Promise<T> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    throw new MillwrightError('INTEGRITY', `${what} ${file} cannot be read: ${(err as Error).message}`);
  }
}

/** The record `current` points at, or undefined when nothing was switched to yet. */
export async function currentDeployment(dir: string): Promise<DeploymentRecord | undefined> {
  const root = resolve(dir);
  if (!existsSync(join(root, 'current'))) return undefined;
  const { seq } = await readJson<{ seq: number }>(join(root, 'current'), 'deployment pointer');
  return readDeployment(root, seq);
}

/** Reads `deployments/<seq>.json`. */
export async function readDeployment(dir: string, seq: number): Promise<DeploymentRecord> {
  return readJson<DeploymentRecord>(recordFile(resolve(dir), seq), 'deployment record');
}

/** The file of a deployment record (what a deployment-following server loads). */
export function deploymentRecordFile(dir: string, seq: number): string {
  return recordFile(resolve(dir), seq);
}

async function readStored(root: string, kind: 'model' | 'code', id: string): Promise<{ stored: StoredBundle; manifest: BundleManifest }> {
  const file = join(kindDir(root, kind), id, 'bundle.json');
  const stored = await readJson<StoredBundle>(file, 'received bundle');
  return { stored, manifest: validateBundleManifest(file, JSON.parse(stored.manifestText)) };
}

/**
 * Checks a received version on disk again: with a trust store its signature, and every member's
 * SHA-256, with no file missing or added. Throws INTEGRITY naming the first problem.
 */
export async function verifyReceived(dir: string, kind: 'model' | 'code', id: string, trust?: TrustStore): Promise<BundleManifest> {
  const root = resolve(dir);
  const { stored, manifest } = await readStored(root, kind, id);
  const where = join(kindDir(root, kind), id);
  if (trust) checkBundleSignature(where, Buffer.from(stored.manifestText), stored.signature, trust);
  const payload = join(where, payloadOf(manifest));
  const listed = new Set(manifest.members.map((m) => m.path));
  for (const m of manifest.members) {
    const actual = await sha256File(join(payload, ...m.path.split('/'))).catch(() => 'missing');
    if (actual !== m.sha256) throw new MillwrightError('INTEGRITY', `${kind} ${id} on the edge box: "${m.path}" is ${actual === 'missing' ? 'missing' : 'modified'}`, { details: { check: 'files' } });
  }
  for (const e of await readdir(payload, { recursive: true, withFileTypes: true })) {
    if (e.isDirectory()) continue;
    const rel = join(e.parentPath ?? (e as unknown as { path: string }).path, e.name).slice(payload.length + 1).split('\\').join('/');
    if (!listed.has(rel)) throw new MillwrightError('INTEGRITY', `${kind} ${id} on the edge box: unlisted file "${rel}"`, { details: { check: 'files' } });
  }
  return manifest;
}

/** Received versions of one kind whose package is `pkg`, newest first. */
async function received(root: string, kind: 'model' | 'code', pkg: string): Promise<{ id: string; manifest: BundleManifest; stored: StoredBundle }[]> {
  const out = [];
  for (const id of await readdirIfExists(kindDir(root, kind))) {
    if (id.startsWith('.') || id === 'package.json') continue;
    const r = await readStored(root, kind, id).catch(() => undefined);
    if (!r) continue;
    const p = kind === 'model' ? r.manifest.model!.package : r.manifest.code!.package;
    if (p === pkg) out.push({ id, ...r });
  }
  return out.sort((a, b) => b.stored.receivedAt.localeCompare(a.stored.receivedAt));
}

const part = (id: string, m: BundleManifest, s: StoredBundle): DeployedPart => ({ id, name: m.name, version: m.version, keyId: s.signature.keyId, manifestSha256: s.manifestSha256 });

/** Unpacks a verified bundle into its version folder (under .staging first, then one rename). */
async function receive(root: string, b: OpenedBundle, trust: TrustStore): Promise<{ id: string; created: boolean }> {
  const id = versionId(b.manifest);
  const final = join(kindDir(root, b.manifest.kind), id);
  if (existsSync(final)) {
    const { stored } = await readStored(root, b.manifest.kind, id);
    if (stored.manifestSha256 !== b.manifestSha256) {
      throw new MillwrightError('CONFLICT', `${b.manifest.kind} ${id} was already received with other content (manifest ${stored.manifestSha256.slice(0, 12)}…, this bundle ${b.manifestSha256.slice(0, 12)}…): give the new build a new version`);
    }
    await verifyReceived(root, b.manifest.kind, id, trust);
    return { id, created: false };
  }
  const staging = join(root, '.staging', uniqueId());
  await mkdirDurable(staging);
  try {
    await extractBundle(b, join(staging, payloadOf(b.manifest)));
    const stored: StoredBundle = { manifestText: b.manifestText, signature: b.signature, manifestSha256: b.manifestSha256, receivedAt: new Date().toISOString() };
    await writeFileAtomic(join(staging, 'bundle.json'), `${JSON.stringify(stored, null, 2)}\n`);
    await mkdirDurable(kindDir(root, b.manifest.kind));
    // Model packages are ES modules (like millwright); without this, a package with no
    // package.json of its own would be read as CommonJS in the serving worker threads.
    const marker = join(kindDir(root, 'code'), 'package.json');
    if (b.manifest.kind === 'code' && !existsSync(marker)) await writeFileAtomic(marker, '{ "type": "module" }\n');
    await rename(staging, final);
    await fsyncDir(kindDir(root, b.manifest.kind));
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  return { id, created: true };
}

/** A code version's locked dependencies must resolve to the same versions where it was unpacked. */
async function checkDependencies(root: string, id: string, m: BundleManifest): Promise<void> {
  const pkgDir = join(kindDir(root, 'code'), id, m.code!.package);
  const wrong: string[] = [];
  for (const d of m.code!.dependencies) {
    const have = await installedVersion(d.name, pkgDir);
    if (have !== d.version) wrong.push(`${d.name} ${have ?? 'not installed'} (locked ${d.version})`);
  }
  if (wrong.length > 0) {
    throw new MillwrightError('CONFLICT', `code ${id} refused (dependencies): this box resolves ${wrong.join(', ')}; install the locked versions or rebuild the bundle against these`, { details: { check: 'dependencies' } });
  }
}

/**
 * Loads a pair's model with its code package and runs the health check; throws UNAVAILABLE
 * saying which pair failed.
 */
export async function checkPair(root: string, rec: Pick<DeploymentRecord, 'model' | 'code'>, healthCheck: HealthCheck): Promise<void> {
  const { modelDir, packageDir } = pairDirs(root, rec as DeploymentRecord);
  try {
    const model = await loadModel(modelDir, { packages: packageDir ? [packageDir] : [], env: {} });
    await healthCheck(model);
  } catch (err) {
    const e = MillwrightError.from(err);
    throw new MillwrightError('UNAVAILABLE', `pair model ${rec.model.id} + code ${rec.code?.id ?? '(built-in)'} failed its health check: ${e.message}`, { details: { check: 'health' }, cause: err });
  }
}

/** The pair a newly received half makes: with the current (or newest received) version of the other half. */
async function pairFor(root: string, kind: 'model' | 'code', id: string, m: BundleManifest, current: DeploymentRecord | undefined): Promise<{ pair?: Pick<DeploymentRecord, 'model' | 'code'>; note?: string }> {
  const { stored } = await readStored(root, kind, id);
  if (kind === 'model') {
    const mp = part(id, m, stored);
    if (m.model!.builtin) return { pair: { model: mp } };
    const pkg = m.model!.package;
    if (current?.code?.name === pkg) return { pair: { model: mp, code: current.code } };
    const code = (await received(root, 'code', pkg))[0];
    if (!code) return { note: `model ${id} received; waiting for a code bundle of package "${pkg}"` };
    return { pair: { model: mp, code: part(code.id, code.manifest, code.stored) } };
  }
  const cp = part(id, m, stored);
  const pkg = m.code!.package;
  if (current && (await readStored(root, 'model', current.model.id)).manifest.model!.package === pkg) return { pair: { model: current.model, code: cp } };
  const model = (await received(root, 'model', pkg))[0];
  if (!model) return { note: `code ${id} received; waiting for a model bundle trained with package "${pkg}"` };
  return { pair: { model: part(model.id, model.manifest, model.stored), code: cp } };
}

async function nextSeq(root: string): Promise<number> {
  const seqs = (await readdirIfExists(join(root, 'deployments'))).map((n) => /^(\d+)\.json$/.exec(n)?.[1]).filter(Boolean).map(Number);
  return seqs.length ? Math.max(...seqs) + 1 : 1;
}

async function switchTo(root: string, seq: number): Promise<void> {
  await writeFileAtomic(join(root, 'current'), `${JSON.stringify({ seq, switchedAt: new Date().toISOString() })}\n`);
}

const LOCK = { staleMs: false, singleHost: true } as const;

/**
 * Deploys a model or code bundle into an edge folder: checks its signature against the trust
 * store and its length before unpacking, checks every member while unpacking (into `.staging/`,
 * renamed into `models/` or `code/` when whole), and when the folder then holds both halves of a
 * pair, loads the model with that code, runs the health check, writes a deployment record and
 * replaces `current` by rename. Any refusal leaves the running pair as it was.
 *
 * @example
 * import { deployBundle } from 'millwright';
 * import { healthCheck } from 'millwright/serve';
 * const r = await deployBundle('press-energy-v7.mwb', { to: '/var/lib/millwright/edge', trust: '/etc/millwright/trust', healthCheck });
 */
export async function deployBundle(bundleFile: string, opts: DeployOptions): Promise<DeployResult> {
  const root = resolve(opts.to);
  const trust = typeof opts.trust === 'string' ? await loadTrustStore(opts.trust) : opts.trust;
  const b = await openBundle(resolve(bundleFile), trust);
  return withLock(join(root, '.lock'), async () => {
    await rm(join(root, '.staging'), { recursive: true, force: true });
    const kind = b.manifest.kind;
    const { id, created } = await receive(root, b, trust);
    const drop = async () => {
      if (created) await rm(join(kindDir(root, kind), id), { recursive: true, force: true });
    };
    try {
      if (kind === 'code') await checkDependencies(root, id, b.manifest);
      const current = await currentDeployment(root);
      const { pair, note } = await pairFor(root, kind, id, b.manifest, current);
      if (!pair) return { kind, id, note };
      if (current && current.model.id === pair.model.id && current.code?.id === pair.code?.id) return { kind, id, note: `pair ${pair.model.id} + ${pair.code?.id ?? '(built-in)'} is already running (deployment ${current.seq})` };
      await checkPair(root, pair, opts.healthCheck);
      const seq = await nextSeq(root);
      const record: DeploymentRecord = { format: 1, seq, deployedAt: new Date().toISOString(), ...pair, ...(current ? { previous: current.seq } : {}) };
      await writeFileAtomic(recordFile(root, seq), `${JSON.stringify(record, null, 2)}\n`);
      await switchTo(root, seq);
      return { kind, id, record };
    } catch (err) {
      await drop();
      throw err;
    }
  }, LOCK);
}

/**
 * Returns an edge folder to the pair that ran before the current one: checks its files again
 * (and its signatures with a trust store), runs the health check, then replaces `current`.
 *
 * @example
 * import { rollbackDeployment } from 'millwright';
 * import { healthCheck } from 'millwright/serve';
 * const { record } = await rollbackDeployment('/var/lib/millwright/edge', { healthCheck });
 */
export async function rollbackDeployment(dir: string, opts: { healthCheck: HealthCheck; trust?: string | TrustStore }): Promise<{ from: DeploymentRecord; record: DeploymentRecord }> {
  const root = resolve(dir);
  const trust = typeof opts.trust === 'string' ? await loadTrustStore(opts.trust) : opts.trust;
  return withLock(join(root, '.lock'), async () => {
    const current = await currentDeployment(root);
    if (!current) throw new MillwrightError('NOT_FOUND', `${root} has no current deployment: nothing to roll back`);
    if (current.previous === undefined) throw new MillwrightError('CONFLICT', `deployment ${current.seq} (model ${current.model.id}) is the first pair of ${root}: there is no previous pair to return to`);
    const target = await readDeployment(root, current.previous);
    await verifyReceived(root, 'model', target.model.id, trust);
    if (target.code) await verifyReceived(root, 'code', target.code.id, trust);
    await checkPair(root, target, opts.healthCheck);
    await switchTo(root, target.seq);
    return { from: current, record: target };
  }, LOCK);
}
