import { chmod, cp, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { direntsIfExists, fsyncDir, readdirIfExists, uniqueId, withLock, writeFileAtomic, type LockOptions } from '../durable/index.ts';
import { MANIFEST_FILE, sha256, verifyArtifact, listArtifactFiles } from './artifact.ts';
import type { Metrics, ModelManifest } from './contract.ts';
import { registryDir } from '../config/index.ts';
import { SIGNATURE_FILE, verifySignedModel, type TrustStore } from './signing.ts';

/** Approval status of a registered version (SageMaker Model Registry's names). */
export type ApprovalStatus = 'PendingManualApproval' | 'Approved' | 'Rejected';

/** One registered, immutable model version (`<registry>/<group>/versions/<n>/version.json`). */
export interface ModelVersionRecord {
  group: string;
  /** 1, 2, 3, ... per group, assigned at registration. */
  version: number;
  status: ApprovalStatus;
  registeredAt: string;
  updatedAt: string;
  statusHistory: { status: ApprovalStatus; at: string; note?: string }[];
  /** From the manifest, for listings without opening it. */
  modelName: string;
  modelVersion: string;
  algorithm: string;
  task: ModelManifest['task'];
  metrics: ModelManifest['metrics'];
  /** SHA-256 of model.json as registered: the manifest itself is checked on every deploy. */
  manifestSha256: string;
  /** Folder the artifact was registered from. */
  source: string;
  /** Key id of the Ed25519 signature the artifact carried (`model.sig`), when it was signed; verified against `trust` when given. */
  signer?: string;
}

/** A version with its artifact location. */
export interface RegisteredModel {
  record: ModelVersionRecord;
  /** The artifact dir (pass to `loadModel`). */
  dir: string;
  manifest: ModelManifest;
}

/** One holdout metric of a candidate against the approved version. */
export interface MetricComparison {
  metric: string;
  candidate?: number;
  approved?: number;
  /** candidate − approved. */
  delta?: number;
  /** Whether the candidate is better, when the metric's direction is known. */
  better?: boolean;
}

export interface RegistryOptions {
  /** Registry folder. Default: env `MILLWRIGHT_REGISTRY`, else `./.millwright/registry`. */
  registry?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Lock timing (see `withLock`). */
  lock?: LockOptions;
}

const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** @internal The registry's one lock file (every write takes it). */
export const LOCK_FILE = '.lock';
const RECORD_FILE = 'version.json';

/** The registry folder from options/environment. */
export function resolveRegistry(opts: RegistryOptions = {}): string {
  return registryDir(opts.registry, opts.env ?? process.env, opts.cwd ?? process.cwd());
}

/** @internal */
export function checkGroup(group: string): void {
  if (!GROUP.test(group) || group.includes('..')) {
    throw new MillwrightError('BAD_INPUT', `invalid model group "${group}": use letters, digits, ".", "_" or "-" (e.g. a site or asset class such as plant-a)`);
  }
}

/** @internal */
export function checkVersion(version: number | string): number {
  const n = typeof version === 'number' ? version : Number(version);
  if (!Number.isInteger(n) || n < 1) throw new MillwrightError('BAD_INPUT', `invalid version "${version}": expected a positive integer`);
  return n;
}

function versionDir(root: string, group: string, version: number): string {
  return join(root, group, 'versions', String(version));
}

/**
 * Registers a trained model dir under `group` as a new version with status
 * `PendingManualApproval`. The artifact is verified, copied in (read-only), verified again,
 * and only then published under the registry lock with the next version number, so concurrent
 * registrations get distinct versions and a failure leaves nothing behind. Resolves to the new
 * record and the holdout-metric comparison with the group's latest approved version.
 *
 * @example
 * const { record, comparison } = await registerModel('/opt/ml/model', { group: 'plant-a' });
 */
export async function registerModel(
  modelDir: string,
  opts: RegistryOptions & { group: string; note?: string; trust?: TrustStore },
): Promise<{ record: ModelVersionRecord; comparison: MetricComparison[]; approved?: ModelVersionRecord }> {
  checkGroup(opts.group);
  const root = resolveRegistry(opts);
  const source = resolve(opts.cwd ?? process.cwd(), modelDir);
  const manifest = await verifyArtifact(source);
  const groupDir = join(root, opts.group);
  const incoming = join(groupDir, `.incoming-${uniqueId()}`);
  try {
    await mkdir(join(groupDir, 'versions'), { recursive: true });
    await cp(source, join(incoming, 'model'), { recursive: true, errorOnExist: true, force: false });
    // Verify the copy too: the source could have changed between the check and the copy.
    const copied = await verifyArtifact(join(incoming, 'model'));
    const manifestSha256 = sha256(await readFile(join(incoming, 'model', MANIFEST_FILE)));
    const signer = await signerOf(join(incoming, 'model'), opts.trust);
    await makeReadOnly(join(incoming, 'model'));
    return await withLock(
      join(root, LOCK_FILE),
      async () => {
        const existing = await readRecords(root, opts.group);
        const version = existing.reduce((m, r) => Math.max(m, r.version), 0) + 1;
        const now = new Date().toISOString();
        const record: ModelVersionRecord = {
          group: opts.group,
          version,
          status: 'PendingManualApproval',
          registeredAt: now,
          updatedAt: now,
          statusHistory: [{ status: 'PendingManualApproval', at: now, ...(opts.note ? { note: opts.note } : {}) }],
          modelName: copied.name,
          modelVersion: copied.version,
          algorithm: copied.algorithm,
          task: copied.task,
          metrics: copied.metrics,
          manifestSha256,
          source,
          ...(signer ? { signer } : {}),
        };
        await writeFileAtomic(join(incoming, RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
        await rename(incoming, versionDir(root, opts.group, version));
        await fsyncDir(join(groupDir, 'versions'));
        const approved = latestOf(existing, 'Approved');
        return { record, comparison: compareMetrics(manifest.metrics.holdout, approved?.metrics.holdout), ...(approved ? { approved } : {}) };
      },
      opts.lock,
    );
  } finally {
    await rm(incoming, { recursive: true, force: true });
  }
}

/** The signer of a signed artifact (verified when a trust store is given), or undefined when unsigned. */
async function signerOf(dir: string, trust: TrustStore | undefined): Promise<string | undefined> {
  if (trust) return (await verifySignedModel(dir, trust)).keyId;
  try {
    return (JSON.parse(await readFile(join(dir, SIGNATURE_FILE), 'utf8')) as { keyId?: string }).keyId;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MillwrightError('INTEGRITY', `${join(dir, SIGNATURE_FILE)} is not a valid signature file: ${(err as Error).message}`);
  }
}

async function makeReadOnly(dir: string): Promise<void> {
  await chmod(join(dir, MANIFEST_FILE), 0o444);
  await chmod(join(dir, SIGNATURE_FILE), 0o444).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
  });
  for (const rel of await listArtifactFiles(dir)) await chmod(join(dir, ...rel.split('/')), 0o444);
}

/**
 * Approves a pending version: it becomes deployable (the latest approved one is served).
 * The artifact is verified first; a tampered version cannot be approved.
 *
 * @example
 * await approveVersion('plant-a', 3, { note: 'holdout RMSE 4 % better, checked by QA' });
 */
export function approveVersion(group: string, version: number | string, opts: RegistryOptions & { note?: string } = {}): Promise<ModelVersionRecord> {
  return transition(group, version, 'Approved', opts);
}

/**
 * Rejects a pending version, or withdraws an approved one (it stops being deployable and the
 * previous approved version is served again).
 *
 * @example
 * await rejectVersion('plant-a', 3, { note: 'drifted on the night shift' });
 */
export function rejectVersion(group: string, version: number | string, opts: RegistryOptions & { note?: string } = {}): Promise<ModelVersionRecord> {
  return transition(group, version, 'Rejected', opts);
}

const ALLOWED: Record<ApprovalStatus, ApprovalStatus[]> = {
  PendingManualApproval: ['Approved', 'Rejected'],
  Approved: ['Rejected'],
  Rejected: [],
};

async function transition(group: string, version: number | string, to: ApprovalStatus, opts: RegistryOptions & { note?: string }): Promise<ModelVersionRecord> {
  checkGroup(group);
  const n = checkVersion(version);
  const root = resolveRegistry(opts);
  return withLock(
    join(root, LOCK_FILE),
    async () => {
      const record = await readRecord(root, group, n);
      if (!ALLOWED[record.status].includes(to)) {
        throw new MillwrightError('CONFLICT', `${group} version ${n} is ${record.status}; it cannot become ${to} (allowed: ${ALLOWED[record.status].join(', ') || 'none, it is final'})`);
      }
      if (to === 'Approved') {
        // Never approve something that would fail to deploy.
        await verifyRegistered(root, record);
      }
      const now = new Date().toISOString();
      const next: ModelVersionRecord = {
        ...record,
        status: to,
        updatedAt: now,
        statusHistory: [...record.statusHistory, { status: to, at: now, ...(opts.note ? { note: opts.note } : {}) }],
      };
      await writeFileAtomic(join(versionDir(root, group, n), RECORD_FILE), `${JSON.stringify(next, null, 2)}\n`);
      return next;
    },
    opts.lock,
  );
}

/** @internal */
export async function readRecord(root: string, group: string, version: number): Promise<ModelVersionRecord> {
  const path = join(versionDir(root, group, version), RECORD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MillwrightError('NOT_FOUND', `model group "${group}" has no version ${version} in ${root}`);
    throw err;
  }
  try {
    return JSON.parse(text) as ModelVersionRecord;
  } catch {
    throw new MillwrightError('INTEGRITY', `registry record ${path} is not valid JSON`);
  }
}

async function readRecords(root: string, group: string): Promise<ModelVersionRecord[]> {
  const names = await readdirIfExists(join(root, group, 'versions'));
  const versions = names.filter((n) => /^[1-9][0-9]*$/.test(n)).map(Number).sort((a, b) => a - b);
  return Promise.all(versions.map((v) => readRecord(root, group, v)));
}

function latestOf(records: ModelVersionRecord[], status: ApprovalStatus): ModelVersionRecord | undefined {
  return records.filter((r) => r.status === status).sort((a, b) => b.version - a.version)[0];
}

/**
 * Every version of a group, oldest first (empty for an unknown group).
 *
 * @example
 * (await listVersions('plant-a')).map((r) => `${r.version}: ${r.status}`);
 */
export async function listVersions(group: string, opts: RegistryOptions = {}): Promise<ModelVersionRecord[]> {
  checkGroup(group);
  return readRecords(resolveRegistry(opts), group);
}

/**
 * Groups in the registry with their version counts and latest approved version.
 *
 * @example
 * await listGroups(); // [{ group: 'plant-a', versions: 2, pending: 1, latestApproved: 1 }]
 */
export async function listGroups(opts: RegistryOptions = {}): Promise<{ group: string; versions: number; pending: number; latestApproved?: number }[]> {
  const root = resolveRegistry(opts);
  const entries = await direntsIfExists(root);
  const out = [];
  for (const e of entries.filter((e) => e.isDirectory() && GROUP.test(e.name)).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const records = await readRecords(root, e.name);
    const approved = latestOf(records, 'Approved');
    out.push({
      group: e.name,
      versions: records.length,
      pending: records.filter((r) => r.status === 'PendingManualApproval').length,
      ...(approved ? { latestApproved: approved.version } : {}),
    });
  }
  return out;
}

/**
 * One version with its artifact dir and manifest (not verified: use {@link getDeployable} to serve).
 *
 * @example
 * const { record, manifest } = await getVersion('plant-a', 2);
 */
export async function getVersion(group: string, version: number | string, opts: RegistryOptions = {}): Promise<RegisteredModel> {
  checkGroup(group);
  const root = resolveRegistry(opts);
  const record = await readRecord(root, group, checkVersion(version));
  const dir = join(versionDir(root, group, record.version), 'model');
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest;
  return { record, dir, manifest };
}

/**
 * The group's highest approved version record, or undefined when none is approved. Cheap (reads
 * the small version.json files only): poll this, and call {@link getDeployable} when it changes.
 *
 * @example
 * const v = await latestApproved('plant-a'); // v?.version
 */
export async function latestApproved(group: string, opts: RegistryOptions = {}): Promise<ModelVersionRecord | undefined> {
  return latestOf(await listVersions(group, opts), 'Approved');
}

/**
 * The version to serve: `version` if given (it must be Approved), else the latest approved one.
 * Its artifact is verified (every file's checksum, and model.json against the hash recorded at
 * registration). Throws NOT_FOUND when nothing is approved, CONFLICT for a non-approved version,
 * INTEGRITY for a tampered artifact.
 *
 * @example
 * const { dir } = await getDeployable('plant-a');
 * const model = await loadModel(dir);
 */
export async function getDeployable(group: string, opts: RegistryOptions & { version?: number | string } = {}): Promise<RegisteredModel> {
  checkGroup(group);
  const root = resolveRegistry(opts);
  let record: ModelVersionRecord | undefined;
  if (opts.version !== undefined) {
    record = await readRecord(root, group, checkVersion(opts.version));
    if (record.status !== 'Approved') {
      throw new MillwrightError('CONFLICT', `${group} version ${record.version} is ${record.status}; only an Approved version can be deployed`);
    }
  } else {
    record = latestOf(await readRecords(root, group), 'Approved');
    if (!record) throw new MillwrightError('NOT_FOUND', `model group "${group}" has no approved version in ${root} (approve one with: millwright registry approve ${group} <version>)`);
  }
  const { dir, manifest } = await verifyRegistered(root, record);
  return { record, dir, manifest };
}

/** @internal Verifies a registered version's files and manifest hash. */
export async function verifyRegistered(root: string, record: ModelVersionRecord): Promise<{ dir: string; manifest: ModelManifest }> {
  const dir = join(versionDir(root, record.group, record.version), 'model');
  const manifest = await verifyArtifact(dir);
  const actual = sha256(await readFile(join(dir, MANIFEST_FILE)));
  if (actual !== record.manifestSha256) {
    throw new MillwrightError('INTEGRITY', `${record.group} version ${record.version}: model.json was modified after registration (sha256 ${actual.slice(0, 12)}…, registered ${record.manifestSha256.slice(0, 12)}…)`);
  }
  return { dir, manifest };
}

const LOWER_IS_BETTER = /(rmse|mae|mse|mape|error|loss|nmbe|cv_rmse|cvrmse|false)/i;
const HIGHER_IS_BETTER = /(r2|accuracy|precision|recall|f1|auc|kappa)/i;

/**
 * Side-by-side holdout metrics: every metric of either side, with the delta and, where the
 * metric's direction is known from its name (errors lower, scores higher; NMBE by magnitude),
 * whether the candidate is better.
 *
 * @example
 * compareMetrics({ rmse: 1.1 }, { rmse: 1.3 }); // [{ metric: 'rmse', candidate: 1.1, approved: 1.3, delta: -0.2, better: true }]
 */
export function compareMetrics(candidate: Metrics | undefined, approved: Metrics | undefined): MetricComparison[] {
  const keys = [...new Set([...Object.keys(candidate ?? {}), ...Object.keys(approved ?? {})])].sort();
  return keys.map((metric) => {
    const c = candidate?.[metric];
    const a = approved?.[metric];
    const out: MetricComparison = { metric };
    if (typeof c === 'number') out.candidate = c;
    if (typeof a === 'number') out.approved = a;
    if (typeof c === 'number' && typeof a === 'number' && Number.isFinite(c) && Number.isFinite(a)) {
      out.delta = c - a;
      if (/nmbe/i.test(metric)) out.better = Math.abs(c) < Math.abs(a);
      else if (HIGHER_IS_BETTER.test(metric)) out.better = c > a;
      else if (LOWER_IS_BETTER.test(metric)) out.better = c < a;
      if (c === a) delete out.better;
    }
    return out;
  });
}
