/**
 * Tensor models (the `onnx` built-in with any-shape inputs) behind `/invocations`: JSON
 * `instances`/`inputs` nested arrays (TF Serving / SageMaker), or one `image/jpeg` / `image/png`
 * body decoded and normalised to the model's image input. Answers `{"predictions": [...]}`: one
 * per example, the output's nested array (an object of outputs when there are several), or the
 * detections `[{label, score, box}]` when the model has a detection step. Pure: request in, response out.
 */
import { MillwrightError } from '../lib/errors/index.ts';
import type { LoadedModel, TensorSignature, TensorValue } from '../lib/model/contract.ts';
import { baseMediaType } from '../lib/wire/parse-input.ts';
import { exampleNested, parseTensorJson, stackTensors } from '../lib/wire/tensor-json.ts';
import { imageToTensor } from '../lib/vision/image-input.ts';
import { postprocessDetections, type Detection } from '../lib/vision/detection.ts';
import { checkInlineExamples } from './inline-limit.ts';

/** Image media types a tensor model with an `image` step takes. */
export const IMAGE_TYPES = ['image/jpeg', 'image/png'] as const;

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The image input of a model (its `image` config, else the first rank-4 input). */
export function imageInput(sig: TensorSignature): TensorSignature['inputs'][number] {
  const name = sig.image?.input;
  const spec = name !== undefined ? sig.inputs.find((i) => i.name === name) : sig.inputs.find((i) => i.shape.length === 4);
  if (!spec) throw new MillwrightError('BAD_INPUT', `this model has no image input (inputs: ${sig.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join('; ')})`);
  if (sig.inputs.length !== 1) throw new MillwrightError('BAD_INPUT', `this model has ${sig.inputs.length} inputs; an image body can feed only a single-input model (send JSON)`);
  return spec;
}

/** Decoded images stacked into the model's image input. */
export async function imagesToInputs(images: Uint8Array[], sig: TensorSignature): Promise<Record<string, TensorValue>> {
  const spec = imageInput(sig);
  const parts = await Promise.all(images.map((b) => imageToTensor(b, spec, sig.image ?? {})));
  return { [spec.name]: stackTensors(parts, 'images') };
}

/**
 * Runs the model (computing and copying out only the `requested` outputs when given, plus what
 * the detection step reads) and checks it answered every output with the batch size.
 */
export async function runTensors(model: LoadedModel, inputs: Record<string, TensorValue>, requested?: string[]): Promise<{ outputs: Record<string, TensorValue>; rows: number; detections?: Detection[][] }> {
  const sig = model.tensors!;
  const rows = Object.values(inputs)[0]?.dims[0] ?? 0;
  const det = sig.detection;
  const fetch = requested === undefined || requested.length === 0 ? undefined : [...new Set([...requested.filter((n) => sig.outputs.some((o) => o.name === n)), ...(det && requested.includes('detections') ? [det.boxes, det.scores] : [])])];
  const outputs = await model.predictTensors!(inputs, fetch);
  if (det && fetch !== undefined && !requested!.includes('detections')) return { outputs, rows };
  if (!det) return { outputs, rows };
  const boxes = outputs[det.boxes];
  const scores = outputs[det.scores];
  if (!boxes || !scores) throw new MillwrightError('INTERNAL', `detection: the model did not answer outputs "${det.boxes}" and "${det.scores}"`);
  const num = (t: TensorValue) => ({ data: t.data as ArrayLike<number>, dims: t.dims });
  return { outputs, rows, detections: postprocessDetections(num(boxes), num(scores), det) };
}

/**
 * `/invocations` for a tensor model (see the module comment). Throws; the caller turns errors into
 * responses. With `maxExamples` (the HTTP thread's copy), a larger batch throws InlineLimitExceeded.
 */
export async function tensorInvocations(model: LoadedModel, body: Uint8Array | string, contentType: string | undefined, accept: string | undefined, maxExamples?: number): Promise<{ body: string; rows: number }> {
  const sig = model.tensors!;
  const type = baseMediaType(contentType);
  const acc = baseMediaType(accept);
  if (acc !== '' && acc !== '*/*' && acc !== 'application/json' && !/application\/json/i.test(accept ?? '')) {
    throw new MillwrightError('UNSUPPORTED_MEDIA_TYPE', `a tensor model answers application/json only; the request accepts ${accept}`);
  }
  let inputs: Record<string, TensorValue>;
  if ((IMAGE_TYPES as readonly string[]).includes(type)) {
    if (!sig.image && !sig.inputs.some((i) => i.shape.length === 4)) throw new MillwrightError('UNSUPPORTED_MEDIA_TYPE', `this model takes no image (inputs: ${sig.inputs.map((i) => `${i.name} [${i.shape.join(', ')}]`).join('; ')}); send JSON`);
    inputs = await imagesToInputs([typeof body === 'string' ? Buffer.from(body) : body], sig);
  } else if (type === 'application/json' || type === '') {
    let text: string;
    try {
      text = typeof body === 'string' ? body : decoder.decode(body);
    } catch {
      throw new MillwrightError('BAD_INPUT', 'request body is not valid UTF-8; expected JSON {"instances": [...]}');
    }
    inputs = parseTensorJson(text, sig.inputs);
    checkInlineExamples(Object.values(inputs)[0]?.dims[0] ?? 0, maxExamples);
  } else {
    throw new MillwrightError('UNSUPPORTED_MEDIA_TYPE', `Content-Type "${type}" is not supported by a tensor model; send application/json ({"instances": [...]} or {"inputs": ...})${sig.image ? ', image/jpeg or image/png' : ''}`);
  }
  const { outputs, rows, detections } = await runTensors(model, inputs);
  let predictions: unknown[];
  if (detections) predictions = detections;
  else {
    const names = sig.outputs.map((o) => o.name).filter((n) => n in outputs);
    predictions = Array.from({ length: rows }, (_, r) =>
      names.length === 1 ? exampleNested(outputs[names[0]!]!, r) : Object.fromEntries(names.map((n) => [n, exampleNested(outputs[n]!, r)])),
    );
  }
  return { body: JSON.stringify({ predictions }), rows };
}
