/**
 * Serving entry point of this model package. `load` runs once at startup on the verified model
 * dir; `predict` runs per request on a table whose columns the runner already checked against
 * the manifest's feature schema.
 *
 * @example
 * // const model = await loadModel('/tmp/ml/model', { packages: ['./my-model'] });
 * // await model.predict(aq.table({ production_units: [120], ambient_temp_c: [18] })); // [~431.2]
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadFn, PredictFn } from '../contract.ts';
import { featureMatrix } from './features.ts';
import { applyLinear, type LinearModel } from './train.ts';

export const load: LoadFn<LinearModel> = async (modelDir) => {
  return JSON.parse(await readFile(join(modelDir, 'coefficients.json'), 'utf8')) as LinearModel;
};

/** One number per row; `NaN` (serialised as null) when a feature value is missing. */
export const predict: PredictFn<LinearModel> = (model, table) => {
  const X = featureMatrix(table, model.features.map((name) => ({ name, type: 'number' as const })));
  return X.map((row) => applyLinear(model, row));
};
