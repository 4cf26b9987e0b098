/**
 * The tensor and image section of `npm run bench:serve`: a small convolution classifier (the
 * `onnx` built-in, 3 -> 8 channels, 3x3, then global pooling) behind `millwright serve`, measured
 * sequentially over one keep-alive connection on
 *  - `POST /invocations` with a 224x224 JPEG body (decode, normalise, run), and
 *  - `POST /v2/models/<name>/infer` with an FP32 tensor (1x3x32x32 and 1x3x224x224) as JSON and
 *    in the binary tensor extension, and with the JPEG as a binary BYTES input,
 * and, in the same run on the same inputs, onnxruntime called directly in-process (same session
 * options: one intra-op thread) as the reference; for the JPEG route also decode + run in-process.
 * Routes and their reference are timed interleaved (one request of each in turn), in several rounds;
 * the overhead is the median over rounds of the difference of the p50s (target: under 1 ms on the
 * tensor path). `node --import tsx bench/serve-tensor.ts [workers] [rounds] [requests per round]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { freePort } from '../test/helpers/tcp-proxy.ts';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { sessionOptions } from '../lib/algorithms/onnx/session.ts';
import { imageToTensor } from '../lib/vision/index.ts';
import { SERVE_NODE_FLAGS } from '../serve/node-flags.ts';
import { convClassifier, importTensorModel, weights } from '../test/algorithms/onnx-tensor-models.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];


function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface Timing {
  p50: number;
  p99: number;
  /** The p50 of each round. */
  rounds: number[];
}

/**
 * Times `fns` interleaved: each round runs every function `n` times, one call of each in turn (the
 * order turning by one each time), so all of them see the same load on a shared machine (a block of one route, then a block of the
 * next, did not: the same route measured 1.0 ms in one run and 3.7 ms in the next at load average
 * 11-17). Each round's p50 is kept: an overhead is reported as the median over rounds of the
 * per-round difference, with its range, so one noisy stretch moves one round, not the figure.
 */
async function timeRounds(rounds: number, n: number, warm: number, fns: (() => Promise<unknown>)[]): Promise<Timing[]> {
  for (let i = 0; i < warm; i++) for (const fn of fns) await fn();
  const all: number[][] = fns.map(() => []);
  const perRound: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const t: number[][] = fns.map(() => []);
    for (let i = 0; i < n; i++) {
      // the order turns by one each time: every function follows each of the others equally often,
      // so none pays alone for the garbage and threads of the in-process reference before it
      for (let j = 0; j < fns.length; j++) {
        const k = (i + j) % fns.length;
        const s = performance.now();
        await fns[k]!();
        t[k]!.push(performance.now() - s);
      }
    }
    t.forEach((x, k) => {
      all[k]!.push(...x);
      perRound[k]!.push(percentile(x.sort((a, b) => a - b), 0.5));
    });
  }
  return all.map((x, k) => {
    x.sort((a, b) => a - b);
    return { p50: percentile(x, 0.5), p99: percentile(x, 0.99), rounds: perRound[k]! };
  });
}

/** Median over rounds of `h`'s round p50 minus `r`'s, and the smallest and largest of those differences. */
function overhead(h: Timing, r: Timing): { median: number; min: number; max: number } {
  const d = h.rounds.map((x, i) => x - r.rounds[i]!).sort((a, b) => a - b);
  return { median: d.length % 2 === 1 ? d[(d.length - 1) / 2]! : (d[d.length / 2 - 1]! + d[d.length / 2]!) / 2, min: d[0]!, max: d[d.length - 1]! };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function post(url: string, body: Buffer, contentType: string, extra: Record<string, string> = {}): Promise<{ status: number; text: string; raw: Buffer; headerLength?: number }> {
  return new Promise((ok, fail) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': body.byteLength, accept: 'application/json', ...extra } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const h = res.headers['inference-header-content-length'];
        ok({ status: res.statusCode ?? 0, text: h === undefined ? raw.toString('utf8') : '', raw, ...(typeof h === 'string' ? { headerLength: Number(h) } : {}) });
      });
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

async function waitReady(url: string, proc: ChildProcess, models: string[]): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`millwright serve exited with ${proc.exitCode}`);
    // Every model the bench calls, not only the server: a repository model can still be loading.
    const ready = await Promise.all([`${url}/v2/health/ready`, ...models.map((m) => `${url}/v2/models/${m}/ready`)].map((u) => fetch(u).then((r) => r.status, () => 0)));
    if (ready.every((s) => s === 200)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('millwright serve (tensor models) did not become ready');
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** A V2 request in the binary tensor extension: JSON header, then the tensors' bytes. */
function binaryRequest(header: unknown, tensors: Uint8Array[]): { body: Buffer; headerLength: number } {
  const head = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([head, ...tensors]), headerLength: head.byteLength };
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** The float32 values of output `name` in a V2 answer (JSON `data`, or its slice of the binary part). */
function v2Output(r: { status: number; raw: Buffer; headerLength?: number }, name: string): Float32Array {
  const cut = r.headerLength ?? r.raw.byteLength;
  const head = r.raw.subarray(0, Math.min(cut, 300)).toString('utf8');
  // An error answer ({"error": ...}, e.g. a model still loading) is reported as such, not read as outputs.
  if (r.status !== 200) throw new Error(`V2 answer ${r.status} instead of outputs: ${head}`);
  let doc: { outputs?: unknown };
  try {
    doc = JSON.parse(r.raw.subarray(0, cut).toString('utf8')) as { outputs?: unknown };
  } catch {
    throw new Error(`V2 answer is not JSON: ${head}`);
  }
  if (!Array.isArray(doc.outputs)) throw new Error(`V2 answer without an outputs array: ${head}`);
  let at = cut;
  for (const o of doc.outputs as { name: string; data?: number[]; parameters?: { binary_data_size?: number } }[]) {
    const size = o.parameters?.binary_data_size;
    if (o.name === name) return size === undefined ? Float32Array.from(o.data!) : new Float32Array(new Uint8Array(r.raw.subarray(at, at + size)).buffer);
    at += size ?? 0;
  }
  throw new Error(`no output ${name} in ${r.raw.subarray(0, Math.min(cut, 300)).toString('utf8')}`);
}

/** Runs the tensor/JPEG comparison in `dir` (a scratch folder the caller removes); `requests` per route. */
export async function benchTensor(o: { dir: string; workers: string; requests?: number; rounds?: number }): Promise<void> {
  const rounds = o.rounds ?? 5;
  const n = o.requests ?? 200;
  const n224 = Math.min(n, 60);
  // The default model: a 224x224 classifier whose answer is its 8 logits (as a deployed classifier's is).
  const cls = await importTensorModel(join(o.dir, 'cls224'), 'cls224', convClassifier({ h: 224, w: 224, classes: 8, logitsOnly: true }), { image: { mean: MEAN, std: STD } });
  // The same convolution also answering its 8x224x224 feature map (the test model), to show what that output costs.
  const feat = await importTensorModel(join(o.dir, 'conv224'), 'conv224', convClassifier({ h: 224, w: 224, classes: 8 }), { image: { mean: MEAN, std: STD } });
  const small = await importTensorModel(join(o.dir, 'conv32'), 'conv32', convClassifier({ h: 32, w: 32, classes: 8 }));
  const repo = join(o.dir, 'tensor-repo');
  await cp(small.modelDir, join(repo, 'conv32', '1'), { recursive: true });
  await cp(feat.modelDir, join(repo, 'conv224', '1'), { recursive: true });
  const port = await freePort();
  // Started as the container starts it (Dockerfile ENTRYPOINT, bench/serve.ts): with the serving V8 flags.
  const proc = spawn(process.execPath, [...SERVE_NODE_FLAGS, '--import', 'tsx', join(root, 'cli/main.ts'), 'serve', '--model', cls.modelDir, '--model-repository', repo, '--port', String(port), '--workers', o.workers, '--host', '127.0.0.1'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // The default model's log line says whether its small V2 and /invocations bodies are answered on the
  // HTTP thread (its probe run's busy time on that thread against the 1 ms budget), and for how many examples.
  let inlineNote = 'not logged';
  let logTail = '';
  proc.stdout!.on('data', (c: Buffer) => {
    if (inlineNote !== 'not logged') return;
    logTail += c.toString('utf8');
    const line = logTail.split('\n').find((l) => l.includes('"msg":"model loaded"'));
    if (line) inlineNote = JSON.stringify((JSON.parse(line) as { inline?: unknown }).inline ?? 'none');
    else logTail = logTail.slice(-4096);
  });
  const url = `http://127.0.0.1:${port}`;
  // The machine's HTTP floor: a bare node:http server in its own process that reads the body and answers 40 bytes.
  const floorPort = await freePort();
  const floorCode = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.setHeader('content-length', 40); s.end('x'.repeat(40)); }); }).listen(${floorPort}, '127.0.0.1')`;
  const floor = spawn(process.execPath, ['-e', floorCode], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    await waitReady(url, proc, ['cls224', 'conv32', 'conv224']);
    // A 224x224 photo-like JPEG (gradients and texture), quality 90.
    const px = new Uint8Array(224 * 224 * 3);
    for (let y = 0; y < 224; y++) for (let x = 0; x < 224; x++) for (let c = 0; c < 3; c++) px[(y * 224 + x) * 3 + c] = (x + y * (c + 1) + ((x * y) % 23) * 7) % 256;
    const jpeg = await sharp(px, { raw: { width: 224, height: 224, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    const sCls = await ort.InferenceSession.create(cls.file, sessionOptions());
    const sFeat = await ort.InferenceSession.create(feat.file, sessionOptions());
    const sSmall = await ort.InferenceSession.create(small.file, sessionOptions());
    const spec224 = { name: 'image', type: 'float32' as const, shape: [1, 3, 224, 224] };
    const decodeRun = async (s: ort.InferenceSession) => {
      const t = await imageToTensor(jpeg, spec224, { mean: MEAN, std: STD });
      return s.run({ image: new ort.Tensor('float32', t.data as Float32Array, [1, 3, 224, 224]) });
    };

    const x32 = Float32Array.from(weights(3 * 32 * 32, 11));
    const x224 = Float32Array.from(weights(3 * 224 * 224, 12));
    const jsonBody = (x: Float32Array, side: number) => Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, side, side], data: Array.from(x) }], outputs: [{ name: 'logits' }] }));
    const binBody = (x: Float32Array, side: number) =>
      binaryRequest({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, side, side], parameters: { binary_data_size: x.byteLength } }], outputs: [{ name: 'logits', parameters: { binary_data: true } }] }, [bytesOf(x)]);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(jpeg.byteLength);
    const jpegV2 = (outputs?: string[]) => binaryRequest({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 4 + jpeg.byteLength } }], ...(outputs ? { outputs: outputs.map((name) => ({ name })) } : {}) }, [len, jpeg]);
    const j32 = jsonBody(x32, 32);
    const b32 = binBody(x32, 32);
    const j224 = jsonBody(x224, 224);
    const b224 = binBody(x224, 224);
    const jv2 = jpegV2();
    const jv2Logits = jpegV2(['logits']);
    const infer = (m: string) => `${url}/v2/models/${m}/infer`;
    const postBin = (m: string, r: { body: Buffer; headerLength: number }) => post(infer(m), r.body, 'application/octet-stream', { 'inference-header-content-length': String(r.headerLength) });

    // Same answers before timing, on every route, against onnxruntime in-process.
    const same = (a: ArrayLike<number>, b: ArrayLike<number>) => a.length === b.length && Array.from(a).every((v, i) => Math.abs(v - b[i]!) < 1e-5);
    const ref32 = (await sSmall.run({ image: new ort.Tensor('float32', x32, [1, 3, 32, 32]) })).logits!.data as Float32Array;
    const ref224 = (await sCls.run({ image: new ort.Tensor('float32', x224, [1, 3, 224, 224]) })).logits!.data as Float32Array;
    const refJpeg = (await decodeRun(sCls)).logits!.data as Float32Array;
    const checks: [string, boolean][] = [
      ['V2 FP32 JSON', same(v2Output(await post(infer('conv32'), j32, 'application/json'), 'logits'), ref32)],
      ['V2 FP32 binary', same(v2Output(await postBin('conv32', b32), 'logits'), ref32)],
      ['V2 FP32 224 JSON', same(v2Output(await post(infer('cls224'), j224, 'application/json'), 'logits'), ref224)],
      ['V2 FP32 224 binary', same(v2Output(await postBin('cls224', b224), 'logits'), ref224)],
      ['JPEG /invocations', same((JSON.parse((await post(`${url}/invocations`, jpeg, 'image/jpeg')).text) as { predictions: number[][] }).predictions[0]!, refJpeg)],
      ['JPEG V2 binary BYTES', same(v2Output(await postBin('cls224', jv2), 'logits'), refJpeg)],
    ];

    console.log(`\ntensor and image inputs: conv 3->8 (3x3) + global pooling, onnx built-in, ${o.workers} workers; ${rounds} rounds of ${n} (224x224: ${n224}) sequential requests per route over one keep-alive connection, interleaved with the reference; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    console.log(`cls224 (the default model) on the HTTP thread for small V2 and /invocations bodies: ${inlineNote}`);
    console.log(`answers equal onnxruntime in-process: ${checks.map(([k, v]) => `${k} ${v ? 'yes' : 'NO'}`).join(', ')}`);
    console.log('route                                                     p50 ms   p99 ms   reference (in-process)            p50 ms   p99 ms   overhead p50: median of rounds [range]');
    const row = (name: string, h: Timing, refName: string, r: Timing) => {
      const d = overhead(h, r);
      console.log(`${name.padEnd(57)} ${fmt(h.p50).padStart(6)} ${fmt(h.p99).padStart(8)}   ${refName.padEnd(32)} ${fmt(r.p50).padStart(6)} ${fmt(r.p99).padStart(8)}   ${fmt(d.median).padStart(8)} ms [${fmt(d.min)} .. ${fmt(d.max)}]`);
      return d.median;
    };
    const t32 = new ort.Tensor('float32', x32, [1, 3, 32, 32]);
    const floorUrl = `http://127.0.0.1:${floorPort}/`;
    const [r32, h32, hb32, fl] = await timeRounds(rounds, n, 20, [() => sSmall.run({ image: t32 }), () => post(infer('conv32'), j32, 'application/json'), () => postBin('conv32', b32), () => post(floorUrl, b32.body, 'application/octet-stream')]);
    const oFloor = row('HTTP floor: bare node:http, same 12 KiB body, 40-byte answer', fl!, 'onnxruntime run', r32!);
    const oJson = row(`V2 conv32 FP32 [1,3,32,32] JSON (${(j32.byteLength / 1024).toFixed(0)} KiB)`, h32!, 'onnxruntime run', r32!);
    const oBin = row(`V2 conv32 FP32 [1,3,32,32] binary in + out (${(b32.body.byteLength / 1024).toFixed(0)} KiB)`, hb32!, 'onnxruntime run', r32!);
    const t224 = new ort.Tensor('float32', x224, [1, 3, 224, 224]);
    const [r224, h224, hb224] = await timeRounds(rounds, n224, 5, [() => sCls.run({ image: t224 }), () => post(infer('cls224'), j224, 'application/json'), () => postBin('cls224', b224)]);
    row(`V2 cls224 FP32 [1,3,224,224] JSON (${(j224.byteLength / 2 ** 20).toFixed(1)} MiB)`, h224!, 'onnxruntime run', r224!);
    row(`V2 cls224 FP32 [1,3,224,224] binary (${(b224.body.byteLength / 1024).toFixed(0)} KiB)`, hb224!, 'onnxruntime run', r224!);
    const [rj, hj, hjv] = await timeRounds(rounds, n224, 5, [() => decodeRun(sCls), () => post(`${url}/invocations`, jpeg, 'image/jpeg'), () => postBin('cls224', jv2)]);
    const oJpeg = row(`/invocations image/jpeg 224x224 (${(jpeg.byteLength / 1024).toFixed(0)} KiB) -> 8 logits`, hj!, 'sharp decode + onnxruntime run', rj!);
    const oJpegV2 = row('V2 cls224 JPEG as binary BYTES -> 8 logits', hjv!, 'sharp decode + onnxruntime run', rj!);
    // What the earlier JPEG figure measured: the test model's 8x224x224 feature map answered as JSON.
    const few = Math.min(n224, 30);
    const fAll = await postBin('conv224', jv2);
    // Timed apart: interleaved, the 7.5 MB answers' garbage collection also slowed the requests beside them.
    const [rf, hfl] = await timeRounds(1, few, 3, [() => decodeRun(sFeat), () => postBin('conv224', jv2Logits)]);
    const [hf] = await timeRounds(1, few, 3, [() => postBin('conv224', jv2)]);
    row(`V2 conv224 JPEG, all outputs as JSON (${(fAll.raw.byteLength / 2 ** 20).toFixed(1)} MB answer)`, { ...hf!, rounds: [hf!.p50] }, 'sharp decode + onnxruntime run', { ...rf!, rounds: [rf!.p50] });
    row('V2 conv224 JPEG, outputs: [logits]', hfl!, 'sharp decode + onnxruntime run', rf!);
    const verdict = (x: number) => (x < 1 ? 'PASS' : 'MISS');
    console.log(`  ${verdict(oJson)} V2 tensor route (JSON) HTTP overhead < 1 ms p50 over the direct call: ${fmt(oJson)} ms (median of ${rounds} rounds; ${fmt(oJson / oFloor)}x the bare node:http overhead of the same rounds)`);
    console.log(`  ${verdict(oBin)} V2 tensor route (binary extension) HTTP overhead < 1 ms p50 over the direct call: ${fmt(oBin)} ms (${fmt(oBin / oFloor)}x the bare node:http overhead)`);
    console.log(`  ${verdict(oJpeg)} JPEG route (/invocations) HTTP overhead < 1 ms p50 over decode + run in-process: ${fmt(oJpeg)} ms; V2 BYTES: ${fmt(oJpegV2)} ms`);
    console.log(`  load after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    await sCls.release();
    await sFeat.release();
    await sSmall.release();
  } finally {
    agent.destroy();
    floor.kill('SIGTERM');
    await new Promise<void>((ok) => {
      if (proc.exitCode !== null) return ok();
      proc.once('exit', () => ok());
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 35_000).unref();
    });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  // [workers] [rounds] [requests per round]: positive integers, else a usage error (a NaN round count ran no rounds)
  const [workers = '2', rounds, requests] = process.argv.slice(2);
  for (const v of [workers, rounds, requests]) {
    if (v !== undefined && !/^[1-9]\d*$/.test(v)) {
      console.error(`usage: node --import tsx bench/serve-tensor.ts [workers] [rounds] [requests per round] (positive integers; got ${JSON.stringify(v)})`);
      process.exit(2);
    }
  }
  const dir = await mkdtemp(join(tmpdir(), 'mw-bench-tensor-'));
  try {
    await benchTensor({ dir, workers, ...(rounds ? { rounds: Number(rounds) } : {}), ...(requests ? { requests: Number(requests) } : {}) });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
