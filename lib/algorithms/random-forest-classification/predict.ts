/**
 * Serving side of `random-forest-classification`: loads the forest once, predicts in batch.
 *
 * @example
 * const model = await load(dir, manifest);
 * const predictions = predict(model, aq.table({ x0: [0.1], x1: [0.7] }), {});
 */
import type { LoadFn, PredictFn } from '../../model/contract.ts';
import { loadForestPackage, predictForestTable, type ForestPredictParams, type LoadedForestModel } from '../forest/package.ts';

export const load: LoadFn<LoadedForestModel> = (modelDir) => loadForestPackage(modelDir, 'classification');

export const predict: PredictFn<LoadedForestModel, ForestPredictParams> = (model, table, params) =>
  predictForestTable(model, table, params ?? {});
