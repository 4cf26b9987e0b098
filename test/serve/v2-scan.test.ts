// The V2 JSON fast path (serve/v2/numeric-data-scan.ts) against the general path (JSON.parse,
// then the element checks) on many bodies, valid and invalid: edge numbers, whitespace
// everywhere, nested and ragged data, shape/data mismatches, every datatype, escapes, repeated
// keys, parameters, truncations. Same tensors (type, dims, bytes) or the same error message, and
// the fast path must actually take the plain numeric bodies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TensorSignature, TensorValue } from '../../lib/model/contract.ts';
import { parseRequestEnvelope, scanRequestEnvelope, type RequestEnvelope } from '../../serve/v2/infer.ts';
import { tensorsToInputs } from '../../serve/v2/infer-tensors.ts';
import { scanNumericData } from '../../serve/v2/numeric-data-scan.ts';
import { checkTensorHeader } from '../../serve/v2/tensor.ts';

const SIGS: Record<string, TensorSignature> = {
  f32: { inputs: [{ name: 'x', type: 'float32', shape: [-1, 3] }], outputs: [] },
  f64: { inputs: [{ name: 'x', type: 'float64', shape: [-1, 2, 2] }], outputs: [] },
  i32: { inputs: [{ name: 'x', type: 'int32', shape: [-1] }], outputs: [] },
  i64: { inputs: [{ name: 'x', type: 'int64', shape: [-1, 2] }], outputs: [] },
  u8: { inputs: [{ name: 'x', type: 'uint8', shape: [-1, 2] }], outputs: [] },
  u64: { inputs: [{ name: 'x', type: 'uint64', shape: [-1] }], outputs: [] },
  i8: { inputs: [{ name: 'x', type: 'int8', shape: [-1] }], outputs: [] },
  bool: { inputs: [{ name: 'x', type: 'bool', shape: [-1] }], outputs: [] },
  str: { inputs: [{ name: 'x', type: 'string', shape: [-1] }], outputs: [] },
  two: { inputs: [{ name: 'a', type: 'float32', shape: [-1, 2] }, { name: 'b', type: 'int32', shape: [-1] }], outputs: [] },
};
const DT: Record<string, string> = { f32: 'FP32', f64: 'FP64', i32: 'INT32', i64: 'INT64', u8: 'UINT8', u64: 'UINT64', i8: 'INT8', bool: 'BOOL', str: 'BYTES' };

const EDGE = ['1.0000000596046448', '1.0000000596046447', '1.00000005960464478', '1.000000059604644775', '3.4028235677973366e38', '3.4028234663852886e38', '0', '-0', '1e-45', '-1e-45', '1.4e-45', '7e-46', '3.4028235e38', '3.4028236e38', '-3.4028235e38', '3.5e38', '1.7976931348623157e308', '1e400', '-1e400', '5e-324', '2.5e-324', '1e-400', '0.1', '0.2', '0.30000000000000004', '123456789012345678901234567890', '1.00000000000000011102230246251565404236316680908203125', '1E2', '1e+2', '1E-2', '9007199254740993', '9007199254740991', '-9007199254740991', '-2147483648', '2147483647', '2147483648', '255', '256', '-1', '-128', '-129', '127', '128', '1.5', '100000000000000000000000', '1e22', '1e23', '123456789012345e-22', '123456789012345e-23', '0.000001', '12345678901234567890e-30', '1e0', '0e0', '-0.0', '0.0000000000000000000000000000001', '1e00000000000000000000000001', '1e1000000', '10000000000000000000000000000000000000000e-40', '65504', '4294967295', '4294967296', '18446744073709551615'];
const BAD_NUM = ['01', '-', '1.', '.5', '+1', '1e', '1e+', 'NaN', 'Infinity', '-Infinity', '0x10', '1.e5', '-01', '00', '1ee2', '1e2.5', '--1', 'null', 'true', '"1"'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** JSON text of `v` with random whitespace between tokens; numbers given as strings in a Raw box go in verbatim. */
class Raw {
  constructor(readonly text: string) {}
}
function write(v: unknown, r: () => number, ws: boolean): string {
  const w = () => (ws && r() < 0.3 ? [' ', '\n', '\t', '\r', '  ', ' \n '][Math.floor(r() * 6)]! : '');
  if (v instanceof Raw) return v.text;
  if (Array.isArray(v)) return `[${w()}${v.map((x) => `${w()}${write(x, r, ws)}${w()}`).join(',')}${w()}]`;
  if (v !== null && typeof v === 'object') return `{${w()}${Object.entries(v).map(([k, x]) => `${w()}${JSON.stringify(k)}${w()}:${w()}${write(x, r, ws)}${w()}`).join(',')}${w()}}`;
  return JSON.stringify(v);
}

function shuffle<T>(a: T[], r: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function nest(flat: unknown[], dims: number[]): unknown[] {
  if (dims.length <= 1) return flat;
  const size = flat.length / dims[0]!;
  return Array.from({ length: dims[0]! }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), dims.slice(1)));
}

type Outcome = { ok: Record<string, { type: string; dims: number[]; data: string }>; id?: string; outputs?: string[] } | { error: string };

function describe(t: TensorValue): { type: string; dims: number[]; data: string } {
  const d = t.data;
  const data = Array.isArray(d) ? JSON.stringify(d) : Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('hex');
  return { type: t.type, dims: t.dims, data };
}

async function outcome(env: () => RequestEnvelope, sig: TensorSignature): Promise<Outcome> {
  try {
    const e = env();
    const heads = e.inputs.map((t, i) => checkTensorHeader(t, i, e.binaryInputs[i]));
    const inputs = await tensorsToInputs(heads, sig);
    return { ok: Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, describe(t)])), ...(e.id !== undefined ? { id: e.id } : {}), ...(e.outputs ? { outputs: e.outputs } : {}) };
  } catch (err) {
    return { error: `${(err as { code?: string }).code}: ${(err as Error).message}` };
  }
}

async function compare(text: string, sig: TensorSignature): Promise<{ taken: boolean; same: boolean; general: Outcome; fast: Outcome }> {
  const general = await outcome(() => parseRequestEnvelope(text), sig);
  const taken = scanRequestEnvelope(Buffer.from(text)) !== undefined;
  const fast = await outcome(() => scanRequestEnvelope(Buffer.from(text)) ?? parseRequestEnvelope(text), sig);
  return { taken, same: JSON.stringify(general) === JSON.stringify(fast), general, fast };
}

function bodies(seed: number, count: number): { text: string; sig: string; plain: boolean }[] {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const out: { text: string; sig: string; plain: boolean }[] = [];
  const sigNames = Object.keys(DT);
  for (let n = 0; n < count; n++) {
    const sig = pick(sigNames);
    const spec = SIGS[sig]!.inputs[0]!;
    const rows = 1 + Math.floor(r() * 3);
    const dims = spec.shape.map((d) => (d < 0 ? rows : d));
    const size = dims.reduce((s, d) => s * d, 1);
    const kind = r();
    const num = (): string => {
      const k = r();
      if (k < 0.3) return pick(EDGE);
      if (k < 0.5) return String(Math.fround((r() - 0.5) * 10 ** Math.floor(r() * 20 - 10)));
      if (k < 0.7) return String((r() - 0.5) * 10 ** Math.floor(r() * 40 - 20));
      if (k < 0.9) return String(Math.floor((r() - 0.3) * 300));
      return (r() * 1000).toFixed(Math.floor(r() * 25));
    };
    let flat: unknown[] = Array.from({ length: size }, () => new Raw(num()));
    if (sig === 'bool') flat = flat.map(() => r() < 0.5);
    if (sig === 'str') flat = flat.map(() => pick(['a', 'é', 'x\ny', '\ud800', '']));
    if (kind < 0.1) flat[Math.floor(r() * size)] = new Raw(pick(BAD_NUM));
    let data: unknown = r() < 0.5 ? flat : nest(flat, dims);
    let shape: unknown = dims;
    const m = r();
    if (m < 0.05) data = (flat as unknown[]).slice(1);
    else if (m < 0.1) shape = [...dims.slice(0, -1), dims[dims.length - 1]! + 1];
    else if (m < 0.13) data = nest(flat, [size]).concat([new Raw('1')]);
    else if (m < 0.16 && dims.length > 1) data = nest(flat, dims.slice().reverse());
    else if (m < 0.19) data = [flat, flat];
    else if (m < 0.22 && Array.isArray(data) && Array.isArray(data[0])) data = [...(data as unknown[][]).slice(0, -1), [(data as unknown[][])[0]![0]]];
    else if (m < 0.24) data = [];
    else if (m < 0.26) shape = [0, ...dims.slice(1)];
    else if (m < 0.28) data = [[]];
    else if (m < 0.3) data = [[flat]];
    const datatype = r() < 0.05 ? pick(Object.values(DT)) : DT[sig]!;
    const input: Record<string, unknown> = { name: 'x', datatype, shape, data };
    if (r() < 0.2) input.parameters = { content_type: pick(['np', 'a"b', 'c\\d']), n: 3 };
    const req: Record<string, unknown> = { inputs: [input] };
    if (r() < 0.3) req.id = pick(['r1', 'q"uote', '\u00e9']);
    if (r() < 0.3) req.outputs = [{ name: 'y', parameters: { binary_data: false } }];
    if (r() < 0.2) req.parameters = { a: 1 };
    for (const part of [req, input]) {
      const entries = shuffle(Object.entries(part), r);
      for (const k of Object.keys(part)) delete part[k];
      Object.assign(part, Object.fromEntries(entries));
    }
    let text = write(req, r, r() < 0.7);
    const t = r();
    const plain = kind >= 0.1 && m >= 0.3 && datatype === DT[sig] && sig !== 'bool' && sig !== 'str';
    if (t < 0.05) text = text.slice(0, Math.floor(r() * text.length));
    else if (t < 0.08) text = text.replace('"data"', '"d\\u0061ta"');
    else if (t < 0.1) text = text.replace('"data"', '"data":[1],"data"');
    else if (t < 0.12) text = text.replace('"inputs"', '"inputs":[],"inputs"');
    else if (t < 0.14) text = `${text} x`;
    else if (t < 0.16) text = text.replace('"inputs":', '"inputs":[5,').replace(/\}\s*\]\s*([,}])/, '}]]$1');
    else if (t < 0.18) text = text.replace(/\]\s*\}/, '],}');
    else if (t < 0.2) text = text.replace(/(\d)\s*\]/, '$1,]');
    out.push({ text, sig, plain: plain && t >= 0.2 });
  }
  return out;
}

test('the fast path gives the general path\'s tensors or error on 3,000 seeded bodies', async () => {
  let taken = 0;
  let plain = 0;
  let plainTaken = 0;
  let errors = 0;
  for (const b of bodies(13, 3000)) {
    const c = await compare(b.text, SIGS[b.sig]!);
    assert.ok(c.same, `differs on ${b.text}\n general: ${JSON.stringify(c.general)}\n fast: ${JSON.stringify(c.fast)}`);
    if (c.taken) taken++;
    if ('error' in c.general) errors++;
    if (b.plain) {
      plain++;
      if (c.taken) plainTaken++;
    }
  }
  // the plain numeric bodies go through the scan, and the mix has both answers and errors
  assert.equal(plainTaken, plain, 'every plain numeric body is taken by the scan');
  assert.ok(plain > 500 && taken >= plain, `${plain} plain, ${taken} taken`);
  assert.ok(errors > 500 && errors < 2500, `${errors} errors`);
});

test('edge numbers parse to JSON.parse\'s doubles, one by one', () => {
  const all = [...EDGE];
  const r = rng(7);
  for (let i = 0; i < 40000; i++) {
    const k = r();
    all.push(k < 0.3 ? String(r() * 10 ** Math.floor(r() * 60 - 30)) : k < 0.6 ? String(Math.fround((r() * 2 - 1) * 10 ** Math.floor(r() * 80 - 45))) : k < 0.8 ? (r() * 1e6).toFixed(Math.floor(r() * 20)) : `${Math.floor(r() * 1e15)}e${Math.floor(r() * 60 - 30)}`);
  }
  for (const s of all) {
    for (const text of s.startsWith("-") ? [s] : [s, `-${s}`]) {
      const got = scanNumericData(Buffer.from(`{"inputs":[{"data":[${text}]}]}`))?.data.get(0)?.exact()[0];
      assert.ok(Object.is(got, JSON.parse(text)), `${text}: ${got} vs ${JSON.parse(text)}`);
      const f32 = Math.fround(scanNumericData(Buffer.from(`{"inputs":[{"data":[${text}]}]}`))!.data.get(0)!.forFloat32()[0]!);
      assert.ok(Object.is(f32, Math.fround(JSON.parse(text))), `${text} as float32: ${f32} vs ${Math.fround(JSON.parse(text))}`);
    }
  }
  for (const s of BAD_NUM) {
    const scanned = scanNumericData(Buffer.from(`{"inputs":[{"data":[${s}]}]}`));
    assert.equal(scanned, undefined, s);
  }
});

test('two inputs, nested data and the envelope\'s own fields', async () => {
  const text = ' {\n "id" : "r\\"1", "inputs" : [ { "name":"a", "shape":[2,2], "datatype":"FP32", "parameters":{"k":"v"}, "data":[[1, -0],[1e-45, 3.4028234663852886e38]] },\r\n {"data":[7,8],"name":"b","datatype":"INT32","shape":[2]} ], "outputs":[{"name":"y"}] } ';
  const c = await compare(text, SIGS.two!);
  assert.ok(c.taken && c.same, JSON.stringify(c));
  assert.deepEqual(c.fast, { ok: { a: { type: 'float32', dims: [2, 2], data: Buffer.from(new Float32Array([1, -0, 1e-45, 3.4028234663852886e38]).buffer).toString('hex') }, b: { type: 'int32', dims: [2], data: Buffer.from(new Int32Array([7, 8]).buffer).toString('hex') } }, id: 'r"1', outputs: ['y'] });
  const mismatch = await compare('{"inputs":[{"name":"a","shape":[2,2],"datatype":"FP32","data":[[1,2,3],[4,5,6]]},{"name":"b","shape":[2],"datatype":"INT32","data":[1,2]}]}', SIGS.two!);
  assert.ok(mismatch.taken && mismatch.same && 'error' in mismatch.fast && /nested "data" does not match shape \[2, 2\]/.test(mismatch.fast.error), JSON.stringify(mismatch));
});

test('digit runs of every length, sign and exponent, flat, nested and spaced, give JSON.parse\'s doubles', () => {
  // integer parts of 0 to 20 digits and fractions of 0 to 26 (the scan reads fraction digits four
  // at a time and collects them eight at a time: every split of those runs), with and without exponents
  const nums: string[] = [];
  const digits = '73914682059183746520918374659';
  for (let a = 0; a <= 20; a++) {
    for (let f = 0; f <= 26; f++) {
      const int = a === 0 ? '0' : `${(a % 9) + 1}${digits.slice(0, a - 1)}`;
      const frac = f === 0 ? '' : `.${a === 0 && f > 2 ? '00' : ''}${digits.slice(3, 3 + f)}`;
      const base = `${int}${frac}`;
      nums.push(base, `-${base}`, `${base}e-7`, `-${base}E+12`, `${base}e0`);
    }
  }
  nums.push('-0', '0', '-0.0', '0.00000000000000000000000000017', '1e-45', '3.4028234663852886e38', '-3.4028235677973366e38', '1.0000000596046448', '-9007199254740993', '0.30000000000000004');
  const expected = nums.map((t) => JSON.parse(t) as number);
  const layouts = [
    `[${nums.join(',')}]`,
    `[ ${nums.join(' , ')} ]`,
    `[\n${nums.join(',\n\t')}\r\n]`,
    // nested [k, 5] (the count is a multiple of 5)
    `[${Array.from({ length: nums.length / 5 }, (_, r) => `[${nums.slice(r * 5, r * 5 + 5).join(', ')}]`).join(',')}]`,
  ];
  for (const layout of layouts) {
    const numbers = scanNumericData(Buffer.from(`{"inputs":[{"name":"x","data":${layout}}]}`))!.data.get(0)!;
    assert.equal(numbers.values.length, nums.length, layout.slice(0, 40));
    const f32 = Float64Array.from(scanNumericData(Buffer.from(`{"inputs":[{"name":"x","data":${layout}}]}`))!.data.get(0)!.forFloat32());
    const exact = numbers.exact();
    nums.forEach((t, i) => {
      assert.ok(Object.is(exact[i], expected[i]), `${t}: ${exact[i]} vs ${expected[i]}`);
      assert.ok(Object.is(Math.fround(f32[i]!), Math.fround(expected[i]!)), `${t} as float32: ${Math.fround(f32[i]!)} vs ${Math.fround(expected[i]!)}`);
    });
    // exact() a second time changes nothing; toNested is the array JSON.parse gives
    assert.deepEqual(Array.from(numbers.exact()), Array.from(exact));
    assert.deepEqual(JSON.stringify(numbers.toNested()), JSON.stringify(JSON.parse(layout)));
  }
  // every prefix of a body cut inside or after a run of digits is left to the general path, never misread
  const body = `{"inputs":[{"name":"x","data":[0.12345678901234567,-1.5e3,12345678901234567890.25]}]}`;
  for (let cut = 0; cut < body.length; cut++) assert.equal(scanNumericData(Buffer.from(body.slice(0, cut))), undefined, body.slice(0, cut));
  // a number the leaf loop does not take (a second '.', a letter, a `[` after a comma at the leaf depth)
  for (const bad of ['[1.2.3]', '[0.1234x]', '[1,[2]]', '[[1],2]', '[1 2]', '[1,,2]', '[1,]', '[-]', '[1.5e]', '[NaN]', '[0.1234567-1]']) {
    assert.equal(scanNumericData(Buffer.from(`{"inputs":[{"name":"x","data":${bad}}]}`))?.data.get(0), undefined, bad);
  }
});

test('scanned FP32 and FP64 data of the wrong length, out of range or not finite: the general path\'s errors', async () => {
  // a ragged array is the general path's to refuse; the rest are taken by the scan
  const ragged = await compare('{"inputs":[{"name":"x","datatype":"FP32","shape":[2,3],"data":[[0.1,0.2,0.3],[0.4,0.5]]}]}', SIGS.f32!);
  assert.ok(!ragged.taken && ragged.same && 'error' in ragged.fast && /does not match shape \[2, 3\]/.test(ragged.fast.error), JSON.stringify(ragged));
  const cases = [
    ['FP32', '[2,3]', '[0.1,0.2,0.3,0.4,0.5]'],
    ['FP32', '[2,3]', '[[0.1,0.2],[0.3,0.4],[0.5,0.6]]'],
    ['FP32', '[1,3]', '[0.5,3.5e38,1]'],
    ['FP32', '[1,3]', '[0.5,-1e400,1]'],
    ['FP64', '[1,2,2]', '[[[1,2],[3,1e400]]]'],
  ];
  for (const [datatype, shape, data] of cases) {
    const sig = datatype === 'FP32' ? SIGS.f32! : SIGS.f64!;
    const c = await compare(`{"inputs":[{"name":"x","datatype":"${datatype}","shape":${shape},"data":${data}}]}`, sig);
    assert.ok(c.taken && c.same && 'error' in c.fast, JSON.stringify(c));
  }
  // and in range: -0 stays -0, a float32 underflow is 0, not an error
  const ok = await compare('{"inputs":[{"name":"x","datatype":"FP32","shape":[1,3],"data":[0.5,-0,1e-50]}]}', SIGS.f32!);
  assert.ok(ok.taken && ok.same && 'ok' in ok.fast && ok.fast.ok.x!.data === Buffer.from(new Float32Array([0.5, -0, 0]).buffer).toString('hex'), JSON.stringify(ok));
});
