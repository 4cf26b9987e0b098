/**
 * Built-in `onnx`: serves any ONNX file with onnxruntime-node (CPU). "Training" imports the file:
 * it is checked by loading it, copied into the model dir as `model.onnx`, and its feature order
 * is recorded in `onnx.json`. An optional `train` channel is used only as the baseline for drift
 * reports (and to check that its columns exist).
 *
 * @example
 * // hyperparameters.json: the file comes from the `model` channel (<base>/input/data/model/*.onnx)
 * { "features": "[\"temp\", \"pressure\"]", "task": "regression" }
 */
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import { MillwrightError } from '../../errors/index.ts';
import type { HyperparameterSchema, TrainFn, TrainOutput } from '../../model/contract.ts';
import { loadChannel, nameList, resolveHyperparameters } from '../hyperparameters.ts';
import { requireColumns } from '../table.ts';
import { openOnnx, type InputMode } from './session.ts';
import type { DetectionConfig, ImageInputConfig } from '../../model/contract.ts';
import { checkDetectionConfig, checkImageConfig } from '../../vision/index.ts';

export interface OnnxHyperparameters {
  model_file?: string;
  features?: string[] | string;
  task: 'regression' | 'classification' | 'anomaly' | 'energy';
  target?: string;
  tensor?: boolean;
  image?: ImageInputConfig;
  detection?: DetectionConfig;
}

export const hyperparameters: HyperparameterSchema = {
  model_file: {
    type: 'string',
    description: 'Path of the .onnx file. Default: the single .onnx file in the `model` channel.',
  },
  features: {
    type: 'json',
    description: "Column names in the model's input order. Default: the file's `feature_names` metadata, or its input names.",
  },
  task: { type: 'string', default: 'regression', enum: ['regression', 'classification', 'anomaly', 'energy'], description: 'What the model predicts.' },
  target: { type: 'string', description: 'Name of the predicted quantity (for the manifest).' },
  tensor: {
    type: 'boolean',
    description: 'Serve the inputs as tensors of any shape (V2 tensors, JSON nested arrays, images). Default: yes when an input is not an [N, F] float matrix.',
  },
  image: {
    type: 'json',
    description: 'Image bodies (image/jpeg, image/png) for a tensor model: {"input", "channels": "RGB"|"BGR"|"GRAY", "mean": [...], "std": [...], "scale": 1/255, "fit": "fill"|"cover"|"contain", "maxPixels"}.',
  },
  detection: {
    type: 'json',
    description: 'Detector post-processing: {"boxes": output, "scores": output, "scoreThreshold": 0.5, "iouThreshold": 0.5, "labels": [...], "maxDetections": 100}.',
  },
};

/** Contents of onnx.json. */
export interface OnnxModelMeta {
  format: 'millwright-onnx';
  version: 1;
  features: string[];
  inputMode: InputMode;
  outputs: string[];
  image?: ImageInputConfig;
  detection?: DetectionConfig;
}

async function findModelFile(ctx: Parameters<TrainFn>[0], given: string | undefined): Promise<string> {
  if (given !== undefined && given !== '') return given;
  const ch = ctx.channels.model;
  if (ch === undefined) {
    throw new MillwrightError('BAD_INPUT', 'onnx: no model file (set "model_file" or put one .onnx file in <base>/input/data/model/)');
  }
  const files = (await readdir(ch.dir)).filter((f) => f.endsWith('.onnx'));
  if (files.length !== 1) {
    throw new MillwrightError('BAD_INPUT', `onnx: expected exactly one .onnx file in ${ch.dir}, found ${files.length}`);
  }
  return join(ch.dir, files[0]!);
}

/** No required channel: the file comes from `model_file` or the `model` channel; `train` is optional. */
export const channels: string[] = [];

export const train: TrainFn<OnnxHyperparameters> = async (ctx): Promise<TrainOutput> => {
  const hp = resolveHyperparameters<OnnxHyperparameters>(hyperparameters, ctx.hyperparameters as unknown as Record<string, unknown>);
  const file = await findModelFile(ctx as never, hp.model_file);
  const { session, info } = await openOnnx(file, nameList(hp.features, 'features'), hp.tensor);
  await session.release();
  const tensor = info.inputMode.kind === 'tensor';
  if (!tensor && (hp.image !== undefined || hp.detection !== undefined)) {
    throw new MillwrightError('BAD_INPUT', 'onnx: "image" and "detection" need a tensor model (set "tensor": true, or give the model a non-[N, F] input)');
  }
  const image = hp.image !== undefined ? checkImageConfig(hp.image, info.signature.inputs) : undefined;
  const detection = hp.detection !== undefined ? checkDetectionConfig(hp.detection, info.signature.outputs) : undefined;
  await copyFile(file, join(ctx.modelDir, 'model.onnx'));
  const meta: OnnxModelMeta = {
    format: 'millwright-onnx',
    version: 1,
    features: info.features,
    inputMode: info.inputMode,
    outputs: info.outputs,
    ...(image ? { image } : {}),
    ...(detection ? { detection } : {}),
  };
  await writeFile(join(ctx.modelDir, 'onnx.json'), JSON.stringify(meta, null, 2) + '\n');
  let trainingTable = aq.table(Object.fromEntries(info.features.map((f) => [f, [] as number[]])));
  if (ctx.channels.train !== undefined && !tensor) {
    const t = await loadChannel(ctx as never, 'train');
    requireColumns(t, info.features, 'onnx baseline data');
    trainingTable = t.select(info.features);
  }
  ctx.log.info('onnx model imported', { file, features: info.features.length, outputs: info.outputs });
  return {
    task: hp.task,
    features: info.features.map((name) => ({ name, type: 'number' as const })),
    ...(hp.target !== undefined ? { target: { name: hp.target, type: hp.task === 'classification' ? ('string' as const) : ('number' as const) } } : {}),
    metrics: { training: {} },
    trainingTable,
    trainingData: { source: file, rows: trainingTable.numRows() },
  };
};
