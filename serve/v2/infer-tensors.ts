/**
 * Open Inference Protocol inference for tensor models (any-shape ONNX inputs): each request
 * tensor is checked against the model input of its name (datatype, rank, fixed dimensions, data
 * length and element values) and fed as is; every output comes back with its real shape. An image
 * model also takes a BYTES input of base64-encoded JPEG/PNG images, one per element; a model with a
 * detection step adds a `detections` BYTES output (one JSON `[{label, score, box}]` per image).
 */
import { MillwrightError } from '../../lib/errors/index.ts';
import type { LoadedModel, TensorSignature, TensorValue } from '../../lib/model/contract.ts';
import { checkTensorDims, toTensorData } from '../../lib/wire/tensor-json.ts';
import { imagesToInputs, runTensors } from '../tensors.ts';
import { checkInlineExamples } from '../inline-limit.ts';
import { binaryToElements } from './binary.ts';
import { flattenData, V2_OF_TENSOR_TYPE, type V2Tensor, type V2TensorHeader, type V2TensorMetadata } from './tensor.ts';

/** Name of the extra output of a model with a detection step. */
export const DETECTIONS_OUTPUT = 'detections';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Inputs and outputs of a tensor model as `$metadata_tensor`s (dynamic dimensions as -1). */
export function tensorMetadata(sig: TensorSignature): { inputs: V2TensorMetadata[]; outputs: V2TensorMetadata[] } {
  const meta = (s: TensorSignature['inputs'][number]): V2TensorMetadata => ({ name: s.name, datatype: V2_OF_TENSOR_TYPE[s.type], shape: [...s.shape] });
  return {
    inputs: sig.inputs.map(meta),
    outputs: [...sig.outputs.map(meta), ...(sig.detection ? [{ name: DETECTIONS_OUTPUT, datatype: 'BYTES' as const, shape: [-1] }] : [])],
  };
}

type Header = V2TensorHeader;

function decodeImages(h: Header): Uint8Array[] {
  const where = `input "${h.name}"`;
  if (!(h.shape.length === 1 || (h.shape.length === 2 && h.shape[1] === 1)) || h.count === 0) {
    throw new MillwrightError('BAD_INPUT', `${where}: an image input in BYTES has shape [N] (one base64 image per element), got [${h.shape.join(', ')}]`);
  }
  // Binary BYTES elements are the image files themselves.
  if (h.binary !== undefined) return h.binary as Uint8Array[];
  const flat = flattenData(h.data, h.shape, h.count, 'BYTES', where) as string[];
  return flat.map((s, i) => {
    const t = s.replace(/\s+/g, '');
    if (t.length === 0 || t.length % 4 !== 0 || !BASE64.test(t)) throw new MillwrightError('BAD_INPUT', `${where}: element ${i} is not base64 (an image input in BYTES carries each JPEG/PNG base64-encoded)`);
    return Buffer.from(t, 'base64');
  });
}

/**
 * Request tensors -> the model's input tensors. With `maxExamples` (the HTTP thread's copy,
 * serve/inline-limit.ts), more images or a larger batch than that throws InlineLimitExceeded,
 * images before they are decoded.
 */
export async function tensorsToInputs(heads: Header[], sig: TensorSignature, maxExamples?: number): Promise<Record<string, TensorValue>> {
  const names = sig.inputs.map((i) => i.name);
  const seen = new Set<string>();
  for (const h of heads) {
    if (seen.has(h.name)) throw new MillwrightError('BAD_INPUT', `input "${h.name}" is given twice`);
    seen.add(h.name);
  }
  const unknown = heads.filter((h) => !names.includes(h.name)).map((h) => h.name);
  if (unknown.length > 0) throw new MillwrightError('BAD_INPUT', `unknown input(s) ${unknown.map((u) => `"${u}"`).join(', ')}; the model takes ${sig.inputs.map((i) => `${i.name} ${V2_OF_TENSOR_TYPE[i.type]} [${i.shape.join(', ')}]`).join('; ')}`);
  const missing = names.filter((n) => !seen.has(n));
  if (missing.length > 0) throw new MillwrightError('BAD_INPUT', `missing input(s) ${missing.map((m) => `"${m}"`).join(', ')}; the model takes ${names.join(', ')}`);
  const out: Record<string, TensorValue> = {};
  for (const h of heads) {
    const spec = sig.inputs.find((i) => i.name === h.name)!;
    const want = V2_OF_TENSOR_TYPE[spec.type];
    const where = `input "${h.name}"`;
    if (h.datatype === 'BYTES' && want !== 'BYTES' && spec.shape.length === 4) {
      const images = decodeImages(h);
      checkInlineExamples(images.length, maxExamples);
      return imagesToInputs(images, sig);
    }
    if (h.datatype !== want) throw new MillwrightError('BAD_INPUT', `${where}: datatype ${h.datatype} does not match the model's ${want}${spec.shape.length === 4 ? ' (or BYTES: base64 images)' : ''}`);
    checkTensorDims(h.shape, spec, where);
    out[h.name] = { type: spec.type, dims: [...h.shape], data: h.binary !== undefined ? binaryTensorData(h, where) : toTensorData(flattenData(h.data, h.shape, h.count, h.datatype, where), spec.type, where) };
  }
  const n = new Set(Object.values(out).map((t) => t.dims[0]));
  if (n.size > 1) throw new MillwrightError('BAD_INPUT', `the inputs have different batch sizes (${[...n].join(', ')}); dimension 0 must agree`);
  checkInlineExamples([...n][0] ?? 0, maxExamples);
  return out;
}

/** Binary input values as onnxruntime tensor data (typed arrays as they are; BYTES as UTF-8 strings). */
function binaryTensorData(h: Header, where: string): TensorValue['data'] {
  if (h.datatype === 'BYTES') return binaryToElements(h.binary!, 'BYTES', where) as string[];
  return h.binary as TensorValue['data'];
}

/** A model output on its way into the response: a tensor (sent as JSON `data` or binary), or JSON `data`. */
export interface TensorOutput {
  name: string;
  datatype: V2Tensor['datatype'];
  shape: number[];
  data?: unknown[];
  tensor?: TensorValue;
}

/**
 * Runs a tensor model on parsed request tensors; returns the outputs (only `requested` ones,
 * which are all the model computes and copies out, when given) and the batch size.
 */
export async function inferTensors(model: LoadedModel, heads: Header[], requested?: string[], maxExamples?: number): Promise<{ outputs: TensorOutput[]; rows: number }> {
  const sig = model.tensors!;
  const known = [...sig.outputs.map((o) => o.name), ...(sig.detection ? [DETECTIONS_OUTPUT] : [])];
  if (requested !== undefined) {
    const unknown = requested.filter((o) => !known.includes(o));
    if (unknown.length > 0) throw new MillwrightError('BAD_INPUT', `unknown output${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `"${u}"`).join(', ')}; this model produces ${known.join(', ')}`);
  }
  const inputs = await tensorsToInputs(heads, sig, maxExamples);
  const { outputs, rows, detections } = await runTensors(model, inputs, requested);
  const list: TensorOutput[] = sig.outputs
    .filter((o) => o.name in outputs)
    .map((o) => {
      const t = outputs[o.name]!;
      return { name: o.name, datatype: V2_OF_TENSOR_TYPE[t.type] ?? V2_OF_TENSOR_TYPE[o.type], shape: [...t.dims], tensor: t };
    });
  if (detections) list.push({ name: DETECTIONS_OUTPUT, datatype: 'BYTES', shape: [detections.length], data: detections.map((d) => JSON.stringify(d)) });
  if (requested === undefined) return { outputs: list, rows };
  const byName = new Map(list.map((o) => [o.name, o]));
  return { outputs: requested.map((n) => byName.get(n)!), rows };
}
