/**
 * Gateway benchmark (`npm run bench -- gateway [--soak 10m] [--rate 10000] [--rounds 5] [--only flush|soak]
 * [--snapshots DIR]`; `MILLWRIGHT_BENCH_SOAK=10m` works too):
 * 1. spool -> store: the same 1M readings (time-major, 200 series) flushed from 100 spool segments
 *    with flushSpool vs written directly with the store's writeReadings (the reference), same run,
 *    --rounds times (default 5) with the order alternated, wall and CPU ratios and their medians;
 * 2. a soak of a gateway process (child, via tsx) polling a window-poll simulator at --rate
 *    readings/s (default 10,000) for --soak (default 60s): RSS at the start and end (growth %) and
 *    CPU seconds per second per 10,000 readings/s, read from the child's own /metrics.
 * Prints figures and ratios; no asserts.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReadingBatch } from '../lib/readings/index.ts';
import { writeReadings } from '../lib/store/index.ts';
import { appendToSpool, flushSpool } from '../lib/spool/index.ts';
import { parseDuration } from '../lib/units/index.ts';
import { WindowPollSimulator } from '../lib/gateway/index.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function batch(n: number, t0: number, series: number): ReadingBatch {
  const b: ReadingBatch = { ts: new Float64Array(n), site: new Array(n).fill('plant-a'), asset: new Array(n), signal: new Array(n), value: new Float64Array(n), quality: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    const s = i % series;
    b.ts[i] = t0 + Math.floor(i / series) * 1000;
    b.asset[i] = `asset-${s % 20}`;
    b.signal[i] = `signal-${Math.floor(s / 20)}`;
    b.value[i] = Math.sin(i / 1000) * 10 + s;
  }
  return b;
}

const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')} readings/s`;

async function flushVsWrite(dir: string): Promise<void> {
  const N = 1_000_000;
  const SEG = 10_000;
  const t0 = Date.UTC(2024, 2, 1);
  const all = batch(N, t0, 200);
  const segments: ReadingBatch[] = [];
  for (let o = 0; o < N; o += SEG) {
    segments.push({ ts: all.ts.slice(o, o + SEG), site: all.site.slice(o, o + SEG), asset: all.asset.slice(o, o + SEG), signal: all.signal.slice(o, o + SEG), value: all.value.slice(o, o + SEG), quality: all.quality!.slice(o, o + SEG) });
  }
  const rounds = Number(arg('rounds', '5'));
  const wall: number[] = [];
  const cpu: number[] = [];
  const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
  for (let round = 1; round <= rounds; round++) {
    const spool = join(dir, `spool-${round}`);
    for (const s of segments) await appendToSpool(spool, s);
    const ref = join(dir, `ref-${round}`);
    const store = join(dir, `store-${round}`);
    // Alternate which goes first, so JIT warm-up and page-cache state favour neither side; CPU
    // time (this process, all threads) beside wall time, since other work on the machine moves
    // the wall clock of either side by seconds.
    // A full collection before each side, so neither pays for the other's garbage (without it the
    // side that ran second was usually the slower one, whichever it was).
    const collect = () => (globalThis as { gc?: () => void }).gc?.();
    const timeWrite = async () => {
      collect();
      const c = process.cpuUsage();
      const t = performance.now();
      await writeReadings(ref, all);
      return { ms: performance.now() - t, cpu: cpuMs(process.cpuUsage(c)), rows: N, segments: 0 };
    };
    const timeFlush = async () => {
      collect();
      const c = process.cpuUsage();
      const t = performance.now();
      const r = await flushSpool({ spool, store });
      return { ms: performance.now() - t, cpu: cpuMs(process.cpuUsage(c)), rows: r.rows, segments: r.segments };
    };
    const [w, f] = round % 2 === 1 ? [await timeWrite(), await timeFlush()] : await timeFlush().then(async (f) => [await timeWrite(), f]);
    wall.push(w.ms / f.ms);
    cpu.push(w.cpu / f.cpu);
    console.log(
      `round ${round}: writeReadings ${rate(N, w.ms)} (${w.ms.toFixed(0)} ms, CPU ${w.cpu.toFixed(0)} ms) | flushSpool of ${f.segments} segments ${rate(f.rows, f.ms)} ` +
        `(${f.ms.toFixed(0)} ms, CPU ${f.cpu.toFixed(0)} ms) | flush/write ${(w.ms / f.ms).toFixed(2)}x wall, ${(w.cpu / f.cpu).toFixed(2)}x CPU`,
    );
    await rm(ref, { recursive: true, force: true });
    await rm(store, { recursive: true, force: true });
  }
  const summary = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `median ${s[Math.floor(s.length / 2)].toFixed(2)}x (min ${s[0].toFixed(2)}x, max ${s[s.length - 1].toFixed(2)}x)`;
  };
  console.log(`flush/write over ${rounds} rounds: wall ${summary(wall)}; CPU ${summary(cpu)}`);
}

async function metricsOf(url: string): Promise<{ rss: number; heap: number; external: number; cpu: number; readings: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    rss: num(/^millwright_gateway_process_resident_memory_bytes (\S+)$/m),
    heap: num(/^millwright_gateway_nodejs_heap_size_used_bytes (\S+)$/m),
    external: num(/^millwright_gateway_nodejs_external_memory_bytes (\S+)$/m),
    cpu: num(/^millwright_gateway_process_cpu_seconds_total (\S+)$/m),
    readings: num(/^millwright_gateway_readings_total\{source="plc"\} (\S+)$/m),
  };
}

async function soak(dir: string): Promise<void> {
  const soakMs = parseDuration(arg('soak', process.env.MILLWRIGHT_BENCH_SOAK ?? '60s'), { what: '--soak', bareNumber: 's', positive: true });
  const wanted = Number(arg('rate', '10000'));
  const tags = 50;
  const periodMs = Math.max(1, Math.round((tags * 1000) / wanted));
  const sim = new WindowPollSimulator({ windowMs: 4000, tags: Array.from({ length: tags }, (_, i) => ({ id: i + 1, periodMs })) });
  const { port } = await sim.listen();
  const httpPort = 20000 + Math.floor(Math.random() * 20000);
  const config = join(dir, 'gateway.json');
  await writeFile(config, JSON.stringify({
    site: 'plant-a', spool: { dir: 'spool', maxBytes: '2gb', flushEvery: '5s' }, store: 'store', http: { port: httpPort },
    sources: [{ name: 'plc', type: 'window-poll', host: '127.0.0.1', port, window: '4s', poll: '1s', tags: Array.from({ length: tags }, (_, i) => ({ id: i + 1, asset: `m${i % 10}`, signal: `s${i}` })) }],
  }));
  // --snapshots DIR: the child writes a V8 heap snapshot there at the start and at the end of the soak.
  const snapshots = arg('snapshots', '');
  const flags = snapshots ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshots}`] : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', 'cli/main.ts', 'gateway', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const snapshot = async () => {
    if (!snapshots) return;
    child.kill('SIGUSR2');
    await sleep(5000); // the child is paused while it writes the snapshot
  };
  const url = `http://127.0.0.1:${httpPort}`;
  try {
    let up = false;
    for (let i = 0; i < 300 && !up; i++) {
      await sleep(100);
      up = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    }
    if (!up) throw new Error('gateway did not start');
    await sleep(Math.min(10_000, soakMs / 6)); // warm-up: JIT, first flushes
    await snapshot();
    const a = await metricsOf(url);
    const ta = performance.now();
    // RSS follows the heap's sawtooth (garbage piles up in old space between major GCs, tens of
    // MB at this rate), so two point samples can differ by 10-20 % on phase alone: RSS is sampled
    // every 10 s, and the growth is judged on the first and last tenth's means and on the
    // least-squares trend over the whole soak, printed beside the point-to-point figure.
    const samples: { t: number; rss: number }[] = [{ t: 0, rss: a.rss }];
    const step = Math.max(1000, Math.min(10_000, soakMs / 20));
    const mb = (x: number) => `${(x / 1024 / 1024).toFixed(1)} MB`;
    const line = (m: { rss: number; heap: number; external: number }) => `RSS ${mb(m.rss)}, heap used ${mb(m.heap)}, external ${mb(m.external)}`;
    console.log(`  t=0 s: ${line(a)}`);
    let printed = 0;
    while (performance.now() - ta < soakMs) {
      await sleep(Math.min(step, soakMs - (performance.now() - ta) + 1));
      const m = await metricsOf(url);
      const t = (performance.now() - ta) / 1000;
      samples.push({ t, rss: m.rss });
      if (t - printed >= Math.max(60, soakMs / 10000) || performance.now() - ta >= soakMs) {
        printed = t;
        console.log(`  t=${t.toFixed(0)} s: ${line(m)}`);
      }
    }
    const b = await metricsOf(url);
    const sec = (performance.now() - ta) / 1000;
    await snapshot();
    const rps = (b.readings - a.readings) / sec;
    const cpu = (b.cpu - a.cpu) / sec;
    console.log(`soak ${sec.toFixed(0)} s at ${Math.round(rps).toLocaleString('en-US')} readings/s (device makes ${Math.round((tags * 1000) / periodMs).toLocaleString('en-US')}/s; poll 1 s, window 4 s)`);
    const rss = samples.map((x) => x.rss);
    const tenth = Math.max(1, Math.floor(samples.length / 10));
    const mean = (xs: number[]) => xs.reduce((p, x) => p + x, 0) / xs.length;
    const head = mean(rss.slice(0, tenth));
    const tail = mean(rss.slice(-tenth));
    const tMean = mean(samples.map((x) => x.t));
    const rMean = mean(rss);
    const slope = samples.reduce((p, x) => p + (x.t - tMean) * (x.rss - rMean), 0) / samples.reduce((p, x) => p + (x.t - tMean) ** 2, 0);
    const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
    console.log(`RSS start ${mb(a.rss)} -> end ${mb(b.rss)} (point to point ${pct((b.rss - a.rss) / a.rss)}; min ${mb(Math.min(...rss))}, max ${mb(Math.max(...rss))}, ${samples.length} samples)`);
    console.log(`RSS growth over ${sec.toFixed(0)} s: first-tenth mean ${mb(head)} -> last-tenth mean ${mb(tail)} = ${pct((tail - head) / head)}; least-squares trend ${pct((slope * sec) / rMean)} of the mean RSS (target < 10 %)`);
    console.log(`CPU ${(cpu * 100).toFixed(1)} % of one core = ${((cpu * 10_000) / rps).toFixed(3)} CPU-s/s per 10,000 readings/s`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await sim.close();
  }
}

export default async function gatewayBench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mw-gw-bench-'));
  try {
    const only = arg('only', 'all');
    if (only !== 'soak') await flushVsWrite(dir);
    if (only !== 'flush') await soak(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
