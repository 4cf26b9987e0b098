/**
 * Serving side of `random-forest-classification`: loads the forest once (compiled for prediction,
 * or onnxruntime on model.onnx when the load-time calibration finds it faster), predicts in batch.
 *
 * @example
 * const model = await load(dir, manifest);
 * const predictions = await predict(model, aq.table({ x0: [0.1], x1: [0.7] }), {});
 */
import type { LoadFn, PredictFn, PredictMatrixFn } from '../../model/contract.ts';
import { loadForestForServing, predictForestMatrix, predictForestServing, type ForestPredictParams, type LoadedForestModel } from '../forest/package.ts';

export const load: LoadFn<LoadedForestModel> = (modelDir, manifest) => loadForestForServing(modelDir, 'classification', manifest?.baseline);

export const predict: PredictFn<LoadedForestModel, ForestPredictParams> = (model, table, params) => predictForestServing(model, table, params ?? {});

export const predictMatrix: PredictMatrixFn<LoadedForestModel, ForestPredictParams> = (model, X, n, params) => predictForestMatrix(model, X, n, params ?? {});

/** The engine the calibration chose, for the server's log. */
export const describe = (model: LoadedForestModel): Record<string, unknown> | undefined => (model.engine ? { forestEngine: model.engine } : undefined);
