/**
 * The Open Inference Protocol's binary tensor data extension (Triton, KServe): the request body
 * is a JSON inference request of `Inference-Header-Content-Length` bytes followed by the raw data
 * of every input whose parameters carry `binary_data_size`, in input order. Raw data is
 * little-endian, row-major, without padding; BOOL is one byte (0 or 1) per element; BYTES is, per
 * element, a 4-byte little-endian length followed by that many bytes. Outputs asked for with
 * `"parameters": {"binary_data": true}` (or every output, with the request's
 * `"binary_data_output": true`) come back the same way, each with its `binary_data_size`.
 * Pure: no I/O. Spec: https://github.com/kserve/kserve/blob/master/docs/predict-api/v2/binary_data.md
 */
import { endianness } from 'node:os';
import { MillwrightError } from '../../lib/errors/index.ts';
import { describeValue } from '../../lib/model/coerce-feature.ts';
import type { TensorValue } from '../../lib/model/contract.ts';
import type { V2Datatype } from './datatypes.ts';

/** The request and response header giving the JSON part's length in bytes (lower case, as node:http reads headers). */
export const HEADER_LENGTH = 'inference-header-content-length';

/** Media type of a response with binary outputs. */
export const BINARY_CONTENT_TYPE = 'application/octet-stream';

/** Bytes per element of the fixed-size datatypes. */
export const ELEMENT_BYTES: Record<Exclude<V2Datatype, 'BYTES'>, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/** One binary input decoded: a typed array of the datatype's native type (FP16 as its bit patterns), or the BYTES elements. */
export type BinaryValues = Exclude<TensorValue['data'], string[]> | Uint8Array[];

const LITTLE_ENDIAN = endianness() === 'LE';

function bad(message: string): MillwrightError {
  return new MillwrightError('BAD_INPUT', message);
}

/**
 * Splits a request body at `Inference-Header-Content-Length`: the JSON part and the binary part
 * (undefined without the header). BAD_INPUT for a header that is not a byte count within the body.
 *
 * @example
 * import { splitBinaryBody } from 'millwright/serve';
 * splitBinaryBody(Buffer.from('{"inputs":[]}\x01\x02'), '13').binary?.byteLength; // 2
 */
export function splitBinaryBody(body: Uint8Array, headerLength: string | undefined): { json: Uint8Array; binary: Uint8Array | undefined } {
  if (headerLength === undefined) return { json: body, binary: undefined };
  const text = headerLength.trim();
  if (!/^\d{1,15}$/.test(text)) throw bad(`Inference-Header-Content-Length must be the JSON header's length in bytes, got ${JSON.stringify(headerLength)}`);
  const n = Number(text);
  if (n > body.byteLength) throw bad(`Inference-Header-Content-Length ${n} is beyond the body's ${body.byteLength} bytes`);
  if (n === 0) throw bad('Inference-Header-Content-Length is 0; the JSON inference request must come first in the body');
  return { json: body.subarray(0, n), binary: body.subarray(n) };
}

/**
 * The binary part of each input (by index; undefined for inputs carried as JSON `data`), taken
 * in input order by `binary_data_size`. BAD_INPUT when a size is not a byte count, when an input
 * has both `data` and `binary_data_size`, when the sizes run past the binary part or leave bytes
 * of it unclaimed.
 */
export function takeBinaryInputs(inputs: unknown[], binary: Uint8Array | undefined): (Uint8Array | undefined)[] {
  const out: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(inputs.length);
  let offset = 0;
  inputs.forEach((t, i) => {
    const o = (t !== null && typeof t === 'object' ? t : {}) as Record<string, unknown>;
    const p = o.parameters;
    const size = p !== null && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>).binary_data_size : undefined;
    if (size === undefined) return;
    const where = `input ${typeof o.name === 'string' ? `"${o.name}"` : `[${i}]`}`;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw bad(`${where}: "binary_data_size" must be a byte count (an integer >= 0), got ${describeValue(size)}`);
    if (o.data !== undefined) throw bad(`${where}: has both "data" and "binary_data_size"; send its data one way`);
    if (binary === undefined) throw bad(`${where}: "binary_data_size" is given but the request has no binary part (send the Inference-Header-Content-Length header with the JSON part's length)`);
    if (offset + size > binary.byteLength) {
      throw bad(`${where}: binary_data_size ${size} at offset ${offset} runs past the binary part of the body (${binary.byteLength} bytes after the JSON header)`);
    }
    out[i] = binary.subarray(offset, offset + size);
    offset += size;
  });
  if (binary !== undefined && offset !== binary.byteLength) {
    throw bad(`the body has ${binary.byteLength - offset} byte(s) after the binary inputs that no input's binary_data_size claims (binary part ${binary.byteLength} bytes, claimed ${offset})`);
  }
  return out;
}

/** Elements of a BYTES tensor in binary form: 4-byte little-endian length, then the bytes, `count` times, nothing left over. */
function bytesElements(bytes: Uint8Array, count: number, where: string): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    if (at + 4 > bytes.byteLength) throw bad(`${where}: BYTES binary data ends inside the 4-byte length of element ${out.length}`);
    const len = view.getUint32(at, true);
    at += 4;
    if (at + len > bytes.byteLength) throw bad(`${where}: BYTES element ${out.length} declares ${len} bytes but only ${bytes.byteLength - at} remain`);
    if (out.length === count) throw bad(`${where}: BYTES binary data holds more than the ${count} element(s) of its shape`);
    out.push(bytes.subarray(at, at + len));
    at += len;
  }
  if (out.length !== count) throw bad(`${where}: BYTES binary data holds ${out.length} element(s); its shape needs ${count}`);
  return out;
}

/** A typed array over `bytes` (a view when aligned, else an aligned copy: a Buffer's slice() would be a view). */
function typed<T>(bytes: Uint8Array, size: number, Ctor: new (buffer: ArrayBufferLike, offset: number, length: number) => T): T {
  let src = bytes;
  if (bytes.byteOffset % size !== 0) {
    src = new Uint8Array(bytes.byteLength);
    src.set(bytes);
  }
  return new Ctor(src.buffer, src.byteOffset, src.byteLength / size);
}

/**
 * Decodes one input's binary data as `datatype` with `count` elements. BAD_INPUT when the size is
 * not `count` times the datatype's element size, a BOOL byte is not 0 or 1, or BYTES framing is off.
 *
 * @example
 * import { decodeBinaryTensor } from 'millwright/serve';
 * decodeBinaryTensor(new Uint8Array(new Float32Array([1, 2]).buffer), 'FP32', 2, 'input "x"'); // Float32Array [1, 2]
 */
export function decodeBinaryTensor(bytes: Uint8Array, datatype: V2Datatype, count: number, where: string): BinaryValues {
  if (!LITTLE_ENDIAN) throw new MillwrightError('INTERNAL', 'the binary tensor extension needs a little-endian host');
  if (datatype === 'BYTES') return bytesElements(bytes, count, where);
  const size = ELEMENT_BYTES[datatype];
  if (bytes.byteLength !== count * size) {
    throw bad(`${where}: binary_data_size ${bytes.byteLength} does not match ${datatype} with ${count} element(s) (${count} x ${size} bytes = ${count * size})`);
  }
  switch (datatype) {
    case 'BOOL': {
      const i = bytes.findIndex((b) => b > 1);
      if (i >= 0) throw bad(`${where}: BOOL element ${i} is byte ${bytes[i]}; binary BOOL is 0 or 1`);
      return bytes;
    }
    case 'UINT8':
      return bytes;
    case 'INT8':
      return new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    case 'UINT16':
    case 'FP16':
      return typed(bytes, 2, Uint16Array);
    case 'INT16':
      return typed(bytes, 2, Int16Array);
    case 'UINT32':
      return typed(bytes, 4, Uint32Array);
    case 'INT32':
      return typed(bytes, 4, Int32Array);
    case 'FP32':
      return typed(bytes, 4, Float32Array);
    case 'UINT64':
      return typed(bytes, 8, BigUint64Array);
    case 'INT64':
      return typed(bytes, 8, BigInt64Array);
    case 'FP64':
      return typed(bytes, 8, Float64Array);
  }
}

/** IEEE 754 half-precision bits to a number. */
function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f === 0 ? s * Infinity : NaN;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decoded binary values as the JSON form's flat `data` elements (numbers, booleans, strings), so
 * a tabular model reads them through the same checks as JSON. BYTES must be UTF-8 here.
 */
export function binaryToElements(values: BinaryValues, datatype: V2Datatype, where: string): unknown[] {
  if (datatype === 'BYTES') {
    return (values as Uint8Array[]).map((b, i) => {
      try {
        return utf8.decode(b);
      } catch {
        throw bad(`${where}: BYTES element ${i} is not valid UTF-8`);
      }
    });
  }
  if (datatype === 'BOOL') return Array.from(values as Uint8Array, (v) => v === 1);
  if (datatype === 'FP16') return Array.from(values as Uint16Array, halfToNumber);
  if (datatype === 'INT64' || datatype === 'UINT64') return Array.from(values as BigInt64Array, (v) => Number(v));
  return Array.from(values as Float64Array);
}

const encoder = new TextEncoder();

function typedFor(datatype: V2Datatype, data: unknown[]): ArrayBufferView {
  switch (datatype) {
    case 'BOOL':
      return Uint8Array.from(data, (v) => (v === true ? 1 : 0));
    case 'INT64':
      return BigInt64Array.from(data, (v) => BigInt(Math.trunc(Number(v))));
    case 'UINT64':
      return BigUint64Array.from(data, (v) => BigInt(Math.trunc(Number(v))));
    case 'FP32':
      return Float32Array.from(data, (v) => (v === null ? NaN : Number(v)));
    case 'INT32':
      return Int32Array.from(data, Number);
    default:
      return Float64Array.from(data, (v) => (v === null ? NaN : Number(v)));
  }
}

/**
 * One output tensor in binary form: the bytes of its typed array (the model's own buffer, not a
 * copy), or, for a JSON-form `data` array, its elements encoded as `datatype` (BYTES: length-prefixed UTF-8).
 *
 * @example
 * import { encodeBinaryTensor } from 'millwright/serve';
 * encodeBinaryTensor('FP64', [1.5]).byteLength; // 8
 */
export function encodeBinaryTensor(datatype: V2Datatype, data: TensorValue['data'] | unknown[]): Uint8Array {
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (datatype === 'BYTES') {
    const parts = (data as unknown[]).map((v) => encoder.encode(typeof v === 'string' ? v : JSON.stringify(v)));
    const out = new Uint8Array(parts.reduce((s, p) => s + 4 + p.byteLength, 0));
    const view = new DataView(out.buffer);
    let at = 0;
    for (const p of parts) {
      view.setUint32(at, p.byteLength, true);
      out.set(p, at + 4);
      at += 4 + p.byteLength;
    }
    return out;
  }
  const t = typedFor(datatype, data as unknown[]);
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}

/**
 * Which outputs go back in binary: an output's own `binary_data` parameter, else the request's
 * `binary_data_output` (both booleans; BAD_INPUT otherwise).
 */
export function binaryOutputChoice(requestParameters: unknown, outputs: unknown): (name: string) => boolean {
  const flag = (p: unknown, key: string, where: string): boolean | undefined => {
    if (p === null || typeof p !== 'object') return undefined;
    const v = (p as Record<string, unknown>)[key];
    if (v !== undefined && typeof v !== 'boolean') throw bad(`${where}: "${key}" must be true or false, got ${describeValue(v)}`);
    return v as boolean | undefined;
  };
  const all = flag(requestParameters, 'binary_data_output', 'request parameters') ?? false;
  const own = new Map<string, boolean>();
  if (Array.isArray(outputs)) {
    for (const o of outputs) {
      const name = (o as { name?: unknown } | null)?.name;
      const v = flag((o as { parameters?: unknown } | null)?.parameters, 'binary_data', `output "${String(name)}" parameters`);
      if (typeof name === 'string' && v !== undefined) own.set(name, v);
    }
  }
  return (name) => own.get(name) ?? all;
}
