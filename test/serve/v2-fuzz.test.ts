// V2 request fuzzing through real HTTP: wrong datatypes, shape/data mismatches, huge and negative
// shapes, BYTES with invalid UTF-8 (raw bytes and lone surrogate escapes), wrong content types,
// deep nesting, oversized bodies, and seeded random mutations of a good request. Every answer
// must be a mapped {"error": "..."} 4xx (never a 500 or a dropped connection), and afterwards
// the server must still answer a good request exactly as before.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { http, LINEAR_LOADER, scratch, waitReady } from './helpers.ts';
import { writeLinearModel } from './fixtures/linear-model.ts';
import { sourceCliArgs } from '../helpers/cli.ts';

let srv: RunningServer;
let cleanup: () => Promise<void>;
let repoDir: string;
const GOOD = { id: 'g', inputs: [{ name: 'speed', datatype: 'FP64', shape: [2], data: [1, 2] }, { name: 'load', datatype: 'INT32', shape: [2], data: [3, 4] }] };
let goodAnswer: string;

before(async () => {
  const s = await scratch('mw-v2fuzz-');
  cleanup = s.cleanup;
  repoDir = join(s.dir, 'repo');
  await writeLinearModel(join(s.dir, 'repo', 'press', '2'), { name: 'press', version: 'v2', weights: { speed: 20, load: 30 }, intercept: 1 });
  await writeLinearModel(join(s.dir, 'repo', 'press', '1'), { name: 'press', version: 'v1', weights: { speed: 2, load: 3 }, intercept: 1 });
  srv = await startServer({ loader: LINEAR_LOADER, port: 0, workers: 1, timeoutMs: 2000, maxBodyBytes: 256 * 1024, repository: { dir: join(s.dir, 'repo'), policy: { specific: ['1'] } }, log: () => {} });
  const r = await post(JSON.stringify(GOOD));
  assert.equal(r.status, 200, r.body);
  goodAnswer = r.body;
  assert.deepEqual(JSON.parse(goodAnswer), { model_name: 'press', model_version: '1', id: 'g', outputs: [{ name: 'predict', datatype: 'FP64', shape: [2], data: [12, 17] }] });
});
after(async () => {
  await srv?.close();
  await cleanup?.();
});

function post(body: string | Uint8Array, contentType = 'application/json', path = '/v2/models/press/infer'): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const buf = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    const req = request(`${srv.url}${path}`, { method: 'POST', headers: { 'content-type': contentType, 'content-length': buf.byteLength } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', fail);
    req.end(buf);
  });
}

const withInput = (patch: Record<string, unknown>, i = 0) => JSON.stringify({ inputs: GOOD.inputs.map((t, j) => (j === i ? { ...t, ...patch } : t)) });

const CASES: { name: string; body: string | Uint8Array; type?: string; status: number; error: RegExp }[] = [
  { name: 'unknown datatype', body: withInput({ datatype: 'FLOAT' }), status: 400, error: /datatype "FLOAT" is not one of BOOL, UINT8/ },
  { name: 'BOOL for a numeric feature', body: withInput({ datatype: 'BOOL', data: [true, false] }), status: 400, error: /datatype BOOL does not fit feature "speed" \(number\)/ },
  { name: 'strings in FP64', body: withInput({ data: ['1', '2'] }), status: 400, error: /element 0 is "1"; FP64 expects a finite number/ },
  { name: 'fraction in INT32', body: withInput({ data: [3.5, 4] }, 1), status: 400, error: /element 0 is 3\.5; INT32 expects an integer in \[-2147483648, 2147483647\]/ },
  { name: 'UINT8 out of range', body: withInput({ datatype: 'UINT8', data: [3, 256] }, 1), status: 400, error: /element 1 is 256; UINT8 expects an integer in \[0, 255\]/ },
  { name: 'FP32 overflow', body: withInput({ datatype: 'FP32', data: [1e39, 1] }), status: 400, error: /element 0 is 1e\+39; FP32 expects a finite number/ },
  { name: 'null element', body: withInput({ data: [null, 1] }), status: 400, error: /element 0 is null/ },
  { name: 'shape/data mismatch (short)', body: withInput({ shape: [3] }), status: 400, error: /"data" has 2 element\(s\) but shape \[3\] needs 3/ },
  { name: 'nested data deeper than shape', body: withInput({ shape: [2], data: [[1], [2]] }), status: 400, error: /does not match shape|deeper than shape/ },
  { name: 'huge shape', body: withInput({ shape: [4294967296, 4294967296] }), status: 400, error: /more than 10000000 elements/ },
  { name: 'negative dimension', body: withInput({ shape: [-2] }), status: 400, error: /shape\[0\] is -2; every dimension must be an integer >= 0/ },
  { name: 'string dimension', body: withInput({ shape: ['2'] }), status: 400, error: /shape\[0\] is "2"/ },
  { name: 'zero rows', body: JSON.stringify({ inputs: GOOD.inputs.map((t) => ({ ...t, shape: [0], data: [] })) }), status: 400, error: /0 rows/ },
  { name: 'BYTES with a lone surrogate', body: '{"inputs":[{"name":"m","datatype":"BYTES","shape":[1,2],"data":["\\ud800","1"]}]}', status: 400, error: /BYTES expects a well-formed \(UTF-8\) string/ },
  { name: 'BYTES with invalid UTF-8 bytes', body: Buffer.concat([Buffer.from('{"inputs":[{"name":"m","datatype":"BYTES","shape":[1,2],"data":["'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('","1"]}]}')]), status: 400, error: /not valid UTF-8/ },
  { name: 'wrong content type', body: JSON.stringify(GOOD), type: 'text/csv', status: 415, error: /send application\/json/ },
  { name: 'octet-stream without Inference-Header-Content-Length', body: JSON.stringify({ inputs: [{ name: 'speed', datatype: 'FP64', shape: [1], parameters: { binary_data_size: 8 } }] }), type: 'application/octet-stream', status: 415, error: /Content-Type "application\/octet-stream" is not supported.*Inference-Header-Content-Length/ },
  { name: 'binary_data_size without a binary part', body: JSON.stringify({ inputs: [{ name: 'speed', datatype: 'FP64', shape: [1], parameters: { binary_data_size: 8 } }] }), status: 400, error: /"binary_data_size" is given but the request has no binary part/ },
  { name: 'not JSON', body: '{"inputs": [', status: 400, error: /not valid JSON/ },
  { name: '100,000-deep nesting', body: `{"inputs":[{"name":"speed","datatype":"FP64","shape":[1],"data":${'['.repeat(100_000)}${']'.repeat(100_000)}},${JSON.stringify({ ...GOOD.inputs[1], shape: [1], data: [1] })}]}`, status: 400, error: /deeper than shape|nested too deeply/ },
  { name: 'inputs not an array', body: '{"inputs": {"speed": [1]}}', status: 400, error: /"inputs" must be a non-empty array/ },
  { name: 'input given twice', body: JSON.stringify({ inputs: [GOOD.inputs[0], GOOD.inputs[0], GOOD.inputs[1]] }), status: 400, error: /input "speed" is given twice/ },
  { name: 'object parameter value', body: JSON.stringify({ ...GOOD, parameters: { x: { y: 1 } } }), status: 400, error: /a parameter is a string, number or boolean/ },
  { name: 'numeric id', body: JSON.stringify({ ...GOOD, id: 7 }), status: 400, error: /"id" must be a string/ },
  { name: 'body over the limit', body: JSON.stringify({ inputs: [{ name: 'speed', datatype: 'FP64', shape: [60000], data: new Array(60000).fill(1.2345) }] }), status: 413, error: /larger than the limit/ },
];

test('each malformed V2 request gets its 4xx {"error"} naming the problem; the server still answers', async () => {
  for (const c of CASES) {
    const r = await post(c.body, c.type);
    assert.equal(r.status, c.status, `${c.name}: ${r.body}`);
    const doc = JSON.parse(r.body) as { error: string };
    assert.deepEqual(Object.keys(doc), ['error'], c.name);
    assert.match(doc.error, c.error, c.name);
  }
  assert.equal((await post(JSON.stringify(GOOD))).body, goodAnswer);
});

test('300 seeded random mutations of a good request: never a 5xx, always JSON; a good request still answers the same', async () => {
  let seed = 20261201;
  const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const values = [null, true, -1, 0, 1.5, 2 ** 53, -(2 ** 64), 1e308, 'x', '', '\u0000', [], {}, [1, [2]], 'FP64', 'BYTES', [2], [-1], [2, 1], [1e12]];
  const keys = ['name', 'datatype', 'shape', 'data', 'parameters', 'extra'];
  const statuses = new Map<number, number>();
  for (let i = 0; i < 300; i++) {
    const req = structuredClone(GOOD) as unknown as { inputs: Record<string, unknown>[]; [k: string]: unknown };
    const edits = 1 + Math.floor(rnd() * 3);
    for (let e = 0; e < edits; e++) {
      const where = rnd();
      const inputs = Array.isArray(req.inputs) ? req.inputs : undefined;
      if (inputs && inputs.length > 0 && where < 0.7) {
        const t = inputs[Math.floor(rnd() * inputs.length)];
        if (t !== null && typeof t === 'object') t[pick(keys)] = structuredClone(pick(values));
      } else if (!inputs || where < 0.85) req[pick(['inputs', 'outputs', 'id', 'parameters'])] = structuredClone(pick(values));
      else inputs.push({ name: pick(['speed', 'load', 'other']), datatype: pick(['FP64', 'INT8', 'BOOL', 'BYTES']), shape: [2], data: [1, 2] });
    }
    const r = await post(JSON.stringify(req));
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    assert.ok(r.status < 500, `mutation ${i} ${JSON.stringify(req)} -> ${r.status} ${r.body}`);
    const doc = JSON.parse(r.body) as Record<string, unknown>;
    if (r.status === 200) assert.ok(Array.isArray(doc.outputs), r.body);
    else assert.equal(typeof doc.error, 'string', r.body);
  }
  assert.ok((statuses.get(400) ?? 0) > 150, JSON.stringify([...statuses]));
  assert.equal((await post(JSON.stringify(GOOD))).body, goodAnswer);
  // Only a repository here (no default model): /ping follows the repository, /invocations has no model.
  assert.equal((await fetch(`${srv.url}/ping`)).status, 200);
  assert.equal((await fetch(`${srv.url}/invocations`, { method: 'POST', body: '1,2\n', headers: { 'content-type': 'text/csv' } })).status, 503);
});

test('`millwright serve --model-repository DIR --version-policy latest:1` serves V2 without a default model; flag errors are usage errors', async () => {
  const run = (args: string[]) => {
    const child = spawn(process.execPath, sourceCliArgs('serve', ...args), { env: { ...process.env, MILLWRIGHT_ADMIN_TOKEN: 'cli-token-0123456789' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d.toString()));
    child.stderr.on('data', (d) => (err += d.toString()));
    return { child, exit: new Promise<number | null>((r) => child.on('exit', (c) => r(c))), out: () => out, err: () => err };
  };
  const usage = run(['--version-policy', 'latest:1', '--port', '0']);
  assert.equal(await usage.exit, 2);
  assert.match(usage.err(), /--version-policy needs --model-repository/);
  const badPolicy = run(['--model-repository', repoDir, '--version-policy', 'newest', '--port', '0']);
  assert.equal(await badPolicy.exit, 2);
  assert.match(badPolicy.err(), /version policy "newest" is not valid/);

  const p = run(['--model-repository', repoDir, '--version-policy', 'latest:1', '--loader', LINEAR_LOADER, '--port', '0', '--workers', '1']);
  try {
    let url: string | undefined;
    for (let i = 0; i < 300 && !url; i++) {
      url = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(p.out())?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, p.err());
    await waitReady(url, p.err);
    const r = await http(`${url}/v2/models/press/infer`, { method: 'POST', body: JSON.stringify(GOOD), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json<{ model_version: string; outputs: { data: number[] }[] }>().model_version, '2');
    assert.deepEqual(r.json<{ outputs: { data: number[] }[] }>().outputs[0]!.data, [111, 161]);
    const index = await http(`${url}/v2/repository/index`, { method: 'POST', body: '', headers: { authorization: 'Bearer cli-token-0123456789' } });
    assert.deepEqual(index.json(), [{ name: 'press', version: '2', state: 'READY' }]);
    p.child.kill('SIGTERM');
    assert.equal(await p.exit, 0);
  } finally {
    p.child.kill('SIGKILL');
  }
});
