import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests run from anywhere). */
export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/**
 * The real datasets directory: `MILLWRIGHT_DATA_DIR`, else `../shared/datasets` beside the repo
 * (where CI and developer machines have it). Returns undefined when neither exists, so a test
 * can skip with a reason on a machine without the data; CI always has it.
 */
export function realDataDir(): string | undefined {
  const candidates = [process.env.MILLWRIGHT_DATA_DIR, resolve(repoRoot, '../shared/datasets')];
  return candidates.find((d): d is string => d !== undefined && d !== '' && existsSync(d));
}

/** Skip reason for node:test when real data is absent (`test(name, { skip: noRealData() }, fn)`). */
export function noRealData(): string | false {
  return realDataDir() === undefined ? 'real datasets not found (set MILLWRIGHT_DATA_DIR)' : false;
}
