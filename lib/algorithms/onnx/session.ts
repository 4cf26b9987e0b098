/**
 * Loading an ONNX file for the `onnx` built-in: an onnxruntime-node session plus how table columns
 * map to its inputs. Metadata (`feature_names`, `output_names`, `classes`) is read from the file's
 * metadata_props, where millwright's own exports put it.
 */
import { readFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { MillwrightError } from '../../errors/index.ts';
import { readEnv } from '../../config/index.ts';
import type { TensorSpec, TensorType } from '../../model/contract.ts';

/** How columns feed the model: one [N, F] matrix input, or one input per column. */
export type InputMode = { kind: 'matrix'; input: string; type: 'float32' | 'float64' } | { kind: 'columns'; types: ('float32' | 'float64')[] } | { kind: 'tensor' };

export interface OnnxModelInfo {
  inputMode: InputMode;
  /** Feature names in input order (matrix) or the input names (columns). */
  features: string[];
  outputs: string[];
  metadata: Record<string, string>;
  /** Every input and output with its element type and shape (-1 = dynamic). */
  signature: { inputs: TensorSpec[]; outputs: TensorSpec[] };
}

const TENSOR_TYPES: readonly string[] = ['float32', 'float64', 'float16', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'bool', 'string'];

/** The tensor inputs/outputs (a classifier's ZipMap output, a sequence of maps, is left out: the tabular path reads it). */
function specs(meta: readonly ort.InferenceSession.ValueMetadata[]): TensorSpec[] {
  const out: TensorSpec[] = [];
  for (const m of meta) {
    if (!m.isTensor || !TENSOR_TYPES.includes(m.type)) continue;
    out.push({ name: m.name, type: m.type as TensorType, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) });
  }
  return out;
}

/**
 * True when the model's inputs are not a table: an input of rank other than 2, or of a type that
 * is not float32/float64 (an image's uint8, token ids). `force` (the `tensor` hyperparameter) wins.
 */
export function isTensorModel(inputs: TensorSpec[], force?: boolean): boolean {
  if (force !== undefined) return force;
  return inputs.some((i) => i.shape.length !== 2 || (i.type !== 'float32' && i.type !== 'float64'));
}

/** Custom metadata_props of an ONNX file. */
export function onnxMetadata(bytes: Uint8Array): Record<string, string> {
  let model;
  try {
    model = onnxProto.onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `onnx: the file is not an ONNX model (${(err as Error).message})`, { cause: err });
  }
  return Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
}

function numericType(t: string, name: string): 'float32' | 'float64' {
  if (t === 'float32' || t === 'float64') return t;
  throw new MillwrightError('BAD_INPUT', `onnx: input ${JSON.stringify(name)} has type ${t} (supported: float32, float64 tensors)`);
}

/**
 * Session options for serving: ONE intra-op thread and no spinning by default, because the serving
 * container already runs one model per worker thread and spinning ORT threads starve the others on
 * a busy machine (measured in bench/models.bench.ts). `MILLWRIGHT_ORT_THREADS=n` overrides (0 = ORT default).
 */
export function sessionOptions(env: NodeJS.ProcessEnv = process.env): ort.InferenceSession.SessionOptions {
  const raw = readEnv('MILLWRIGHT_ORT_THREADS', env);
  const threads = raw === undefined ? 1 : Number(raw);
  if (!Number.isInteger(threads) || threads < 0) {
    throw new MillwrightError('BAD_INPUT', `MILLWRIGHT_ORT_THREADS=${JSON.stringify(raw)} is not valid (expected an integer >= 0; 0 = onnxruntime default)`);
  }
  return {
    ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  };
}

/** Opens a session and works out the feature order (declared names win over file metadata). */
export async function openOnnx(
  file: string,
  declared?: readonly string[],
  tensor?: boolean,
): Promise<{ session: ort.InferenceSession; info: OnnxModelInfo; bytes: Uint8Array }> {
  const bytes = new Uint8Array(await readFile(file));
  const metadata = onnxMetadata(bytes);
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, sessionOptions());
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `onnx: onnxruntime cannot load ${file}: ${(err as Error).message}`, { cause: err });
  }
  const inputs = session.inputMetadata;
  const signature = { inputs: specs(inputs), outputs: specs(session.outputMetadata) };
  if (isTensorModel(signature.inputs, tensor)) {
    const odd = inputs.find((m) => !signature.inputs.some((i) => i.name === m.name));
    if (odd) throw new MillwrightError('BAD_INPUT', `onnx: input ${JSON.stringify(odd.name)} is not a tensor of a supported type (${TENSOR_TYPES.join(', ')})`);
    const names = signature.inputs.map((i) => i.name);
    return { session, info: { inputMode: { kind: 'tensor' }, features: names, outputs: [...session.outputNames], metadata, signature }, bytes };
  }
  let inputMode: InputMode;
  let features: string[];
  const only = inputs.length === 1 ? inputs[0]! : undefined;
  if (only !== undefined && only.isTensor && only.shape.length === 2) {
    const width = only.shape[1];
    inputMode = { kind: 'matrix', input: only.name, type: numericType(only.type, only.name) };
    let names = declared !== undefined && declared.length > 0 ? [...declared] : undefined;
    if (names === undefined && metadata.feature_names !== undefined) names = JSON.parse(metadata.feature_names) as string[];
    if (names === undefined) {
      throw new MillwrightError(
        'BAD_INPUT',
        `onnx: input ${JSON.stringify(only.name)} is a [N, ${String(width)}] matrix and the file names no features; set the "features" hyperparameter (column names in input order)`,
      );
    }
    if (typeof width === 'number' && width !== names.length) {
      throw new MillwrightError('BAD_INPUT', `onnx: ${names.length} feature names for an input of width ${width}`);
    }
    features = names;
  } else {
    const types = inputs.map((m) => {
      if (!m.isTensor) throw new MillwrightError('BAD_INPUT', `onnx: input ${JSON.stringify(m.name)} is not a tensor`);
      return numericType(m.type, m.name);
    });
    inputMode = { kind: 'columns', types };
    features = inputs.map((m) => m.name);
    if (declared !== undefined && declared.length > 0 && declared.join() !== features.join()) {
      throw new MillwrightError('BAD_INPUT', `onnx: the model's inputs are ${features.join(', ')}; "features" says ${declared.join(', ')}`);
    }
  }
  return { session, info: { inputMode, features, outputs: [...session.outputNames], metadata, signature }, bytes };
}
