/**
 * Serving side of the `onnx` built-in: one onnxruntime session per loaded model, batch inference.
 * Outputs: a classifier's `label` (plus class probabilities with `{output: 'probabilities'}`), else
 * the first output: a number per row when it has one column, a record per row when it has several.
 *
 * @example
 * const model = await load(dir, manifest);
 * const rows = await predict(model, aq.table({ temp: [71.2], pressure: [3.1] }), {});
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../../errors/index.ts';
import type { LoadFn, Prediction, PredictFn } from '../../model/contract.ts';
import { featureMatrix, numericColumn } from '../table.ts';
import { openOnnx, type OnnxModelInfo } from './session.ts';
import type { OnnxModelMeta } from './train.ts';

export interface LoadedOnnxModel {
  session: ort.InferenceSession;
  info: OnnxModelInfo;
}

export interface OnnxPredictParams {
  output?: 'label' | 'probabilities';
}

export const load: LoadFn<LoadedOnnxModel> = async (modelDir) => {
  let meta: OnnxModelMeta;
  try {
    meta = JSON.parse(await readFile(join(modelDir, 'onnx.json'), 'utf8')) as OnnxModelMeta;
  } catch (err) {
    throw new MillwrightError('INTEGRITY', `onnx: cannot read onnx.json in ${modelDir}: ${(err as Error).message}`, { cause: err });
  }
  const { session, info } = await openOnnx(join(modelDir, 'model.onnx'), meta.features);
  return { session, info };
};

function feeds(info: OnnxModelInfo, table: ColumnTable): Record<string, ort.Tensor> {
  const n = table.numRows();
  const mode = info.inputMode;
  if (mode.kind === 'matrix') {
    const X = featureMatrix(table, info.features, { layout: 'row', allowMissing: true, what: 'onnx input' });
    const data = mode.type === 'float32' ? X : Float64Array.from(X);
    return { [mode.input]: new ort.Tensor(mode.type, data, [n, info.features.length]) };
  }
  const out: Record<string, ort.Tensor> = {};
  info.features.forEach((name, i) => {
    const col = numericColumn(table, name);
    const type = mode.types[i]!;
    out[name] = new ort.Tensor(type, type === 'float32' ? Float32Array.from(col) : col, [n, 1]);
  });
  return out;
}

export const predict: PredictFn<LoadedOnnxModel, OnnxPredictParams> = async (model, table, params) => {
  const n = table.numRows();
  if (n === 0) return [];
  const { info, session } = model;
  const result = await session.run(feeds(info, table));
  const preds: Prediction[] = new Array<Prediction>(n);
  if (result.label !== undefined) {
    const labels = result.label.data as ArrayLike<string | number | bigint>;
    const probs = result.probabilities;
    const classes = info.metadata.classes !== undefined ? (JSON.parse(info.metadata.classes) as string[]) : undefined;
    for (let r = 0; r < n; r++) {
      const label = typeof labels[r] === 'bigint' ? Number(labels[r]) : (labels[r] as string | number);
      if (params?.output === 'probabilities' && probs !== undefined) {
        const K = Number(probs.dims[1] ?? 1);
        const p = probs.data as Float32Array;
        const rec: Record<string, number | string> = { label };
        for (let k = 0; k < K; k++) rec[classes?.[k] ?? `p${k}`] = p[r * K + k]!;
        preds[r] = rec;
      } else preds[r] = label;
    }
    return preds;
  }
  const first = result[info.outputs[0]!]!;
  const data = first.data as ArrayLike<number>;
  const K = first.dims.length > 1 ? Number(first.dims[1]) : 1;
  const names = info.metadata.output_names !== undefined ? (JSON.parse(info.metadata.output_names) as string[]) : [];
  for (let r = 0; r < n; r++) {
    if (K === 1) preds[r] = Number(data[r]);
    else {
      const rec: Record<string, number> = {};
      for (let k = 0; k < K; k++) rec[names[k] ?? `${info.outputs[0]}_${k}`] = Number(data[r * K + k]);
      preds[r] = rec;
    }
  }
  return preds;
};
