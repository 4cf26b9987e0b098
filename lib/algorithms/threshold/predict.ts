/**
 * Serving side of `threshold`: `{alarm: 0|1, score, signal}` per row. `score` is the largest
 * |value - band centre| / band half-width over the row's signals (> 1 means outside the band);
 * `signal` is the one that scored highest. Rows without any band-covered value get score null.
 *
 * @example
 * const model = await load(dir, manifest);
 * predict(model, aq.table({ temp: [71, 95] }), {}); // [{alarm: 0, ...}, {alarm: 1, ...}]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MillwrightError } from '../../errors/index.ts';
import type { LoadFn, PredictFn } from '../../model/contract.ts';
import { requireLayout, scoreRows, type ThresholdModel } from './model.ts';

export const load: LoadFn<ThresholdModel> = async (modelDir) => {
  let model: ThresholdModel;
  try {
    model = JSON.parse(await readFile(join(modelDir, 'bands.json'), 'utf8')) as ThresholdModel;
  } catch (err) {
    throw new MillwrightError('INTEGRITY', `threshold: cannot read bands.json in ${modelDir}: ${(err as Error).message}`, { cause: err });
  }
  if (model.format !== 'millwright-threshold' || !Array.isArray(model.bands)) {
    throw new MillwrightError('INTEGRITY', `threshold: bands.json in ${modelDir} is not a threshold model`);
  }
  return model;
};

export const predict: PredictFn<ThresholdModel> = (model, table) => {
  if (table.numRows() === 0) return [];
  requireLayout(table, model, 'threshold input');
  return scoreRows(model, table);
};
