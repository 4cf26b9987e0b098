import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { MillwrightError } from '../lib/errors/index.ts';
import { dataDir } from '../lib/config/index.ts';

/** Environment variable naming the real-datasets directory (CI points it at `../shared/datasets`). */
export const DATA_DIR_ENV = 'MILLWRIGHT_DATA_DIR';

/**
 * The directory holding the real datasets: the argument, else `MILLWRIGHT_DATA_DIR` (empty means
 * unset). A relative value resolves once against the directory the process started in (not the
 * directory a notebook cell happens to be in). Throws NOT_FOUND when neither is given or the
 * directory does not exist, naming the value and the absolute path tried, so a loader never
 * silently reads from the wrong place.
 *
 * @example
 * import { resolveDataDir } from 'millwright/datasets';
 * resolveDataDir('/data/datasets'); // '/data/datasets'
 */
export function resolveDataDir(dir?: string, env: NodeJS.ProcessEnv = process.env): string {
  return dataDir(dir, env);
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
