/**
 * Built-in `random-forest-classification`: a histogram random forest (see lib/algorithms/forest).
 * Writes rf.json, forest.json, forest.bin and (by default) model.onnx into the model dir.
 *
 * @example
 * // <base>/input/config/hyperparameters.json
 * { "target": "fault", "n_estimators": "100", "seed": "7" }
 */
import type { HyperparameterSchema, TrainFn } from '../../model/contract.ts';
import { forestSchema, trainForestPackage, type ForestHyperparameters } from '../forest/package.ts';

export const hyperparameters: HyperparameterSchema = forestSchema({ minSamplesLeaf: 1, maxFeatures: 'sqrt' });

export const train: TrainFn<ForestHyperparameters> = (ctx) => trainForestPackage('classification', hyperparameters, ctx);
