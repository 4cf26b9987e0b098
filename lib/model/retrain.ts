import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CronExpressionParser } from 'cron-parser';
import { MillwrightError } from '../errors/index.ts';
import { parseDuration } from '../units/index.ts';
import type { Logger, ModelManifest } from './contract.ts';
import { silentLogger } from './logger.ts';
import { registerModel, resolveRegistry, type MetricComparison, type ModelVersionRecord, type RegistryOptions } from './registry.ts';
import { trainPackage } from './train-package.ts';

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
 * One retraining cycle: trains the group's package on the latest store data (channels from the
 * retrain config) in a scratch SageMaker layout and registers the result as
 * `PendingManualApproval`. A failed cycle registers nothing.
 *
 * @example
 * const { record, comparison } = await retrainOnce({ group: 'plant-a' });
 */
export async function retrainOnce(opts: RetrainOptions): Promise<RetrainResult> {
  const root = resolveRegistry(opts);
  const cfg = await readRetrainConfig(opts.config ?? join(root, opts.group, 'retrain.json'));
  const pkg = opts.package ?? cfg.package;
  if (!pkg) throw new MillwrightError('BAD_INPUT', `no package to retrain ${opts.group} with: pass --package or set "package" in the retrain config`);
  const now = opts.now ?? new Date();
  const channels = Object.fromEntries(Object.entries(cfg.channels).map(([k, v]) => [k, fillPlaceholders(v, cfg, now)]));
  const base = await mkdtemp(join(tmpdir(), 'millwright-retrain-'));
  try {
    const { modelDir, manifest } = await trainPackage({
      package: pkg,
      base,
      name: cfg.name ?? opts.group,
      channels,
      ...(cfg.hyperparameters ? { hyperparameters: cfg.hyperparameters } : {}),
      ...(opts.store ?? cfg.store ? { store: opts.store ?? cfg.store } : {}),
      log: opts.log ?? silentLogger,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    const { record, comparison } = await registerModel(modelDir, { ...opts, group: opts.group, note: `retrained ${now.toISOString()}` });
    return { record, manifest, comparison };
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
