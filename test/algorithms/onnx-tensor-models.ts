/**
 * Small ONNX models of our own, written with onnx-proto, for the tensor and image paths:
 * a fixed-weight convolution classifier on a [N, 3, H, W] (or NHWC) input, and a toy detector
 * head turning [N, B, 4 + C] raw rows into boxes and sigmoid class scores.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { trainPackage } from '../../lib/model/index.ts';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const INT = onnx.AttributeProto.AttributeType.INT;
const INTS = onnx.AttributeProto.AttributeType.INTS;

const dim = (d: number | string) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
const value = (name: string, elemType: number, dims: (number | string)[]) => ({ name, type: { tensorType: { elemType, shape: { dim: dims.map(dim) } } } });

/** Deterministic weights in [-0.5, 0.5). */
export function weights(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5);
}

function encode(graph: Record<string, unknown>): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], producerName: 'millwright-test', graph })).finish();
}

/**
 * Conv(3 -> K, 3x3, pad 1) + bias -> Relu -> GlobalAveragePool -> Flatten: `features` [N, K, H, W]
 * (the convolution's own output) and `logits` [N, K]. H and W fixed (or named, i.e. dynamic).
 * `nhwc` puts a Transpose in front so the input is [N, H, W, 3]. `logitsOnly` leaves `features`
 * out of the graph outputs, as a deployed classifier would (its answer is K numbers, not a feature map).
 */
export function convClassifier(o: { h: number | string; w: number | string; classes?: number; nhwc?: boolean; logitsOnly?: boolean }): Uint8Array {
  const K = o.classes ?? 4;
  const nodes: Record<string, unknown>[] = [];
  let x = 'image';
  if (o.nhwc) {
    nodes.push({ opType: 'Transpose', input: ['image'], output: ['nchw'], attribute: [{ name: 'perm', type: INTS, ints: [0, 3, 1, 2] }] });
    x = 'nchw';
  }
  nodes.push(
    { opType: 'Conv', input: [x, 'W', 'B'], output: ['features'], attribute: [{ name: 'kernel_shape', type: INTS, ints: [3, 3] }, { name: 'pads', type: INTS, ints: [1, 1, 1, 1] }] },
    { opType: 'Relu', input: ['features'], output: ['relu'] },
    { opType: 'GlobalAveragePool', input: ['relu'], output: ['pooled'] },
    { opType: 'Flatten', input: ['pooled'], output: ['logits'], attribute: [{ name: 'axis', type: INT, i: 1 }] },
  );
  return encode({
    name: 'conv-classifier',
    node: nodes,
    initializer: [
      { name: 'W', dims: [K, 3, 3, 3], dataType: FLOAT, floatData: weights(K * 27, 7) },
      { name: 'B', dims: [K], dataType: FLOAT, floatData: weights(K, 8) },
    ],
    input: [value('image', FLOAT, o.nhwc ? ['N', o.h, o.w, 3] : ['N', 3, o.h, o.w])],
    output: [...(o.logitsOnly ? [] : [value('features', FLOAT, ['N', K, o.h, o.w])]), value('logits', FLOAT, ['N', K])],
  });
}

/** Detector head: `raw` [N, B, 4 + C] -> `boxes` [N, B, 4] (columns 0..3) and `scores` = sigmoid(columns 4..) [N, B, C]. */
export function detectorHead(o: { boxes: number; classes: number }): Uint8Array {
  const C = o.classes;
  const i64 = (name: string, vals: number[]) => ({ name, dims: [vals.length], dataType: INT64, int64Data: vals });
  return encode({
    name: 'detector-head',
    node: [
      { opType: 'Slice', input: ['raw', 'b_start', 'b_end', 'axis2'], output: ['boxes'] },
      { opType: 'Slice', input: ['raw', 's_start', 's_end', 'axis2'], output: ['logit'] },
      { opType: 'Sigmoid', input: ['logit'], output: ['scores'] },
    ],
    initializer: [i64('b_start', [0]), i64('b_end', [4]), i64('s_start', [4]), i64('s_end', [4 + C]), i64('axis2', [2])],
    input: [value('raw', FLOAT, ['N', o.boxes, 4 + C])],
    output: [value('boxes', FLOAT, ['N', o.boxes, 4]), value('scores', FLOAT, ['N', o.boxes, C])],
  });
}

/** Imports an ONNX file through the `onnx` built-in (the real train runner) into `<base>/model`. */
export async function importTensorModel(base: string, name: string, bytes: Uint8Array, hyperparameters: Record<string, unknown> = {}): Promise<{ modelDir: string; file: string }> {
  const channel = join(base, 'input', 'data', 'model');
  await mkdir(channel, { recursive: true });
  const file = join(channel, `${name}.onnx`);
  await writeFile(file, bytes);
  const hp = Object.fromEntries(Object.entries(hyperparameters).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const { modelDir } = await trainPackage({ package: 'onnx', base, name, hyperparameters: hp });
  return { modelDir, file };
}
