import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { readEnv, type Env } from './variables.ts';

// Each resolver: an explicit value (flag or option) wins, else the variable (empty = unset),
// else the default; relative paths resolve against `cwd` (the CLI passes its io.cwd).

/**
 * Store root: `flag`, else `MILLWRIGHT_STORE`, else `./.millwright/store`, against `cwd`.
 *
 * @example
 * import { storeRoot } from 'millwright';
 * storeRoot(undefined, { MILLWRIGHT_STORE: '/data/store' }); // '/data/store'
 */
export function storeRoot(flag?: string, env: Env = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? readEnv('MILLWRIGHT_STORE', env) ?? './.millwright/store');
}

/**
 * Spool directory: `flag`, else `MILLWRIGHT_SPOOL`, else `./.millwright/spool`, against `cwd`.
 *
 * @example
 * import { spoolDir } from 'millwright';
 * spoolDir(undefined, {}, '/srv'); // '/srv/.millwright/spool'
 */
export function spoolDir(flag?: string, env: Env = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? readEnv('MILLWRIGHT_SPOOL', env) ?? '.millwright/spool');
}

/**
 * Model registry folder: `flag`, else `MILLWRIGHT_REGISTRY`, else `./.millwright/registry`.
 *
 * @example
 * import { registryDir } from 'millwright';
 * registryDir(undefined, { MILLWRIGHT_REGISTRY: '' }, '/srv'); // '/srv/.millwright/registry'
 */
export function registryDir(flag?: string, env: Env = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? readEnv('MILLWRIGHT_REGISTRY', env) ?? './.millwright/registry');
}

/**
 * SageMaker-style base folder for training: `flag`, else `SM_BASE`, else `MILLWRIGHT_ML_BASE`, else `/opt/ml`.
 *
 * @example
 * import { mlBase } from 'millwright';
 * mlBase(undefined, { MILLWRIGHT_ML_BASE: './ml' }, '/srv'); // '/srv/ml'
 */
export function mlBase(flag?: string, env: Env = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? readEnv('SM_BASE', env) ?? readEnv('MILLWRIGHT_ML_BASE', env) ?? '/opt/ml');
}

/**
 * Model folder to serve: `flag`, else `SM_MODEL_DIR`, else `/opt/ml/model`.
 *
 * @example
 * import { servedModelDir } from 'millwright';
 * servedModelDir(undefined, {}); // '/opt/ml/model'
 */
export function servedModelDir(flag?: string, env: Env = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? readEnv('SM_MODEL_DIR', env) ?? '/opt/ml/model');
}

let startDir: string | undefined;

/**
 * The directory the process started in, captured at first use: relative data dirs resolve
 * against it, so a later `process.chdir` (or a notebook cell that changes directory) cannot make
 * the same setting point somewhere else halfway through a session.
 */
export function processStartDir(): string {
  startDir ??= process.cwd();
  return startDir;
}

/**
 * The real-datasets folder: `dir`, else `MILLWRIGHT_DATA_DIR`; a relative value resolves against
 * {@link processStartDir}. Throws NOT_FOUND when neither is given, or when the folder does not
 * exist (naming the variable, the value and the absolute path tried).
 *
 * @example
 * import { dataDir } from 'millwright';
 * dataDir('/data/datasets'); // '/data/datasets'
 */
export function dataDir(dir?: string, env: Env = process.env): string {
  const fromEnv = dir === undefined;
  const chosen = dir ?? readEnv('MILLWRIGHT_DATA_DIR', env);
  if (chosen === undefined || chosen === '') {
    throw new MillwrightError(
      'NOT_FOUND',
      'no data directory: pass one (--data-dir DIR) or set MILLWRIGHT_DATA_DIR to the folder holding the real datasets (e.g. ../shared/datasets); without real data, "millwright generate" builds a synthetic plant',
    );
  }
  const abs = resolve(processStartDir(), chosen);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    const given = fromEnv ? `MILLWRIGHT_DATA_DIR=${JSON.stringify(chosen)}` : `data dir ${JSON.stringify(chosen)}`;
    const relative = isAbsolute(chosen) ? '' : ` (relative paths resolve against ${processStartDir()}, where the process started)`;
    throw new MillwrightError(
      'NOT_FOUND',
      `data directory ${abs} does not exist (expected a folder holding the real datasets): ${given}${relative}; give the absolute path of the datasets folder instead`,
      { details: { variable: fromEnv ? 'MILLWRIGHT_DATA_DIR' : undefined, value: chosen, path: abs } },
    );
  }
  return abs;
}

/**
 * The folder of plant configs: `flag`, else `MILLWRIGHT_PLANTS`, else `./plants`.
 *
 * @example
 * import { plantsDir } from 'millwright';
 * plantsDir(undefined, { MILLWRIGHT_PLANTS: '/etc/millwright/plants' }); // '/etc/millwright/plants'
 */
export function plantsDir(flag?: string, env: Env = process.env, cwd = process.cwd()): string {
  return resolve(cwd, flag ?? readEnv('MILLWRIGHT_PLANTS', env) ?? './plants');
}
