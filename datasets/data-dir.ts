import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { MillwrightError } from '../lib/errors/index.ts';

/** Environment variable naming the real-datasets directory (CI points it at `../shared/datasets`). */
export const DATA_DIR_ENV = 'MILLWRIGHT_DATA_DIR';

/**
 * The directory holding the real datasets: the argument, else `MILLWRIGHT_DATA_DIR`.
 * Throws NOT_FOUND when neither is given or the directory does not exist, so a loader never
 * silently reads from the wrong place.
 *
 * @example
 * resolveDataDir('/data/datasets'); // '/data/datasets'
 */
export function resolveDataDir(dir?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = dir ?? env[DATA_DIR_ENV];
  if (chosen === undefined || chosen === '') {
    throw new MillwrightError(
      'NOT_FOUND',
      `no data directory: pass one (--data-dir DIR) or set ${DATA_DIR_ENV} to the folder holding the real datasets (e.g. ../shared/datasets); without real data, "millwright generate" builds a synthetic plant`,
    );
  }
  const abs = resolve(chosen);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) {
    throw new MillwrightError('NOT_FOUND', `data directory ${abs} does not exist (expected a folder holding the real datasets)`);
  }
  return abs;
}

/**
 * Absolute path of one file of a dataset, checked to exist. The error names the exact path
 * expected, so a user can see which download is missing.
 */
export function datasetPath(dataset: string, relative: string, dir?: string): string {
  const root = resolveDataDir(dir);
  const path = resolve(root, dataset, relative);
  if (!existsSync(path)) {
    throw new MillwrightError('NOT_FOUND', `dataset ${dataset}: expected file ${path} (not found; see "millwright datasets show ${dataset}")`);
  }
  return path;
}
