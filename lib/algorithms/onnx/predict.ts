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
import type { LoadFn, Prediction, PredictFn, PredictTensorsFn, TensorSignature, TensorType, TensorValue } from '../../model/contract.ts';
import { featureMatrix, numericColumn } from '../table.ts';
import { openOnnx, type OnnxModelInfo } from './session.ts';
import type { OnnxModelMeta } from './train.ts';

export interface LoadedOnnxModel {
  session: ort.InferenceSession;
  info: OnnxModelInfo;
  /** Tensor models only: the signature with the image and detection steps from onnx.json. */
  tensors?: TensorSignature;
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
  const tensor = meta.inputMode.kind === 'tensor';
  const { session, info } = await openOnnx(join(modelDir, 'model.onnx'), tensor ? undefined : meta.features, tensor);
  if (!tensor) return { session, info };
  const tensors: TensorSignature = { ...info.signature, ...(meta.image ? { image: meta.image } : {}), ...(meta.detection ? { detection: meta.detection } : {}) };
  return { session, info, tensors };
};

/** The tensor signature of a tensor model (undefined for a tabular one): what the server's tensor routes read. */
export const tensorSignature = (model: unknown): TensorSignature | undefined => (model as LoadedOnnxModel).tensors;

/**
 * Runs a tensor model on named inputs (already checked against the signature by the caller);
 * answers every output (or only the named `outputs`: onnxruntime then copies out just those) with its real shape.
 *
 * @example
 * const out = await predictTensors(model, { image: { type: 'float32', dims: [1, 3, 8, 8], data: new Float32Array(192) } });
 * out.logits.dims; // [1, 4]
 */
export const predictTensors: PredictTensorsFn<LoadedOnnxModel> = async (model, inputs, outputs) => {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) feeds[name] = new ort.Tensor(t.type, t.data as never, t.dims);
  let result: ort.InferenceSession.OnnxValueMapType;
  try {
    result = outputs !== undefined && outputs.length > 0 ? await model.session.run(feeds, [...outputs]) : await model.session.run(feeds);
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `onnx: onnxruntime refused the inputs: ${(err as Error).message}`, { cause: err });
  }
  const out: Record<string, TensorValue> = {};
  for (const [name, v] of Object.entries(result)) out[name] = { type: v.type as TensorType, dims: v.dims.map(Number), data: v.data as TensorValue['data'] };
  return out;
};

function feeds(info: OnnxModelInfo, table: ColumnTable): Record<string, ort.Tensor> {
  const n = table.numRows();
  const mode = info.inputMode;
  if (mode.kind === 'tensor') throw new MillwrightError('INTERNAL', 'onnx: a tensor model has no table feeds');
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
  if (info.inputMode.kind === 'tensor') {
    throw new MillwrightError('BAD_INPUT', `onnx: this model takes tensors (${info.signature.inputs.map((i) => `${i.name} [${i.shape.join(', ')}] ${i.type}`).join('; ')}), not table rows; send V2 tensors, JSON {"instances": [...]} nested arrays or an image`);
  }
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
