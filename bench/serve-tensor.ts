/**
 * The tensor and image section of `npm run bench:serve`: a small convolution classifier (the
 * `onnx` built-in, 3 -> 8 channels, 3x3, then global pooling) behind `millwright serve`, measured
 * sequentially over one keep-alive connection on
 *  - `POST /invocations` with a 224x224 JPEG body (decode, normalise, run), and
 *  - `POST /v2/models/<name>/infer` with an FP32 tensor (1x3x32x32 and 1x3x224x224),
 * and, in the same run on the same inputs, onnxruntime called directly in-process (same session
 * options: one intra-op thread) as the reference; for the JPEG route also decode + run in-process.
 * The difference of the p50s is the HTTP overhead (target: under 1 ms on the tensor path).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { sessionOptions } from '../lib/algorithms/onnx/session.ts';
import { imageToTensor } from '../lib/vision/index.ts';
import { convClassifier, importTensorModel, weights } from '../test/algorithms/onnx-tensor-models.ts';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
    s.on('error', fail);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface Timing {
  p50: number;
  p99: number;
}

async function time(n: number, warm: number, fn: () => Promise<unknown>): Promise<Timing> {
  for (let i = 0; i < warm; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { p50: percentile(t, 0.5), p99: percentile(t, 0.99) };
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function post(url: string, body: Buffer, contentType: string): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': body.byteLength, accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

async function waitReady(url: string, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`millwright serve exited with ${proc.exitCode}`);
    if ((await fetch(`${url}/v2/health/ready`).then((r) => r.status, () => 0)) === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('millwright serve (tensor models) did not become ready');
}

const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** Runs the tensor/JPEG comparison in `dir` (a scratch folder the caller removes); `requests` per route. */
export async function benchTensor(o: { dir: string; workers: string; requests?: number }): Promise<void> {
  const n = o.requests ?? 300;
  const big = await importTensorModel(join(o.dir, 'conv224'), 'conv224', convClassifier({ h: 224, w: 224, classes: 8 }), { image: { mean: MEAN, std: STD } });
  const small = await importTensorModel(join(o.dir, 'conv32'), 'conv32', convClassifier({ h: 32, w: 32, classes: 8 }));
  const repo = join(o.dir, 'tensor-repo');
  await cp(small.modelDir, join(repo, 'conv32', '1'), { recursive: true });
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', join(root, 'cli/main.ts'), 'serve', '--model', big.modelDir, '--model-repository', repo, '--port', String(port), '--workers', o.workers, '--host', '127.0.0.1'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(url, proc);
    // A 224x224 photo-like JPEG (gradients and texture), quality 90.
    const px = new Uint8Array(224 * 224 * 3);
    for (let y = 0; y < 224; y++) for (let x = 0; x < 224; x++) for (let c = 0; c < 3; c++) px[(y * 224 + x) * 3 + c] = (x + y * (c + 1) + ((x * y) % 23) * 7) % 256;
    const jpeg = await sharp(px, { raw: { width: 224, height: 224, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
    const sBig = await ort.InferenceSession.create(big.file, sessionOptions());
    const sSmall = await ort.InferenceSession.create(small.file, sessionOptions());
    const spec224 = { name: 'image', type: 'float32' as const, shape: [1, 3, 224, 224] };

    // Same answers before timing: the server's JPEG route vs decode + run in-process.
    const pixels = await imageToTensor(jpeg, spec224, { mean: MEAN, std: STD });
    const ref = (await sBig.run({ image: new ort.Tensor('float32', pixels.data as Float32Array, [1, 3, 224, 224]) })).logits!.data as Float32Array;
    const got = JSON.parse((await post(`${url}/invocations`, jpeg, 'image/jpeg')).text) as { predictions: { logits: number[] }[] };
    const same = got.predictions[0]!.logits.every((v, i) => Math.abs(v - ref[i]!) < 1e-5);

    const x32 = Float32Array.from(weights(3 * 32 * 32, 11));
    const x224 = Float32Array.from(weights(3 * 224 * 224, 12));
    const v2Body = (x: Float32Array, side: number) => Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, side, side], data: Array.from(x) }], outputs: [{ name: 'logits' }] }));
    const b32 = v2Body(x32, 32);
    const b224 = v2Body(x224, 224);
    const check = JSON.parse((await post(`${url}/v2/models/conv32/infer`, b32, 'application/json')).text) as { outputs: { data: number[] }[] };
    const ref32 = (await sSmall.run({ image: new ort.Tensor('float32', x32, [1, 3, 32, 32]) })).logits!.data as Float32Array;
    const same32 = check.outputs[0]!.data.every((v, i) => v === ref32[i]);

    console.log(`\ntensor and image inputs: conv 3->8 (3x3) + global pooling, onnx built-in, ${o.workers} workers; ${n} sequential requests per route over one keep-alive connection`);
    console.log(`answers equal onnxruntime in-process: JPEG route ${same ? 'yes' : 'NO'}, V2 tensor route ${same32 ? 'yes' : 'NO'}`);
    console.log('route                                              p50 ms   p99 ms   reference (in-process)            p50 ms   p99 ms   overhead p50');
    const row = (name: string, h: Timing, refName: string, r: Timing) =>
      console.log(`${name.padEnd(50)} ${fmt(h.p50).padStart(6)} ${fmt(h.p99).padStart(8)}   ${refName.padEnd(32)} ${fmt(r.p50).padStart(6)} ${fmt(r.p99).padStart(8)}   ${fmt(h.p50 - r.p50).padStart(8)} ms`);
    const t32 = new ort.Tensor('float32', x32, [1, 3, 32, 32]);
    const r32 = await time(n, 20, () => sSmall.run({ image: t32 }));
    const h32 = await time(n, 20, () => post(`${url}/v2/models/conv32/infer`, b32, 'application/json'));
    row('POST /v2/models/conv32/infer FP32 [1,3,32,32]', h32, 'onnxruntime run', r32);
    const t224 = new ort.Tensor('float32', x224, [1, 3, 224, 224]);
    const r224 = await time(Math.min(n, 100), 5, () => sBig.run({ image: t224 }));
    const h224 = await time(Math.min(n, 100), 5, () => post(`${url}/v2/models/conv224/infer`, b224, 'application/json'));
    row(`POST /v2/.../infer FP32 [1,3,224,224] (${(b224.byteLength / 2 ** 20).toFixed(1)} MiB JSON)`, h224, 'onnxruntime run', r224);
    const rj = await time(Math.min(n, 100), 5, async () => {
      const t = await imageToTensor(jpeg, spec224, { mean: MEAN, std: STD });
      return sBig.run({ image: new ort.Tensor('float32', t.data as Float32Array, [1, 3, 224, 224]) });
    });
    const hj = await time(Math.min(n, 100), 5, () => post(`${url}/invocations`, jpeg, 'image/jpeg'));
    row(`POST /invocations image/jpeg 224x224 (${(jpeg.byteLength / 1024).toFixed(0)} KiB)`, hj, 'sharp decode + onnxruntime run', rj);
    row('', hj, 'onnxruntime run alone', r224);
    console.log(`  ${h32.p50 - r32.p50 < 1 ? 'PASS' : 'MISS'} V2 tensor route HTTP overhead < 1 ms p50 over the direct call: ${fmt(h32.p50 - r32.p50)} ms`);
    console.log(`  ${hj.p50 - rj.p50 < 1 ? 'PASS' : 'MISS'} JPEG route HTTP overhead < 1 ms p50 over decode + run in-process: ${fmt(hj.p50 - rj.p50)} ms`);
    await sBig.release();
    await sSmall.release();
  } finally {
    agent.destroy();
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
  const dir = await mkdtemp(join(tmpdir(), 'mw-bench-tensor-'));
  try {
    await benchTensor({ dir, workers: process.argv[2] ?? '2' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
