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

/** How columns feed the model: one [N, F] matrix input, or one input per column. */
export type InputMode = { kind: 'matrix'; input: string; type: 'float32' | 'float64' } | { kind: 'columns'; types: ('float32' | 'float64')[] };

export interface OnnxModelInfo {
  inputMode: InputMode;
  /** Feature names in input order (matrix) or the input names (columns). */
  features: string[];
  outputs: string[];
  metadata: Record<string, string>;
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
  return { session, info: { inputMode, features, outputs: [...session.outputNames], metadata }, bytes };
}
