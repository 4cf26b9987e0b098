/**
 * Built-in `random-forest-regression`: a histogram random forest (see lib/algorithms/forest).
 * Writes rf.json, forest.json, forest.bin and (by default) model.onnx into the model dir.
 *
 * @example
 * // <base>/input/config/hyperparameters.json
 * { "target": "yield", "n_estimators": "100", "seed": "7" }
 */
import type { HyperparameterSchema, TrainFn } from '../../model/contract.ts';
import { forestSchema, trainForestPackage, type ForestHyperparameters } from '../forest/package.ts';

export const hyperparameters: HyperparameterSchema = forestSchema({ minSamplesLeaf: 5, maxFeatures: '1.0' });

export const train: TrainFn<ForestHyperparameters> = (ctx) => trainForestPackage('regression', hyperparameters, ctx);
