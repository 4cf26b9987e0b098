/**
 * Tensor models over plain JSON, as TF Serving and SageMaker take them: `{"instances": [...]}`
 * (one nested array per example, or one object of named inputs per example) and `{"inputs": ...}`
 * (the whole batch: one nested array, or an object of named batch arrays). Answers
 * `{"predictions": [...]}`, one per example: the output's nested array (several outputs: an object).
 */
import { MillwrightError } from '../errors/index.ts';
import { describeValue } from '../model/coerce-feature.ts';
import type { TensorSpec, TensorType, TensorValue } from '../model/contract.ts';

/** Most elements a JSON tensor request may carry (as the V2 route). */
export const MAX_TENSOR_ELEMENTS = 10_000_000;
const MAX_RANK = 16;

function bad(message: string): MillwrightError {
  return new MillwrightError('BAD_INPUT', message);
}

/** The shape of a (rectangular) nested array; BAD_INPUT when ragged or deeper than 16. */
export function nestedShape(value: unknown, where: string): number[] {
  const shape: number[] = [];
  let v = value;
  while (Array.isArray(v)) {
    if (shape.length >= MAX_RANK) throw bad(`${where}: nested deeper than ${MAX_RANK} dimensions`);
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

function flatten(value: unknown, shape: number[], depth: number, out: unknown[], where: string): void {
  if (depth === shape.length) {
    if (Array.isArray(value)) throw bad(`${where}: nested array is deeper than shape [${shape.join(', ')}]`);
    out.push(value);
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    throw bad(`${where}: nested array is not rectangular (dimension ${depth} should have ${shape[depth]} element(s), got ${Array.isArray(value) ? value.length : describeValue(value)})`);
  }
  for (const item of value) flatten(item, shape, depth + 1, out, where);
}

const INT: Partial<Record<TensorType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/**
 * Flat JSON elements -> the typed data of `type`, each checked (finite numbers, integers in range,
 * booleans, strings); errors name the element.
 *
 * @example
 * import { toTensorData } from 'millwright';
 * toTensorData([1, 2.5], 'float32', 'input "x"'); // Float32Array [1, 2.5]
 */
export function toTensorData(flat: unknown[], type: TensorType, where: string): TensorValue['data'] {
  const n = flat.length;
  const fail = (i: number, want: string) => bad(`${where}: element ${i} is ${describeValue(flat[i])}; ${type} expects ${want}`);
  if (type === 'string') {
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      if (typeof flat[i] !== 'string') throw fail(i, 'a string');
      out[i] = flat[i] as string;
    }
    return out;
  }
  if (type === 'bool') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (typeof v !== 'boolean') throw fail(i, 'true or false');
      out[i] = v ? 1 : 0;
    }
    return out;
  }
  const range = INT[type];
  if (range) {
    const [lo, hi] = range;
    for (let i = 0; i < n; i++) {
      const v = flat[i];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw fail(i, `an integer in [${lo}, ${hi}]`);
    }
    if (type === 'int64') return BigInt64Array.from(flat as number[], (v) => BigInt(v));
    if (type === 'uint64') return BigUint64Array.from(flat as number[], (v) => BigInt(v));
    const Ctor = { int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array }[type as 'int8'];
    return new Ctor(flat as number[]);
  }
  const max = type === 'float64' ? Number.MAX_VALUE : type === 'float16' ? 65504 : 3.4028234663852886e38;
  if (flat instanceof Float64Array && type !== 'float16') {
    // already numbers (the V2 JSON scan's): the range check in a plain loop, then one native conversion
    for (let i = 0; i < n; i++) if (!(Math.abs(flat[i]!) <= max)) throw fail(i, `a finite number with |x| <= ${max}`);
    return type === 'float64' ? new Float64Array(flat) : new Float32Array(flat);
  }
  for (let i = 0; i < n; i++) {
    const v = flat[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > max) throw fail(i, `a finite number with |x| <= ${max}`);
  }
  if (type === 'float64') return new Float64Array(flat as number[]);
  if (type === 'float32') return new Float32Array(flat as number[]);
  throw bad(`${where}: float16 inputs are not supported over JSON; use a float32 model input`);
}

/**
 * Checks dims against a model input's shape: same rank, every fixed dimension equal, no
 * dimension 0 (a batch needs at least one example).
 */
export function checkTensorDims(dims: readonly number[], spec: TensorSpec, where: string): void {
  const want = `[${spec.shape.map((d) => (d < 0 ? '?' : d)).join(', ')}]`;
  if (dims.length !== spec.shape.length) throw bad(`${where}: shape [${dims.join(', ')}] has ${dims.length} dimension(s); input "${spec.name}" is ${want} (? = any size)`);
  dims.forEach((d, i) => {
    const s = spec.shape[i]!;
    if (d === 0) throw bad(`${where}: shape [${dims.join(', ')}] has no elements; expected ${want}`);
    if (s >= 0 && d !== s) throw bad(`${where}: shape [${dims.join(', ')}] does not match input "${spec.name}" ${want} at dimension ${i}`);
  });
}

function tensorFrom(value: unknown, spec: TensorSpec, where: string, batched: boolean): TensorValue {
  const shape = nestedShape(value, where);
  const dims = batched ? shape : [1, ...shape];
  let count = 1;
  for (const d of dims) count *= d;
  if (count > MAX_TENSOR_ELEMENTS) throw bad(`${where}: shape [${dims.join(', ')}] has more than ${MAX_TENSOR_ELEMENTS} elements`);
  checkTensorDims(dims, spec, where);
  const flat: unknown[] = [];
  flatten(value, shape, 0, flat, where);
  return { type: spec.type, dims, data: toTensorData(flat, spec.type, where) };
}

/** Examples stacked along dimension 0 (same type, same trailing dims). */
export function stackTensors(parts: TensorValue[], where: string): TensorValue {
  const first = parts[0]!;
  if (parts.length === 1) return first;
  const tail = first.dims.slice(1).join(',');
  for (let i = 1; i < parts.length; i++) {
    if (parts[i]!.dims.slice(1).join(',') !== tail) throw bad(`${where}: example ${i + 1} has shape [${parts[i]!.dims.slice(1).join(', ')}] but example 1 has [${first.dims.slice(1).join(', ')}]`);
  }
  const n = parts.reduce((s, p) => s + p.dims[0]!, 0);
  const dims = [n, ...first.dims.slice(1)];
  if (Array.isArray(first.data)) return { type: first.type, dims, data: parts.flatMap((p) => p.data as string[]) };
  const total = parts.reduce((s, p) => s + p.data.length, 0);
  const Ctor = (first.data as Float32Array).constructor as new (n: number) => Float32Array;
  const out = new Ctor(total);
  let o = 0;
  for (const p of parts) {
    out.set(p.data as Float32Array, o);
    o += p.data.length;
  }
  return { type: first.type, dims, data: out as TensorValue['data'] };
}

/**
 * A JSON body into the model's input tensors (see the module comment for the forms).
 *
 * @example
 * import { parseTensorJson } from 'millwright';
 * const inputs = [{ name: 'x', type: 'float32' as const, shape: [-1, 2] }];
 * parseTensorJson('{"instances": [[1, 2], [3, 4]]}', inputs).x.dims; // [2, 2]
 */
export function parseTensorJson(text: string, inputs: TensorSpec[]): Record<string, TensorValue> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(`body is not valid JSON (${err instanceof RangeError ? 'nested too deeply' : (err as Error).message}); expected {"instances": [...]} or {"inputs": ...}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad(`JSON body must be an object {"instances": [...]} or {"inputs": ...}, got ${describeValue(doc)}`);
  const obj = doc as Record<string, unknown>;
  const names = inputs.map((i) => i.name);
  const single = inputs.length === 1 ? inputs[0]! : undefined;
  const named = (o: Record<string, unknown>, where: string, batched: boolean): Record<string, TensorValue> => {
    const unknown = Object.keys(o).filter((k) => !names.includes(k));
    if (unknown.length > 0) throw bad(`${where}: unknown input(s) ${unknown.join(', ')}; the model takes ${names.join(', ')}`);
    const out: Record<string, TensorValue> = {};
    for (const spec of inputs) {
      if (!(spec.name in o)) throw bad(`${where}: missing input "${spec.name}"; the model takes ${names.join(', ')}`);
      out[spec.name] = tensorFrom(o[spec.name], spec, `${where}.${spec.name}`, batched);
    }
    return out;
  };
  if ('instances' in obj) {
    const list = obj.instances;
    if (!Array.isArray(list) || list.length === 0) throw bad('"instances" must be a non-empty array, one example per element');
    const perExample = list.map((inst, i) => {
      const where = `instances[${i}]`;
      if (inst !== null && typeof inst === 'object' && !Array.isArray(inst)) return named(inst as Record<string, unknown>, where, false);
      if (!single) throw bad(`${where}: the model has ${inputs.length} inputs (${names.join(', ')}); give each example as an object of named inputs`);
      return { [single.name]: tensorFrom(inst, single, where, false) };
    });
    return Object.fromEntries(inputs.map((s) => [s.name, stackTensors(perExample.map((e) => e[s.name]!), `instances.${s.name}`)]));
  }
  if ('inputs' in obj) {
    const v = obj.inputs;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return named(v as Record<string, unknown>, 'inputs', true);
    if (!single) throw bad(`"inputs": the model has ${inputs.length} inputs (${names.join(', ')}); give an object of named batch arrays`);
    return { [single.name]: tensorFrom(v, single, 'inputs', true) };
  }
  throw bad(`JSON body has neither "instances" nor "inputs"; a tensor model takes {"instances": [example, ...]} or {"inputs": batch} (inputs: ${inputs.map((i) => `${i.name} [${i.shape.join(', ')}] ${i.type}`).join('; ')})`);
}

/** Plain numbers (int64 as numbers), booleans or strings of a tensor's data. */
export function tensorElements(t: TensorValue): (number | boolean | string)[] {
  if (Array.isArray(t.data)) return t.data;
  if (t.type === 'bool') return Array.from(t.data as Uint8Array, (v) => v !== 0);
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) return Array.from(t.data, (v) => Number(v));
  return Array.from(t.data as Float32Array, (v) => (Number.isFinite(v) ? v : (null as unknown as number)));
}

/** Example `r` of a batch output as a nested array (its dims without the batch dimension). */
export function exampleNested(t: TensorValue, r: number): unknown {
  const tail = t.dims.slice(1);
  const size = tail.reduce((s, d) => s * d, 1);
  const flat = tensorElements({ ...t, data: (t.data as Float32Array).slice(r * size, (r + 1) * size) as TensorValue['data'] });
  const build = (depth: number, offset: number): unknown => {
    if (depth === tail.length) return flat[offset];
    const stride = tail.slice(depth + 1).reduce((s, d) => s * d, 1);
    return Array.from({ length: tail[depth]! }, (_, i) => build(depth + 1, offset + i * stride));
  };
  return build(0, 0);
}
