import { cp, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import { summarizeFeatures } from './feature-summary.ts';
import { fsyncDir, uniqueId, writeFileAtomic } from '../durable/index.ts';
import { checksumDir, MANIFEST_FILE, sha256 } from './artifact.ts';
import { openChannel } from './channels.ts';
import { codeVersion } from './code-version.ts';
import type { Channel, HyperparameterSchema, Logger, ModelManifest, TrainOutput } from './contract.ts';
import { parseHyperparameters, readHyperparametersFile } from './hyperparameters.ts';
import { silentLogger } from './logger.ts';
import { importTrainModule, resolvePackage } from './packages.ts';
import { materializeStoreQuery } from './store-query.ts';
import { aliasChannels, planInput, readInputDataConfig, readResourceConfig, type InputDataChannel, type InputPlan } from './sagemaker-input.ts';
import { mlBase, storeRoot } from '../config/index.ts';

/** Prefix marking a channel given as a store query instead of a folder. */
export const STORE_CHANNEL_PREFIX = 'store:';

export interface TrainOptions {
  /** Package folder or built-in algorithm name (`random-forest-regression`, `threshold`, ...). */
  package: string;
  /** SageMaker base dir. Default: env `SM_BASE`, else `MILLWRIGHT_ML_BASE`, else `/opt/ml`. */
  base?: string;
  /** Model name in the manifest. Default: the package folder name / built-in name. */
  name?: string;
  /** Model version in the manifest. Default: `<UTC timestamp>-<first 8 hex of the files' hash>`. */
  version?: string;
  /**
   * Hyperparameters merged over `<base>/input/config/hyperparameters.json` (strings, as SageMaker
   * passes them, or typed values) for this run; the file itself is not changed. Default: none.
   */
  hyperparameters?: Record<string, unknown>;
  /**
   * Channels by name: a folder of CSV/Parquet files, or `store:<sql>` (run with lib/store `sql`
   * against `store` and written to `<base>/input/data/<name>/store-query.parquet`). Default: every
   * folder under `<base>/input/data/`.
   */
  channels?: Record<string, string>;
  /**
   * What each channel was made from, for the manifest's `trainingData.source` when the channel is
   * a folder prepared beforehand (a retrain pipeline materialises its store queries first).
   * Default: the channel spec itself.
   */
  channelSources?: Record<string, string>;
  /** Store root for `store:` channels. Default: env `MILLWRIGHT_STORE`, else `./.millwright/store`. */
  store?: string;
  /** Where train's log goes. Default: discarded. */
  log?: Logger;
  /** Resolves relative paths. Default: `process.cwd()`. */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export interface TrainResult {
  /** `<base>/model`. */
  modelDir: string;
  manifest: ModelManifest;
}

/**
 * Runs a model package's `train` in the SageMaker layout and writes a verified artifact:
 * reads `<base>/input/config/hyperparameters.json` (parsed against the package's schema),
 * opens channels from `<base>/input/data/<channel>/` (or folders / store queries given in
 * `channels`), trains into a temp dir, profiles the training table, checksums every file,
 * writes `model.json` and only then renames the dir to `<base>/model` — a failed run leaves
 * the previous model untouched, no partial one, and the reason in `<base>/output/failure`.
 *
 * @example
 * const { manifest } = await trainPackage({
 *   package: 'random-forest-regression',
 *   base: '/tmp/ml',
 *   hyperparameters: { target: 'energy_kwh', trees: '50' },
 *   channels: { train: 'store:SELECT * FROM readings WHERE site = \'plant-a\'' },
 * });
 */
export async function trainPackage(opts: TrainOptions): Promise<TrainResult> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const base = mlBase(opts.base, env, cwd);
  const log = opts.log ?? silentLogger;
  const finalDir = join(base, 'model');
  const failurePath = join(base, 'output', 'failure');
  const tmpDir = join(base, `.model-tmp-${uniqueId()}`);
  try {
    const ref = resolvePackage(opts.package, cwd);
    const mod = await importTrainModule(ref);

    const hpPath = join(base, 'input', 'config', 'hyperparameters.json');
    let raw: Record<string, unknown> = await readHyperparametersFile(hpPath);
    // Overrides apply to this run only (the manifest records the parsed result); writing them
    // back into the input config would make a bad --hp value stick to every later run.
    if (opts.hyperparameters) raw = { ...raw, ...opts.hyperparameters };
    const resources = await readResourceConfig(base);
    const dataConfig = await readInputDataConfig(base);

    const { channels, sources, plan } = await plannedChannels(base, opts, raw, mod, dataConfig, { env, cwd, log });
    const hyperparameters = parseHyperparameters(mod.hyperparameters, plan.raw);
    const spans: Record<string, { from?: string; to?: string }> = {};
    for (const ch of Object.values(channels)) {
      const load = ch.load.bind(ch);
      ch.load = async () => {
        const t = await load();
        spans[ch.name] = timeSpan(t);
        return t;
      };
    }
    for (const required of mod.channels ?? ['train']) {
      if (!channels[required]) {
        throw new MillwrightError(
          'BAD_INPUT',
          `missing channel "${required}": expected ${join(base, 'input', 'data', required)}/ with CSV or Parquet files, or --channel ${required}=<dir|store:<sql>> (channels found: ${Object.keys(channels).join(', ') || 'none'})`,
        );
      }
    }

    await mkdir(tmpDir, { recursive: true });
    log.info('training', { package: ref.algorithm, channels: Object.keys(channels), hyperparameters, layouts: plan.layouts, resources });
    const output = await mod.train({ hyperparameters, channels, modelDir: tmpDir, log });
    checkOutput(output, ref.algorithm);

    const files = await checksumDir(tmpDir);
    const createdAt = new Date().toISOString();
    const version = opts.version ?? `${createdAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${sha256(JSON.stringify(files)).slice(0, 8)}`;
    const featureNames = output.features.map((f) => f.name);
    const present = new Set(output.trainingTable.columnNames());
    const profiled = [...featureNames, ...(output.target && !featureNames.includes(output.target.name) ? [output.target.name] : [])].filter((c) =>
      present.has(c),
    );
    const manifest: ModelManifest = {
      format: 1,
      name: opts.name ?? (ref.builtin ? ref.algorithm : ref.dir.split(/[\\/]/).filter(Boolean).pop()!),
      version,
      algorithm: ref.algorithm,
      task: output.task,
      features: output.features,
      ...(output.target ? { target: output.target } : {}),
      hyperparameters: { ...hyperparameters, ...plan.runner },
      trainingData: trainingData(output, { ...sources, ...opts.channelSources }, spans),
      metrics: output.metrics,
      baseline: summarizeFeatures(output.trainingTable, { columns: profiled }),
      createdAt,
      codeVersion: await codeVersion(ref.builtin ? undefined : ref.dir, env),
      files,
    };
    await writeFileAtomic(join(tmpDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    await swapIntoPlace(tmpDir, finalDir, base);
    await rm(failurePath, { force: true });
    log.info('model written', { dir: finalDir, version, files: Object.keys(files).length });
    return { modelDir: finalDir, manifest };
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    const message = err instanceof Error ? err.message : String(err);
    try {
      await writeFileAtomic(failurePath, `${message}\n`);
    } catch {
      // The base may be unwritable; the error itself still reaches the caller.
    }
    throw err;
  }
}

/**
 * Opens the channels with SageMaker's CSV convention and channel names settled before the schema
 * sees the hyperparameters: a headerless label-first file supplies the target itself.
 */
async function plannedChannels(
  base: string,
  opts: TrainOptions,
  raw: Record<string, unknown>,
  mod: { hyperparameters: HyperparameterSchema; channels?: readonly string[] },
  dataConfig: Record<string, InputDataChannel>,
  ctx: { env: NodeJS.ProcessEnv; cwd: string; log: Logger },
): Promise<{ channels: Record<string, Channel>; sources: Record<string, string>; plan: InputPlan }> {
  const opened = await openChannels(base, opts, ctx.env, ctx.cwd);
  const plan = await planInput(opened.channels, raw, mod.hyperparameters, dataConfig, ctx.log);
  const channels: Record<string, Channel> = {};
  for (const [name, ch] of Object.entries(opened.channels)) {
    channels[name] = plan.layouts[name]?.header === false ? await openChannel(name, ch.dir, { csv: plan.layouts[name] }) : ch;
  }
  return { channels: aliasChannels(channels, mod.channels ?? ['train']), sources: opened.sources, plan };
}

async function openChannels(
  base: string,
  opts: TrainOptions,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ channels: Record<string, Channel>; sources: Record<string, string> }> {
  const channels: Record<string, Channel> = {};
  const sources: Record<string, string> = {};
  const dataDir = join(base, 'input', 'data');
  try {
    for (const e of await readdir(dataDir, { withFileTypes: true })) {
      if (e.isDirectory() && !e.name.startsWith('.')) {
        channels[e.name] = await openChannel(e.name, join(dataDir, e.name));
        sources[e.name] = channels[e.name]!.dir;
      }
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  for (const [name, spec] of Object.entries(opts.channels ?? {})) {
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new MillwrightError('BAD_INPUT', `channel name "${name}" must be letters, digits, "_" or "-"`);
    if (spec.startsWith(STORE_CHANNEL_PREFIX)) {
      const query = spec.slice(STORE_CHANNEL_PREFIX.length).trim();
      if (!query) throw new MillwrightError('BAD_INPUT', `channel "${name}": empty store query (expected store:<sql>)`);
      const root = storeRoot(opts.store, env, cwd);
      await materializeStoreQuery(query, root, join(dataDir, name));
      channels[name] = await openChannel(name, join(dataDir, name));
      sources[name] = spec;
    } else {
      channels[name] = await openChannel(name, resolve(cwd, spec));
      sources[name] = channels[name]!.dir;
    }
  }
  return { channels, sources };
}

function checkOutput(output: TrainOutput, algorithm: string): void {
  const fail = (msg: string): never => {
    throw new MillwrightError('INTERNAL', `package ${algorithm}: train returned ${msg}`);
  };
  if (!output || typeof output !== 'object') fail('nothing (expected a TrainOutput)');
  if (!Array.isArray(output.features) || output.features.length === 0) fail('no features (TrainOutput.features must list the columns predict reads)');
  const t = output.trainingTable as ColumnTable | undefined;
  if (!t || typeof t.numRows !== 'function' || typeof t.columnNames !== 'function') fail('no trainingTable (an arquero table of the fitted data)');
  if (!output.metrics || typeof output.metrics.training !== 'object') fail('no metrics.training');
}

function trainingData(
  output: TrainOutput,
  sources: Record<string, string>,
  spans: Record<string, { from?: string; to?: string }>,
): ModelManifest['trainingData'] {
  const t = output.trainingTable;
  const out: ModelManifest['trainingData'] = {
    source: output.trainingData?.source ?? (sources.train ?? Object.values(sources)[0]),
    rows: output.trainingData?.rows ?? t.numRows(),
  };
  // Prefer what train reported, then the fitted table's ts, then the train channel's ts.
  const fitted = timeSpan(t);
  const channel = spans.train ?? Object.values(spans)[0] ?? {};
  const from = output.trainingData?.from ?? fitted.from ?? channel.from;
  const to = output.trainingData?.to ?? fitted.to ?? channel.to;
  if (from !== undefined) out.from = from;
  if (to !== undefined) out.to = to;
  return out;
}

/** ISO time span of a table's `ts` column (epoch ms numbers or Dates), when it has one. */
function timeSpan(t: ColumnTable): { from?: string; to?: string } {
  if (!t.columnNames().includes('ts')) return {};
  const ts = t.array('ts') as ArrayLike<unknown>;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < ts.length; i++) {
    const v = ts[i];
    const ms = typeof v === 'number' ? v : v instanceof Date ? v.getTime() : NaN;
    if (Number.isFinite(ms)) {
      if (ms < lo) lo = ms;
      if (ms > hi) hi = ms;
    }
  }
  return lo <= hi ? { from: new Date(lo).toISOString(), to: new Date(hi).toISOString() } : {};
}

/** Replaces `<base>/model` by the finished temp dir with renames (same filesystem). */
async function swapIntoPlace(tmpDir: string, finalDir: string, base: string): Promise<void> {
  let old: string | undefined;
  const existing = await stat(finalDir).catch(() => undefined);
  if (existing) {
    if ((await readdir(finalDir)).length === 0) {
      try {
        await rmdir(finalDir);
      } catch (err) {
        // A mount point (real SageMaker container) cannot be removed: copy into it instead.
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
        await cp(tmpDir, finalDir, { recursive: true });
        await rm(tmpDir, { recursive: true, force: true });
        return;
      }
    } else {
      old = join(base, `.model-old-${uniqueId()}`);
      await rename(finalDir, old);
    }
  }
  await rename(tmpDir, finalDir);
  await fsyncDir(base);
  if (old) await rm(old, { recursive: true, force: true });
}
