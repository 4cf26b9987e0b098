/**
 * Built-in algorithms: each is a model package (`train.ts` + `predict.ts` following
 * lib/model/contract.ts) that the model runner loads by name, re-exported here for direct use in
 * notebooks and tests, plus the metrics, the histogram forest and its ONNX export.
 *
 * @example
 * import { builtins, cvRmse, nmbe } from 'millwright';
 * const out = await builtins['energy-load-curve'].train(ctx);
 * const model = await builtins['energy-load-curve'].load(ctx.modelDir, manifest);
 *
 * @packageDocumentation
 */
import * as rfRegressionTrain from './random-forest-regression/train.ts';
import * as rfRegressionPredict from './random-forest-regression/predict.ts';
import * as rfClassificationTrain from './random-forest-classification/train.ts';
import * as rfClassificationPredict from './random-forest-classification/predict.ts';
import * as thresholdTrain from './threshold/train.ts';
import * as thresholdPredict from './threshold/predict.ts';
import * as energyTrain from './energy-load-curve/train.ts';
import * as energyPredict from './energy-load-curve/predict.ts';
import * as onnxTrain from './onnx/train.ts';
import * as onnxPredict from './onnx/predict.ts';

/** Every built-in package by name (the names `millwright train <name>` accepts). */
export const builtins = {
  'random-forest-regression': { ...rfRegressionTrain, ...rfRegressionPredict },
  'random-forest-classification': { ...rfClassificationTrain, ...rfClassificationPredict },
  threshold: { ...thresholdTrain, ...thresholdPredict },
  'energy-load-curve': { ...energyTrain, ...energyPredict },
  onnx: { ...onnxTrain, ...onnxPredict },
} as const;

export type BuiltinName = keyof typeof builtins;

export { rmse, mae, r2, cvRmse, nmbe, meetsGuideline14Hourly, accuracy } from './metrics.ts';
export { fitForest, predictForest, resolveMaxFeatures, nodeCount, type Forest, type ForestOptions } from './forest/forest.ts';
export { saveForest, loadForest } from './forest/io.ts';
export { compileForest, predictCompiled, treeDepth, COMPLETE_MAX_DEPTH, type CompiledForest } from './forest/compiled-forest.ts';
export { chooseForestEngine, calibrationRows, type ForestEngineChoice } from './forest/engine.ts';
export { forestToOnnx, type OnnxExportOptions } from './forest/onnx.ts';
export { fitForestParallel, resolveThreads } from './forest/forest-parallel.ts';
export { bootstrap, bootstrapSize } from './forest/bootstrap.ts';
export { fitBins, applyBins, binRows, binOf, type BinEdges } from './forest/binning.ts';
export type { Tree, TreeOptions, Target } from './forest/tree.ts';
export { hourlyTotals, type HourlyOptions } from './energy-load-curve/hourly.ts';
export { localCalendar, CALENDAR_FEATURES, type CalendarFeature } from './energy-load-curve/calendar.ts';
export type { ForestHyperparameters, ForestPredictParams, LoadedForestModel } from './forest/package.ts';
export type { ThresholdHyperparameters } from './threshold/train.ts';
export type { ThresholdModel, Band } from './threshold/model.ts';
export type { EnergyHyperparameters } from './energy-load-curve/train.ts';
export type { EnergyModelMeta, LoadedEnergyModel } from './energy-load-curve/model.ts';
export type { OnnxHyperparameters, OnnxModelMeta } from './onnx/train.ts';
export type { LoadedOnnxModel, OnnxPredictParams } from './onnx/predict.ts';
export { forestShap, forestShapAlgorithm2, forestExpectedValue, meanAbsShap, treeShapSteps, type TreeShapValues } from './forest/tree-shap.ts';
export { forestCover, saveForestCover, loadForestCover, type ForestCover } from './forest/tree-cover.ts';
export { explainModel, explainSteps, globalAttribution, rowAttribution, type Explanation } from './explain.ts';
