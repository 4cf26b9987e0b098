/**
 * Open Inference Protocol (KServe V2) tensors in their JSON form: datatypes, shapes and the
 * row-major `data` array (flat or nested), checked element by element. Pure: no I/O.
 * Spec: https://github.com/kserve/kserve/blob/master/docs/predict-api/v2/required_api.md
 */
import { MillwrightError } from '../../lib/errors/index.ts';
import { describeValue } from '../../lib/model/coerce-feature.ts';
import type { TensorType } from '../../lib/model/contract.ts';
import { decodeBinaryTensor, type BinaryValues } from './binary.ts';
import { V2_DATATYPES, type V2Datatype } from './datatypes.ts';
import { ScannedNumbers } from './numeric-data-scan.ts';

export { V2_DATATYPES, type V2Datatype } from './datatypes.ts';

/** A `$request_input` / `$response_output` tensor. */
export interface V2Tensor {
  name: string;
  datatype: V2Datatype;
  shape: number[];
  parameters?: Record<string, string | number | boolean>;
  data: unknown[];
}

/** A `$metadata_tensor`. */
export interface V2TensorMetadata {
  name: string;
  datatype: V2Datatype;
  shape: number[];
}

/** Most elements one request may carry: far more than a 6 MB body can hold, small enough to refuse a hostile shape before any allocation. */
export const MAX_ELEMENTS = 10_000_000;

/** Most dimensions a tensor may have. */
export const MAX_RANK = 16;

const INT_RANGE: Record<string, [number, number]> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [-(2 ** 63), 2 ** 63 - 1],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  UINT64: [0, 2 ** 64 - 1],
};
const FP_MAX: Record<string, number> = { FP16: 65504, FP32: 3.4028234663852886e38, FP64: Number.MAX_VALUE };

/** True for the numeric datatypes (integers and floats). */
export function isNumericDatatype(d: V2Datatype): boolean {
  return d !== 'BOOL' && d !== 'BYTES';
}

function bad(message: string): MillwrightError {
  return new MillwrightError('BAD_INPUT', message);
}

/**
 * Checks a shape: at most {@link MAX_RANK} non-negative integers whose product is at most
 * {@link MAX_ELEMENTS}; returns the element count.
 *
 * @example
 * import { checkShape } from 'millwright/serve';
 * checkShape([2, 3], 'input "x"'); // 6
 */
export function checkShape(shape: unknown, where: string): number {
  if (!Array.isArray(shape)) throw bad(`${where}: "shape" must be an array of dimension sizes, got ${describeValue(shape)}`);
  // Nested data is walked one level per dimension: bounding the rank bounds that recursion.
  if (shape.length > MAX_RANK) throw bad(`${where}: shape has ${shape.length} dimensions; at most ${MAX_RANK} are supported`);
  let count = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) {
      throw bad(`${where}: shape[${i}] is ${describeValue(d)}; every dimension must be an integer >= 0`);
    }
    count *= d;
    if (count > MAX_ELEMENTS) throw bad(`${where}: shape [${shape.join(', ')}] has more than ${MAX_ELEMENTS} elements`);
  }
  return count;
}

/**
 * Flattens `data` (row-major, flat or nested to exactly `shape`) into one array of `count`
 * elements, each checked against `datatype`. Errors name the input and the element's index.
 *
 * @example
 * import { flattenData } from 'millwright/serve';
 * flattenData([[1, 2], [4, 5]], [2, 2], 4, 'UINT32', 'input "m"'); // [1, 2, 4, 5]
 */
export function flattenData(data: unknown, shape: number[], count: number, datatype: V2Datatype, where: string): unknown[] {
  if (data instanceof ScannedNumbers) {
    // The fast path's numbers (numeric-data-scan.ts): flat with the right length, or nested exactly
    // as the shape, are the row-major elements as they are; any other nesting takes the general
    // route below on the array JSON.parse would have given, for its same error.
    const d = data.dims;
    if ((d.length === 1 && d[0] === count) || (d.length === shape.length && d.every((x, i) => x === shape[i]))) return checkElements((datatype === 'FP32' ? data.forFloat32() : data.exact()) as unknown as unknown[], datatype, where);
    data = data.toNested();
  }
  if (!Array.isArray(data)) throw bad(`${where}: "data" must be an array (row-major, flat or nested), got ${describeValue(data)}`);
  let flat: unknown[];
  if (data.length === count && (count === 0 || !Array.isArray(data[0]))) flat = data;
  else if (data.length > 0 && Array.isArray(data[0])) {
    flat = [];
    flattenNested(data, shape, 0, flat, where);
  } else {
    throw bad(`${where}: "data" has ${data.length} element(s) but shape [${shape.join(', ')}] needs ${count}`);
  }
  return checkElements(flat, datatype, where);
}

function checkElements(flat: unknown[], datatype: V2Datatype, where: string): unknown[] {
  // Scanned numbers (a Float64Array) for a float datatype: only the range to check, in a plain loop
  // (the same test and message as the general check below; NaN and infinities fail |x| <= max).
  if (flat instanceof Float64Array && FP_MAX[datatype] !== undefined) {
    const max = FP_MAX[datatype];
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i]!;
      if (!(Math.abs(v) <= max)) throw bad(`${where}: element ${i} is ${describeValue(v)}; ${datatype} expects a finite number with |x| <= ${max}`);
    }
    return flat;
  }
  const check = elementCheck(datatype);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    const problem = check(v);
    if (problem !== undefined) throw bad(`${where}: element ${i} is ${describeValue(v)}; ${datatype} expects ${problem}`);
  }
  return flat;
}

function flattenNested(level: unknown[], shape: number[], depth: number, out: unknown[], where: string): void {
  if (depth >= shape.length || level.length !== shape[depth]) {
    throw bad(`${where}: nested "data" does not match shape [${shape.join(', ')}] (dimension ${depth} has ${level.length} element(s), expected ${shape[depth] ?? 'none'})`);
  }
  const last = depth === shape.length - 1;
  for (const item of level) {
    if (last) {
      if (Array.isArray(item)) throw bad(`${where}: nested "data" is deeper than shape [${shape.join(', ')}]`);
      out.push(item);
    } else {
      if (!Array.isArray(item)) throw bad(`${where}: nested "data" is shallower than shape [${shape.join(', ')}] at dimension ${depth + 1}`);
      flattenNested(item, shape, depth + 1, out, where);
    }
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function elementCheck(datatype: V2Datatype): (v: unknown) => string | undefined {
  if (datatype === 'BOOL') return (v) => (typeof v === 'boolean' ? undefined : 'true or false');
  // Lone surrogates (e.g. "\ud800") are how invalid UTF-8 survives JSON escaping: refuse them.
  if (datatype === 'BYTES') return (v) => (typeof v === 'string' && !LONE_SURROGATE.test(v) ? undefined : 'a well-formed (UTF-8) string');
  const range = INT_RANGE[datatype];
  if (range) {
    const [lo, hi] = range;
    return (v) => (typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? undefined : `an integer in [${lo}, ${hi}]`);
  }
  const max = FP_MAX[datatype]!;
  return (v) => (typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= max ? undefined : `a finite number with |x| <= ${max}`);
}

/** A checked `$request_input`: `data` as sent in JSON, or `binary` (the binary tensor extension) decoded. */
export interface V2TensorHeader {
  name: string;
  datatype: V2Datatype;
  shape: number[];
  count: number;
  data: unknown;
  binary?: BinaryValues;
}

/**
 * Validates one `$request_input` object's fields (not yet its JSON data); with `binary` (its
 * part of the body, see binary.ts) decodes that as the tensor's data.
 */
export function checkTensorHeader(t: unknown, index: number, binary?: Uint8Array): V2TensorHeader {
  if (t === null || typeof t !== 'object' || Array.isArray(t)) throw bad(`inputs[${index}] must be an object {name, shape, datatype, data}, got ${describeValue(t)}`);
  const o = t as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name === '') throw bad(`inputs[${index}]: "name" must be a non-empty string`);
  const where = `input "${o.name}"`;
  if (typeof o.datatype !== 'string' || !(V2_DATATYPES as readonly string[]).includes(o.datatype)) {
    throw bad(`${where}: datatype ${describeValue(o.datatype)} is not one of ${V2_DATATYPES.join(', ')}`);
  }
  const count = checkShape(o.shape, where);
  if (o.parameters !== undefined) checkParameters(o.parameters, `${where} parameters`);
  const datatype = o.datatype as V2Datatype;
  if (binary !== undefined) return { name: o.name, datatype, shape: o.shape as number[], count, data: undefined, binary: decodeBinaryTensor(binary, datatype, count, where) };
  if (o.data === undefined) throw bad(`${where}: "data" is missing (or give "binary_data_size" in its parameters and send the tensor after the JSON, see the binary tensor extension)`);
  return { name: o.name, datatype, shape: o.shape as number[], count, data: o.data };
}

/** `$parameters`: an object of string, number or boolean values. */
export function checkParameters(p: unknown, where: string): Record<string, string | number | boolean> {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) throw bad(`${where} must be an object of name -> string | number | boolean`);
  for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw bad(`${where}: "${k}" is ${describeValue(v)}; a parameter is a string, number or boolean`);
  }
  return p as Record<string, string | number | boolean>;
}

/** V2 datatype of each tensor element type (onnxruntime's names). */
export const V2_OF_TENSOR_TYPE: Record<TensorType, V2Datatype> = {
  bool: 'BOOL',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  float16: 'FP16',
  float32: 'FP32',
  float64: 'FP64',
  string: 'BYTES',
};
