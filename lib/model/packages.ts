import { existsSync, statSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MillwrightError } from '../errors/index.ts';
import type { HyperparameterSchema, LoadFn, PredictFn, PredictMatrixFn, PredictTensorsFn, TensorSignature, TrainFn } from './contract.ts';

/** A model package resolved on disk: a built-in algorithm or a user folder. */
export interface PackageRef {
  /** Recorded as `manifest.algorithm`: the built-in name, or the package's absolute path. */
  algorithm: string;
  /** Absolute package folder. */
  dir: string;
  builtin: boolean;
}

/** What `train.ts` exports. `channels` (optional) lists the channels training needs (default `['train']`). */
export interface TrainModule {
  hyperparameters: HyperparameterSchema;
  train: TrainFn;
  channels?: readonly string[];
}

/** What `predict.ts` exports. */
export interface PredictModule {
  load: LoadFn;
  predict: PredictFn;
  predictMatrix?: PredictMatrixFn;
  /** Tensor path (with `tensorSignature`): models whose inputs are tensors of any shape, e.g. images. */
  predictTensors?: PredictTensorsFn;
  /** The loaded model's tensor signature, or undefined when it is a tabular model. */
  tensorSignature?: (model: unknown) => TensorSignature | undefined;
  /** Notes about a loaded model for the operator's log (engine chosen, calibration figures). */
  describe?: (model: unknown) => Record<string, unknown> | undefined;
}

const BUILTIN_NAME = /^[a-z0-9][a-z0-9-]*$/;
const EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** Folder holding the built-in algorithm packages (`lib/algorithms/`, or its compiled twin in dist/). */
export function builtinAlgorithmsDir(): string {
  return fileURLToPath(new URL('../algorithms/', import.meta.url));
}

/** Names of the built-in algorithm packages present (folders with both train and predict). */
export function listBuiltinAlgorithms(): string[] {
  const root = builtinAlgorithmsDir();
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && BUILTIN_NAME.test(e.name))
    .map((e) => e.name)
    .filter((name) => findModuleFile(join(root, name), 'train') && findModuleFile(join(root, name), 'predict'))
    .sort();
}

/**
 * Resolves `<package-dir|builtin-name>`: a value that looks like a path (has `/`, starts with
 * `.`, or exists relative to `cwd`) is a user package folder; otherwise a built-in name under
 * `lib/algorithms/`.
 *
 * @example
 * resolvePackage('threshold');          // built-in
 * resolvePackage('./my-model', cwd);    // user package
 */
export function resolvePackage(spec: string, cwd: string = process.cwd()): PackageRef {
  const looksLikePath = spec.includes('/') || spec.includes('\\') || spec.startsWith('.') || existsSync(resolve(cwd, spec));
  if (!looksLikePath) {
    if (!BUILTIN_NAME.test(spec)) throw new MillwrightError('BAD_INPUT', `"${spec}" is neither a package folder nor a built-in algorithm name`);
    const dir = join(builtinAlgorithmsDir(), spec);
    if (!findModuleFile(dir, 'train') || !findModuleFile(dir, 'predict')) {
      const known = listBuiltinAlgorithms();
      throw new MillwrightError('NOT_FOUND', `unknown algorithm "${spec}": no such folder and no built-in of that name (built-ins: ${known.length ? known.join(', ') : 'none installed'})`);
    }
    return { algorithm: spec, dir, builtin: true };
  }
  const dir = resolve(cwd, spec);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new MillwrightError('NOT_FOUND', `model package folder ${dir} does not exist (expected a folder with train.ts and predict.ts)`);
  }
  for (const part of ['train', 'predict'] as const) {
    if (!findModuleFile(dir, part)) {
      throw new MillwrightError('BAD_INPUT', `model package ${dir} has no ${part}.ts (a package needs train.ts and predict.ts; run "millwright init-model <dir>" for a template)`);
    }
  }
  return { algorithm: dir, dir, builtin: false };
}

function findModuleFile(dir: string, stem: string): string | undefined {
  for (const ext of EXTENSIONS) {
    const f = join(dir, stem + ext);
    if (existsSync(f)) return f;
  }
  return undefined;
}

/**
 * Imports a package module. A plain `import()` comes first: under tsx (dev, tests) it handles
 * `.ts` and shares module instances with the app, so e.g. `MillwrightError` thrown by a built-in
 * stays an `instanceof MillwrightError` for the CLI and server error mapping. When Node cannot
 * load `.ts` itself (the compiled CLI running from dist/), tsx's programmatic loader imports it.
 */
async function importModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href;
  try {
    try {
      return (await import(url)) as Record<string, unknown>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw err;
      // Loaded only here: serving workers import this module and should not pay for tsx.
      const { tsImport } = await import('tsx/esm/api');
      return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    }
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `cannot import ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Imports and checks a package's `train` module. */
export async function importTrainModule(ref: PackageRef): Promise<TrainModule> {
  const file = findModuleFile(ref.dir, 'train')!;
  const mod = await importModule(file);
  if (typeof mod.train !== 'function') throw new MillwrightError('BAD_INPUT', `${file} must export a function "train" (TrainFn)`);
  const hp = mod.hyperparameters ?? {};
  if (hp === null || typeof hp !== 'object' || Array.isArray(hp)) {
    throw new MillwrightError('BAD_INPUT', `${file}: "hyperparameters" must be an object (HyperparameterSchema)`);
  }
  const channels = mod.channels;
  if (channels !== undefined && !(Array.isArray(channels) && channels.every((c) => typeof c === 'string'))) {
    throw new MillwrightError('BAD_INPUT', `${file}: "channels" must be an array of channel names`);
  }
  return { train: mod.train as TrainFn, hyperparameters: hp as HyperparameterSchema, channels: channels as string[] | undefined };
}

/** Imports and checks a package's `predict` module. */
export async function importPredictModule(ref: PackageRef): Promise<PredictModule> {
  const file = findModuleFile(ref.dir, 'predict')!;
  const mod = await importModule(file);
  if (typeof mod.load !== 'function' || typeof mod.predict !== 'function') {
    throw new MillwrightError('BAD_INPUT', `${file} must export functions "load" (LoadFn) and "predict" (PredictFn)`);
  }
  return {
    load: mod.load as LoadFn,
    predict: mod.predict as PredictFn,
    ...(typeof mod.predictMatrix === 'function' ? { predictMatrix: mod.predictMatrix as PredictMatrixFn } : {}),
    ...(typeof mod.describe === 'function' ? { describe: mod.describe as PredictModule['describe'] } : {}),
    ...(typeof mod.predictTensors === 'function' && typeof mod.tensorSignature === 'function'
      ? { predictTensors: mod.predictTensors as PredictTensorsFn, tensorSignature: mod.tensorSignature as PredictModule['tensorSignature'] }
      : {}),
  };
}

/**
 * Finds the package a manifest names WITHOUT trusting the artifact: a built-in name resolves
 * under lib/algorithms/; any other value must match a package folder the operator allowed
 * (`allowed`, from `loadModel` options or `MILLWRIGHT_MODEL_PACKAGES`), by absolute path or,
 * when the artifact was trained elsewhere, by folder name.
 */
export function packageForManifest(algorithm: string, allowed: string[]): PackageRef {
  if (BUILTIN_NAME.test(algorithm)) return resolvePackage(algorithm);
  const dirs = allowed.map((d) => resolve(d));
  const exact = dirs.find((d) => d === resolve(algorithm));
  const byName = dirs.filter((d) => basename(d) === basename(algorithm));
  const dir = exact ?? (byName.length === 1 ? byName[0] : undefined);
  if (dir === undefined) {
    throw new MillwrightError(
      'UNAVAILABLE',
      `model was trained with package ${algorithm}, which is not a built-in and not among the allowed packages (${dirs.length ? dirs.join(', ') : 'none configured'}); ` +
        'pass { packages: [dir] } to loadModel or set MILLWRIGHT_MODEL_PACKAGES (code is never loaded from the artifact itself)',
    );
  }
  return resolvePackage(dir);
}
