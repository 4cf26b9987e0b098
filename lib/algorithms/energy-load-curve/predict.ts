/**
 * Serving side of `energy-load-curve`: `{expected, best}` per row (same unit as the target).
 * `best` is the leaf-quantile curve, clamped to at most `expected`.
 *
 * @example
 * const model = await load(dir, manifest);
 * predict(model, aq.table({ ts: [Date.UTC(2018, 9, 1, 0)], week_status: ['Weekday'] }), {});
 * // [{ expected: 95.1, best: 61.4 }]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MillwrightError } from '../../errors/index.ts';
import type { LoadFn, PredictFn } from '../../model/contract.ts';
import { compileForest } from '../forest/compiled-forest.ts';
import { loadForest } from '../forest/io.ts';
import { energyPredictions } from './train.ts';
import type { EnergyModelMeta, LoadedEnergyModel } from './model.ts';

export const load: LoadFn<LoadedEnergyModel> = async (modelDir) => {
  let meta: EnergyModelMeta;
  try {
    meta = JSON.parse(await readFile(join(modelDir, 'energy.json'), 'utf8')) as EnergyModelMeta;
  } catch (err) {
    throw new MillwrightError('INTEGRITY', `energy-load-curve: cannot read energy.json in ${modelDir}: ${(err as Error).message}`, { cause: err });
  }
  if (meta.format !== 'millwright-energy-load-curve') throw new MillwrightError('INTEGRITY', `energy-load-curve: energy.json in ${modelDir} has the wrong format`);
  const forest = await loadForest(modelDir);
  if (forest.nFeatures !== meta.inputs.length || forest.nOutputs !== 2) {
    throw new MillwrightError('INTEGRITY', 'energy-load-curve: forest shape does not match energy.json');
  }
  return { meta, forest, compiled: compileForest(forest) };
};

export const predict: PredictFn<LoadedEnergyModel> = (model, table) => {
  if (table.numRows() === 0) return [];
  const { expected, best } = energyPredictions(model.meta, model.compiled ?? model.forest, table, 'energy-load-curve input');
  return Array.from(expected, (e, i) => ({ expected: e, best: best[i]! }));
};
