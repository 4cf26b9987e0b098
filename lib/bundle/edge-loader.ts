/**
 * The loader a server following an edge folder hands its worker threads (`serve --deployment`):
 * its `loadModel` takes a deployment record file instead of a model dir and loads that record's
 * model with that record's code package, so blue/green reloads switch model and code together.
 */
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LoadedModel } from '../model/contract.ts';
import { loadModel as loadModelDir } from '../model/load-model.ts';
import { MillwrightError } from '../errors/index.ts';
import { pairDirs, type DeploymentRecord } from './edge.ts';

/** Loads the pair a `deployments/<seq>.json` names (the worker-thread loader contract: `loadModel(path)`). */
export async function loadModel(recordPath: string): Promise<LoadedModel> {
  let rec: DeploymentRecord;
  try {
    rec = JSON.parse(await readFile(recordPath, 'utf8')) as DeploymentRecord;
  } catch (err) {
    throw new MillwrightError('INTEGRITY', `deployment record ${recordPath} cannot be read: ${(err as Error).message}`);
  }
  const { modelDir, packageDir } = pairDirs(dirname(dirname(recordPath)), rec);
  return loadModelDir(modelDir, { packages: packageDir ? [packageDir] : [], env: {} });
}
