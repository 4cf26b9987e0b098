/**
 * The train/predict contract: the one small interface a model author writes against.
 * Mirrors a SageMaker bring-your-own container: `train` runs once in the `/opt/ml` layout and
 * writes files into the model dir; `load` + `predict` run in the serving container.
 *
 * A model package is a folder with:
 * - `train.ts`: `export const hyperparameters: HyperparameterSchema` and `export const train: TrainFn`
 * - `predict.ts`: `export const load: LoadFn` and `export const predict: PredictFn`; optionally
 *   `export const predictMatrix: PredictMatrixFn` (numeric fast path) and `describe` (load notes)
 * - optional `features.ts`: feature engineering shared by both.
 *
 * Shared by lib/model (runner, artifacts, registry), lib/algorithms (built-in packages),
 * serve/ and reports/. Extend compatibly; do not rename fields.
 */
import type { ColumnTable } from 'arquero';

/** Declared type of one hyperparameter. Values arrive as strings (SageMaker) and are parsed against this. */
export interface HyperparameterSpec {
  type: 'number' | 'integer' | 'boolean' | 'string' | 'json';
  description: string;
  default?: number | boolean | string | unknown[] | Record<string, unknown>;
  /** Inclusive bounds for numbers and integers. */
  min?: number;
  max?: number;
  /** Allowed values for strings. */
  enum?: readonly string[];
  /** When true and no default: training fails with a clear message if the value is absent. */
  required?: boolean;
}

export type HyperparameterSchema = Record<string, HyperparameterSpec>;

/** One column the model reads, in the order predict expects it. */
export interface FeatureSpec {
  name: string;
  type: 'number' | 'integer' | 'string' | 'boolean';
  unit?: string;
  description?: string;
}

/** Structured logger handed to train; the runner decides where it goes (stderr JSON, file, test buffer). */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** Progress of long work: `done` of `total` units (rows, trees, epochs). */
  progress(done: number, total: number, unit?: string): void;
}

/** An input channel: `<base>/input/data/<name>/` (CSV or Parquet files) or a store query. */
export interface Channel {
  name: string;
  /** Directory holding the channel's files. */
  dir: string;
  /** Data files found in `dir`, sorted. */
  files: string[];
  /** Reads every file of the channel into one table. Fails clearly on an empty channel. */
  load(): Promise<ColumnTable>;
}

export interface TrainContext<H = Record<string, unknown>> {
  /** Parsed, validated, defaults applied. */
  hyperparameters: H;
  /** Channels by name (`train`, `validation`, ...). */
  channels: Record<string, Channel>;
  /** Write the model's files here (the runner adds model.json and checksums afterwards). */
  modelDir: string;
  log: Logger;
}

/** Descriptive metrics, e.g. `{ rmse: 1.2, r2: 0.91 }` or `{ accuracy: 0.97 }`. */
export type Metrics = Record<string, number>;

/** What train tells the runner; the runner turns it into the manifest (model.json). */
export interface TrainOutput {
  task: 'regression' | 'classification' | 'anomaly' | 'energy';
  features: FeatureSpec[];
  target?: { name: string; type: 'number' | 'string'; unit?: string; classes?: string[] };
  metrics: { training: Metrics; holdout?: Metrics };
  /** The table the model was fitted on (features at least): the runner summarizes it into the manifest's feature summary. */
  trainingTable: ColumnTable;
  /** Where the data came from, for the manifest. */
  trainingData?: { source?: string; rows?: number; from?: string; to?: string };
}

export type TrainFn<H = Record<string, unknown>> = (ctx: TrainContext<H>) => Promise<TrainOutput>;

/** One prediction: a number (regression), a label (classification) or named outputs (e.g. energy: expected, best). */
export type Prediction = number | string | Record<string, number | string | null>;

/** Loads a model from its (already verified) model dir. Like SageMaker's model_fn: runs once, at startup. */
export type LoadFn<M = unknown> = (modelDir: string, manifest: ModelManifest) => Promise<M>;

/** One prediction per input row, in order. Must not mutate `table`. */
export type PredictFn<M = unknown, P = Record<string, unknown>> = (
  model: M,
  table: ColumnTable,
  params: P,
) => Prediction[] | Promise<Prediction[]>;

/**
 * Optional fast path of a predict module whose features are all numeric: the rows as one
 * row-major float64 matrix (`r * features + f`, schema order, every value finite), no table.
 * Returns one float per row (a numeric prediction each) or the predictions themselves. The
 * server's CSV parser uses it for numeric batches; it must predict what `predict` would.
 */
export type PredictMatrixFn<M = unknown, P = Record<string, unknown>> = (
  model: M,
  X: Float64Array,
  n: number,
  params: P,
) => Float64Array | Prediction[] | Promise<Float64Array | Prediction[]>;

/** Element types of the tensor path, as onnxruntime names them. */
export type TensorType = 'float32' | 'float64' | 'float16' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'string';

/** One input or output of a tensor model: its element type and shape (-1 for a dynamic dimension). */
export interface TensorSpec {
  name: string;
  type: TensorType;
  shape: number[];
}

/** A tensor on the tensor path: row-major `data` of `dims` (int64 as BigInt64Array, bool as Uint8Array 0/1, string as string[]). */
export interface TensorValue {
  type: TensorType;
  dims: number[];
  data: Float32Array | Float64Array | Uint16Array | Int8Array | Uint8Array | Int16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | string[];
}

/** How an image body becomes a model input (see `imageToTensor`): resize, channel order and normalisation. */
export interface ImageInputConfig {
  /** Input the image feeds (default: the model's first input). */
  input?: string;
  /** Channel order of the model's input (default RGB). */
  channels?: 'RGB' | 'BGR' | 'GRAY';
  /** Per-channel mean subtracted after scaling (default [0, 0, 0]). */
  mean?: number[];
  /** Per-channel divisor applied after the mean (default [1, 1, 1]). */
  std?: number[];
  /** Pixel values are multiplied by this first (default 1/255: 0..1). */
  scale?: number;
  /** How the image is fitted to the input's height and width (default `fill`: stretch). */
  fit?: 'fill' | 'cover' | 'contain';
  /** Largest decoded image accepted, in pixels (default 40,000,000). */
  maxPixels?: number;
}

/** Detector post-processing: raw boxes and scores -> `[{label, score, box}]` (see `postprocessDetections`). */
export interface DetectionConfig {
  /** Output with boxes `[N, B, 4]` (x1, y1, x2, y2). */
  boxes: string;
  /** Output with class scores `[N, B, C]`. */
  scores: string;
  /** Keep detections scoring at least this (default 0.5). */
  scoreThreshold?: number;
  /** Suppress a box overlapping a better one of the same class by more than this IoU (default 0.5). */
  iouThreshold?: number;
  /** Class names by index (default the index as text). */
  labels?: string[];
  /** At most this many detections per image (default 100). */
  maxDetections?: number;
}

/** What a tensor model takes and gives, and the optional image and detection steps around it. */
export interface TensorSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  image?: ImageInputConfig;
  detection?: DetectionConfig;
}

/** Optional tensor path of a predict module: named input tensors in, named output tensors out (real shapes). */
export type PredictTensorsFn<M = unknown> = (model: M, inputs: Record<string, TensorValue>, outputs?: readonly string[]) => Promise<Record<string, TensorValue>>;

/** Per-feature statistics of the training data: the reference for drift and data-quality reports. */
export interface FeatureSummary {
  name: string;
  kind: 'numeric' | 'categorical';
  count: number;
  missing: number;
  numeric?: {
    mean: number;
    std: number;
    min: number;
    max: number;
    /** Quantiles at p = 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99. */
    quantiles: Record<string, number>;
    /** Histogram: `edges.length === counts.length + 1`. */
    histogram: { edges: number[]; counts: number[] };
  };
  categorical?: { counts: Record<string, number> };
}

/** model.json: everything needed to trust, load, serve and monitor a trained model. */
export interface ModelManifest {
  /** Manifest format version. */
  format: 1;
  name: string;
  version: string;
  /** Built-in algorithm name (e.g. `random-forest-regression`) or the package path/name. */
  algorithm: string;
  task: TrainOutput['task'];
  features: FeatureSpec[];
  target?: TrainOutput['target'];
  hyperparameters: Record<string, unknown>;
  trainingData: { source?: string; rows: number; from?: string; to?: string };
  metrics: { training: Metrics; holdout?: Metrics };
  /**
   * Per-feature summary of the training data. The key stays `baseline` (not `featureSummary`)
   * because every model.json already written uses it and verified artifacts must keep loading.
   */
  baseline: FeatureSummary[];
  createdAt: string;
  /** Code version (package version + git commit when available). */
  codeVersion: string;
  /** SHA-256 (hex) of every file in the model dir except model.json itself, by relative path. */
  files: Record<string, string>;
}

/**
 * A verified model held in memory, ready to serve. Produced by `loadModel(dir)` in lib/model.
 */
export interface LoadedModel {
  manifest: ModelManifest;
  /** Directory it was loaded from. */
  dir: string;
  predict(table: ColumnTable, params?: Record<string, unknown>): Promise<Prediction[]>;
  /**
   * Present when the package exports `predictMatrix` and every feature is a number or integer:
   * `n` rows as a row-major float64 matrix in feature order (see {@link PredictMatrixFn}).
   */
  predictMatrix?(X: Float64Array, n: number, params?: Record<string, unknown>): Promise<Float64Array | Prediction[]>;
  /**
   * Present with `predictMatrix`: the same call and the same checks, but answered synchronously
   * when the package's `predictMatrix` is (a promise otherwise). It throws where `predictMatrix`
   * rejects. For callers that answer many tiny requests, where each promise and microtask hop
   * costs more than predicting one row (the server's single-row path).
   *
   * @example
   * const out = model.predictMatrixNow!(X, 1);
   * const predictions = out instanceof Promise ? await out : out;
   */
  predictMatrixNow?(X: Float64Array, n: number, params?: Record<string, unknown>): Float64Array | Prediction[] | Promise<Float64Array | Prediction[]>;
  /** Present for tensor models (any-shape ONNX inputs): the signature, image and detection steps. */
  tensors?: TensorSignature;
  /** Present with `tensors`: runs the model on named input tensors, answering every output (or only `outputs`) with its real shape. */
  predictTensors?(inputs: Record<string, TensorValue>, outputs?: readonly string[]): Promise<Record<string, TensorValue>>;
  /** What the package reported about how it loaded (e.g. the forest engine chosen at load), for the log. */
  notes?: Record<string, unknown>;
}
