import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { MillwrightError } from '../errors/index.ts';
import { parseDuration } from '../units/index.ts';
import type { Logger, ModelManifest } from './contract.ts';
import { silentLogger } from './logger.ts';
import { compareMetrics, latestApproved, registerModel, resolveRegistry, type MetricComparison, type ModelVersionRecord, type RegistryOptions } from './registry.ts';
import { STORE_CHANNEL_PREFIX, trainPackage } from './train-package.ts';
import { materializeStoreQuery } from './store-query.ts';
import { hashChannel, modelFilesHash, storeSnapshot, writeLineage, type HashedFile, type Lineage, type LineageStep } from './lineage.ts';
import { sha256 } from './artifact.ts';
import { storeRoot } from '../config/index.ts';

/**
 * `<registry>/<group>/retrain.json`: how a group is retrained.
 *
 * @example
 * {
 *   "package": "energy-load-curve",
 *   "channels": { "train": "store:SELECT * FROM readings WHERE site = 'plant-a' AND ts >= {from_ms}" },
 *   "window": "90d",
 *   "hyperparameters": { "target": "energy_kwh" },
 *   "schedule": "0 3 1 1,4,7,10 *"
 * }
 */
export interface RetrainConfig {
  /** Package folder or built-in name. */
  package?: string;
  /** Channels: `store:<sql>` (placeholders `{from}`, `{to}` ISO and `{from_ms}`, `{to_ms}` epoch ms) or folders. */
  channels: Record<string, string>;
  /** Look-back window for the placeholders, e.g. `90d`, `12h`, `30m`. Default: none (placeholders refused). */
  window?: string;
  hyperparameters?: Record<string, unknown>;
  /** Store root. Default: env `MILLWRIGHT_STORE`, else `./.millwright/store`. */
  store?: string;
  /** Cron expression (UTC). */
  schedule?: string;
  /** Model name in manifests. Default: the group name. */
  name?: string;
}

export interface RetrainOptions extends RegistryOptions {
  group: string;
  /** Overrides the config's package. */
  package?: string;
  /** Config file. Default `<registry>/<group>/retrain.json`. */
  config?: string;
  /** The config itself (e.g. derived from a plant config); wins over `config`. */
  retrainConfig?: RetrainConfig;
  /** Overrides the config's store root. */
  store?: string;
  log?: Logger;
  /** "Now" for the data window. Default: the current time. */
  now?: Date;
}

export interface RetrainResult {
  record: ModelVersionRecord;
  manifest: ModelManifest;
  comparison: MetricComparison[];
  /** The recorded pipeline; `lineage.reproduces` says whether an earlier run on the same inputs gave the same model bytes. */
  lineage: Lineage;
}

/** Reads a group's retrain config (see {@link RetrainConfig}); clear errors for a missing or malformed file. */
export async function readRetrainConfig(path: string): Promise<RetrainConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MillwrightError('NOT_FOUND', `retrain config ${path} not found; write one with at least {"channels": {"train": "store:<sql>"}}`);
    }
    throw err;
  }
  let cfg: RetrainConfig;
  try {
    cfg = JSON.parse(text) as RetrainConfig;
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `retrain config ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!cfg || typeof cfg.channels !== 'object' || cfg.channels === null || Object.keys(cfg.channels).length === 0) {
    throw new MillwrightError('BAD_INPUT', `retrain config ${path}: "channels" must map channel names to store:<sql> queries or folders`);
  }
  return cfg;
}

/** Milliseconds of a window such as `90d`, `12h`, `30m` (a bare number is refused: days or minutes?). */
export function parseWindow(window: string): number {
  return parseDuration(window, { what: 'retrain window' });
}

function fillPlaceholders(spec: string, cfg: RetrainConfig, now: Date): string {
  if (!/\{(from|to)(_ms)?\}/.test(spec)) return spec;
  if (!cfg.window) throw new MillwrightError('BAD_INPUT', `channel query uses {from}/{to} placeholders but the retrain config has no "window"`);
  const to = now.getTime();
  const from = to - parseWindow(cfg.window);
  return spec
    .replaceAll('{from_ms}', String(from))
    .replaceAll('{to_ms}', String(to))
    .replaceAll('{from}', new Date(from).toISOString())
    .replaceAll('{to}', new Date(to).toISOString());
}

/**
 * One retraining cycle, run as a recorded pipeline: prepare (channels from the retrain config
 * materialised and hashed) -> train (the group's package in a scratch SageMaker layout) ->
 * evaluate (holdout metrics against the approved version) -> register (`PendingManualApproval`),
 * with `lineage.json` beside the version. A failed cycle registers nothing.
 *
 * @example
 * const { record, comparison } = await retrainOnce({ group: 'plant-a' });
 */
export async function retrainOnce(opts: RetrainOptions): Promise<RetrainResult> {
  const root = resolveRegistry(opts);
  const cfg = opts.retrainConfig ?? (await readRetrainConfig(opts.config ?? join(root, opts.group, 'retrain.json')));
  const pkg = opts.package ?? cfg.package;
  if (!pkg) throw new MillwrightError('BAD_INPUT', `no package to retrain ${opts.group} with: pass --package or set "package" in the retrain config`);
  const now = opts.now ?? new Date();
  const channels = Object.fromEntries(Object.entries(cfg.channels).map(([k, v]) => [k, fillPlaceholders(v, cfg, now)]));
  const base = await mkdtemp(join(tmpdir(), 'millwright-retrain-'));
  const stamp = () => new Date().toISOString();
  try {
    // prepare: every channel becomes files in the SageMaker layout, hashed, so lineage names the exact data.
    const prepareStart = stamp();
    const store = storeRoot(opts.store ?? cfg.store, opts.env ?? process.env, opts.cwd ?? process.cwd());
    const folders: Record<string, string> = {};
    const prepared: Record<string, HashedFile[]> = {};
    for (const [name, spec] of Object.entries(channels)) {
      const dir = join(base, 'input', 'data', name);
      if (spec.startsWith(STORE_CHANNEL_PREFIX)) await materializeStoreQuery(spec.slice(STORE_CHANNEL_PREFIX.length).trim(), store, dir);
      folders[name] = spec.startsWith(STORE_CHANNEL_PREFIX) ? dir : resolve(opts.cwd ?? process.cwd(), spec);
      prepared[name] = await hashChannel(folders[name]!, spec.startsWith(STORE_CHANNEL_PREFIX) ? base : folders[name]!);
    }
    const usesStore = Object.values(channels).some((c) => c.startsWith(STORE_CHANNEL_PREFIX));
    const prepare: LineageStep = {
      name: 'prepare', start: prepareStart, end: stamp(),
      inputs: { channels, window: cfg.window ?? null, now: now.toISOString(), ...(usesStore ? { store, storeSnapshot: await storeSnapshot(store) } : {}) },
      outputs: prepared,
    };
    const trainStart = stamp();
    const { modelDir, manifest } = await trainPackage({
      package: pkg,
      base,
      name: cfg.name ?? opts.group,
      channels: folders,
      channelSources: channels,
      ...(cfg.hyperparameters ? { hyperparameters: cfg.hyperparameters } : {}),
      log: opts.log ?? silentLogger,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    const train: LineageStep = {
      name: 'train', start: trainStart, end: stamp(),
      inputs: { package: pkg, codeVersion: manifest.codeVersion, hyperparameters: manifest.hyperparameters ?? cfg.hyperparameters ?? {} },
      outputs: { modelName: manifest.name, modelVersion: manifest.version, files: manifest.files },
    };
    const evaluateStart = stamp();
    const approved = await latestApproved(opts.group, opts);
    const evaluate: LineageStep = {
      name: 'evaluate', start: evaluateStart, end: stamp(),
      inputs: { holdout: manifest.metrics.holdout ?? null, approvedVersion: approved?.version ?? null },
      outputs: { metrics: manifest.metrics, comparison: compareMetrics(manifest.metrics.holdout, approved?.metrics.holdout) },
    };
    const registerStart = stamp();
    const { record, comparison } = await registerModel(modelDir, { ...opts, group: opts.group, note: `retrained ${now.toISOString()}` });
    const register: LineageStep = { name: 'register', start: registerStart, end: stamp(), inputs: { group: opts.group }, outputs: { version: record.version, status: record.status, manifestSha256: record.manifestSha256 } };
    const inputsSha256 = sha256(JSON.stringify({ data: prepared, package: pkg, code: manifest.codeVersion, hyperparameters: train.inputs.hyperparameters }));
    const lineage = await writeLineage({ format: 1, group: opts.group, version: record.version, inputsSha256, modelFilesSha256: modelFilesHash(manifest.files), steps: [prepare, train, evaluate, register] }, opts);
    return { record, manifest, comparison, lineage };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

/**
 * Next run time of a cron expression (UTC) after `from`; BAD_INPUT for an invalid expression.
 *
 * @example
 * nextRun('0 3 1 *\/3 *', new Date('2026-02-10T00:00:00Z')); // 2026-04-01T03:00:00.000Z
 */
export function nextRun(schedule: string, from: Date = new Date()): Date {
  try {
    return CronExpressionParser.parse(schedule, { currentDate: from, tz: 'UTC' }).next().toDate();
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `invalid cron schedule "${schedule}": ${(err as Error).message} (expected 5 or 6 fields, e.g. "0 */2 * * *")`);
  }
}

/**
 * Retrains on a cron schedule until `signal` aborts: sleeps until the next run, runs
 * {@link retrainOnce}, reports each cycle through `onCycle` (a failed cycle is reported and the
 * schedule continues).
 *
 * @example
 * const stop = new AbortController();
 * await retrainOnSchedule({ group: 'plant-a', schedule: '0 *\/2 * * *', signal: stop.signal, onCycle: console.log });
 */
export async function retrainOnSchedule(
  opts: RetrainOptions & { schedule: string; signal?: AbortSignal; onCycle?: (r: RetrainResult | Error, at: Date) => void },
): Promise<void> {
  nextRun(opts.schedule); // validate before sleeping
  while (!opts.signal?.aborted) {
    const at = nextRun(opts.schedule);
    const slept = await sleepUntil(at, opts.signal);
    if (!slept) return;
    try {
      opts.onCycle?.(await retrainOnce({ ...opts, now: new Date() }), at);
    } catch (err) {
      opts.onCycle?.(err instanceof Error ? err : new Error(String(err)), at);
    }
  }
}

function sleepUntil(at: Date, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    // setTimeout caps at ~24.8 days: wake up periodically for longer (quarterly) schedules.
    const wait = Math.min(Math.max(0, at.getTime() - Date.now()), 2 ** 31 - 1);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(Date.now() >= at.getTime() ? true : sleepUntil(at, signal));
    }, wait);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
