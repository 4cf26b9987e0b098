/**
 * `npm run bench:serve [-- --duration 10s --soak 30s | --full]`
 *
 * Load-tests `millwright serve` and, in the same run on the same machine, the common Python
 * stack for the job: the same random forest (same CSV, same hyperparameters) in scikit-learn
 * behind Flask under gunicorn (bench/serve_reference.py). Load comes from wrk (closed loop, for
 * throughput) and autocannon (fixed 1,000 req/s, for latency at a given rate), over loopback.
 *
 * Prints req/s and p50/p99 for single-row JSON, single-row CSV and 1,000-row CSV batches, the
 * latency of 10,000-row CSV batches, and memory across a soak, with ratios and the targets:
 * >= 3x reference single-row throughput, p99 < 10 ms at 1,000 req/s, 10k-row batch < 150 ms,
 * memory growth < 10%.
 *
 * Options: --duration DUR per throughput run (default 10s), --soak DUR (default 30s; --full = 5m),
 * --trees N (default 100), --depth N (default 10), --rows N training rows (default all),
 * --connections N (default 32), --workers N (millwright and gunicorn workers, default 2),
 * --only fixed-rate (just the fixed 1,000 req/s latency run against millwright, --repeat N times,
 * no reference; for iterating on tail latency), --only single-row (issue 15 target 3 alone: single-row
 * CSV/JSON throughput against bare node:http and nginx, then p99 at a fixed 1,000 req/s with the
 * open-loop client bench/rate-client.c for millwright, node:http and nginx (autocannon once beside it), on the
 * Friedman-style forest, --repeat N times, load average beside each figure), --only batch (issue 15
 * target 2 alone: 1,000-row CSV batches against every reference and the 10,000-row batch latency,
 * same servers and model as the full run), --model DIR (serve this
 * model dir instead of training one; with --only), --serve-args "..." (extra `millwright serve` flags), --data steel|friedman
 * (the real steel plant data, 6 features, default; or issue 15's Friedman-style 20 features, 20,000
 * rows unless --rows). 1,000-row batches are also measured against FastAPI + uvicorn and aiohttp +
 * gunicorn, and single-row CSV against bare node:http and nginx answering a constant.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { freePort } from '../test/helpers/tcp-proxy.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { SERVE_DURATION } from '../serve/options.ts';
import { SERVE_NODE_FLAGS } from '../serve/node-flags.ts';
import { parseDuration } from '../lib/units/index.ts';
import { RF_FEATURES, RF_TARGET, trainEnergyForest, writeEnergyCsv } from '../test/serve/fixtures/rf-model.ts';
import { benchV2 } from './serve-v2.ts';
import { benchTensor } from './serve-tensor.ts';
import { buildRateClient, openLoop, type OpenLoopResult } from './rate-client.ts';

const run = promisify(execFile);

/**
 * `--data friedman`: the issue's workload, 20 Friedman-style features (test/algorithms/fixtures.ts)
 * written with 6 significant digits (sensor-like), trained through lib/model trainPackage.
 */
export async function trainFriedmanForest(base: string, o: { rows: number; trees: number; maxDepth: number }): Promise<{ modelDir: string; data: number[][]; source: string; featureNames: string[]; target: string }> {
  const { trainPackage } = await import('../lib/model/index.ts');
  const { synthetic } = await import('../test/algorithms/fixtures.ts');
  const d = synthetic(o.rows, 7);
  const data = Array.from({ length: o.rows }, (_, r) => [...d.columns.map((c) => Number(c[r]!.toPrecision(6))), Number(d.y[r]!.toPrecision(6))]);
  const trainDir = join(base, 'input', 'data', 'train');
  await run('mkdir', ['-p', trainDir]);
  await writeFile(join(trainDir, 'train.csv'), `${[...d.names, 'y'].join(',')}\n${data.map((r) => r.join(',')).join('\n')}\n`);
  const { modelDir } = await trainPackage({ package: 'random-forest-regression', base, name: 'friedman', hyperparameters: { target: 'y', n_estimators: String(o.trees), max_depth: String(o.maxDepth), export_onnx: 'true' } });
  return { modelDir, data, source: `Friedman-style synthetic data (${d.names.length} features)`, featureNames: d.names, target: 'y' };
}
const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const PY = '/usr/bin/python3';

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}


async function waitReady(url: string, proc: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
    try {
      if ((await fetch(`${url}/ping`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready`);
}

function ms(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

/** Closed-loop load with wrk: as fast as the server answers. */
async function wrk(url: string, bodyFile: string, contentType: string, seconds: number, connections: number, dir: string): Promise<Load> {
  const script = join(dir, `wrk-${Math.random().toString(36).slice(2)}.lua`);
  await writeFile(
    script,
    `local f = io.open(${JSON.stringify(bodyFile)}, "rb")\nwrk.method = "POST"\nwrk.body = f:read("*a")\nf:close()\nwrk.headers["Content-Type"] = "${contentType}"\nwrk.headers["Accept"] = "application/json"\n`,
  );
  const { stdout } = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', script, `${url}/invocations`], { maxBuffer: 1 << 20 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN);
  const p50 = ms(/\s50%\s+(\S+)/.exec(stdout)?.[1] ?? '');
  const p99 = ms(/\s99%\s+(\S+)/.exec(stdout)?.[1] ?? '');
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0) + Number(/Socket errors:.*?timeout (\d+)/.exec(stdout)?.[1] ?? 0);
  return { rps, p50, p99, errors };
}

/** CPU seconds (user + system, all threads) a live process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/**
 * Open-loop load at a fixed rate with autocannon: latency at 1,000 req/s. Also reports the CPU the
 * load generator itself used (it shares the machine's cores with the server).
 */
async function fixedRate(url: string, body: string, contentType: string, rate: number, seconds: number): Promise<Load & { loaderCpu: number; p999: number; max: number }> {
  const { stdout, stderr } = await run(
    '/usr/bin/time',
    ['-f', 'cpu %U %S', process.execPath, join(root, 'node_modules/autocannon/autocannon.js'), '-c', '20', '-R', String(rate), '-d', String(seconds), '-m', 'POST', '-H', `content-type=${contentType}`, '-H', 'accept=application/json', '-b', body, '--json', `${url}/invocations`],
    { maxBuffer: 1 << 22 },
  );
  const r = JSON.parse(stdout) as { requests: { average: number }; latency: { p50: number; p99: number; p99_9: number; max: number }; non2xx: number; errors: number; timeouts: number };
  const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(stderr);
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    p999: r.latency.p99_9,
    max: r.latency.max,
    errors: r.non2xx + r.errors + r.timeouts,
    loaderCpu: cpu ? (Number(cpu[1]) + Number(cpu[2])) / seconds : NaN,
  };
}

/**
 * The floor for latency on this machine: a node:http server that reads the body and answers a
 * constant, no model, no worker threads, under the same fixed-rate load. What it shows at p99 is
 * the load generator plus the OS scheduler (other processes on the shared cores), not serving.
 */
async function floorLatency(seconds: number, body: string): Promise<Load & { loaderCpu: number; p999: number; max: number }> {
  const { port, proc: p } = await startNodeFloor();
  try {
    await fixedRate(`http://127.0.0.1:${port}`, body, 'text/csv', 1000, 2);
    return await fixedRate(`http://127.0.0.1:${port}`, body, 'text/csv', 1000, seconds);
  } finally {
    await stop(p);
  }
}

/** `--only fixed-rate`: just millwright at 1,000 req/s, repeated, with CPU shares; no reference. */
async function fixedRateOnly(dir: string, procs: ChildProcess[], o: { model?: string; trees: number; depth: number; workers: string; seconds: number; repeat: number; serveArgs: string[] }): Promise<void> {
  const { data } = await writeEnergyCsv(join(dir, 'rows.csv'), 200);
  const modelDir = o.model ?? (await trainEnergyForest(join(dir, 'ml'), { rows: 1_000_000, trees: o.trees, maxDepth: o.depth })).modelDir;
  const body = data[100]!.slice(0, RF_FEATURES.length).join(',') + '\n';
  const port = await freePort();
  const mw = spawn(process.execPath, [...SERVE_NODE_FLAGS, '--import', 'tsx', join(root, 'cli/main.ts'), 'serve', '--model', modelDir, '--port', String(port), '--workers', o.workers, '--host', '127.0.0.1', ...o.serveArgs], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  procs.push(mw);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, mw, 'millwright serve');
  await writeFile(join(dir, 'csv1.body'), body);
  await wrk(url, join(dir, 'csv1.body'), 'text/csv', 2, 32, dir);
  console.log(`latency at a fixed 1,000 req/s (autocannon, 20 connections, single-row CSV, ${o.seconds} s) x${o.repeat}${o.serveArgs.length ? `, serve ${o.serveArgs.join(' ')}` : ''}`);
  for (let i = 0; i < o.repeat; i++) {
    const c0 = await cpuSeconds(mw.pid!);
    const r = await fixedRate(url, body, 'text/csv', 1000, o.seconds);
    const server = ((await cpuSeconds(mw.pid!)) - c0) / o.seconds;
    console.log(
      `millwright: ${fmt(r.rps)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, p99.9 ${fmt(r.p999, 2)} ms, max ${fmt(r.max, 2)} ms, errors ${r.errors}; ` +
        `CPU: server ${fmt(server * 100, 0)}% of a core, autocannon ${fmt(r.loaderCpu * 100, 0)}%`,
    );
  }
  const f = await floorLatency(o.seconds, body);
  console.log(`floor (node:http answering a constant, no model): p50 ${fmt(f.p50, 2)} ms, p99 ${fmt(f.p99, 2)} ms, p99.9 ${fmt(f.p999, 2)} ms, max ${fmt(f.max, 2)} ms; autocannon ${fmt(f.loaderCpu * 100, 0)}% of a core`);
}

/** The 1-, 5- and 15-minute load averages, printed beside figures of a shared machine. */
async function uptime(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

/**
 * `--only single-row`: issue 15's target 3 alone, on the Friedman-style forest (or `--model`):
 * single-row CSV and JSON throughput of `millwright serve` against a bare node:http server and
 * nginx answering a constant under the same wrk load, then latency at a fixed 1,000 req/s
 * (bench/rate-client.c: open loop, microseconds, from each request's due time) for millwright,
 * node:http and nginx, and autocannon `-R 1000` once for continuity with the earlier figures.
 * Prints the load average beside each figure (the machine is shared).
 */
async function singleRowOnly(dir: string, procs: ChildProcess[], o: { model?: string; trees: number; depth: number; rows?: number; workers: string; seconds: number; conns: number; repeat: number; serveArgs: string[] }): Promise<void> {
  let modelDir = o.model;
  let rows: number[][];
  if (modelDir === undefined) {
    const t = await trainFriedmanForest(join(dir, 'ml'), { rows: o.rows ?? 20_000, trees: o.trees, maxDepth: o.depth });
    modelDir = t.modelDir;
    rows = t.data.map((r) => r.slice(0, t.featureNames.length));
  } else {
    const features = (JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8')) as { features: { name: string }[] }).features;
    rows = [Array.from({ length: features.length }, (_, i) => 0.25 + i / 100)];
  }
  const row = rows[Math.min(100, rows.length - 1)]!;
  await writeFile(join(dir, 'csv1.body'), row.join(',') + '\n');
  await writeFile(join(dir, 'json1.body'), JSON.stringify({ instances: [row] }));
  const port = await freePort();
  const mw = spawn(process.execPath, [...SERVE_NODE_FLAGS, '--import', 'tsx', join(root, 'cli/main.ts'), 'serve', '--model', modelDir, '--port', String(port), '--workers', o.workers, '--host', '127.0.0.1', ...o.serveArgs], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  procs.push(mw);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, mw, 'millwright serve');
  await wrk(url, join(dir, 'csv1.body'), 'text/csv', 2, o.conns, dir);
  console.log(`single-row throughput (wrk, ${o.conns} connections, ${o.seconds} s; millwright --workers ${o.workers}${o.serveArgs.length ? ` ${o.serveArgs.join(' ')}` : ''}; node:http one process; nginx 2 workers)`);
  for (let i = 0; i < o.repeat; i++) {
    const csv = await wrk(url, join(dir, 'csv1.body'), 'text/csv', o.seconds, o.conns, dir);
    const csvLoad = await uptime();
    const json = await wrk(url, join(dir, 'json1.body'), 'application/json', o.seconds, o.conns, dir);
    const jsonLoad = await uptime();
    const floors = await httpFloors(dir, join(dir, 'csv1.body'), o.seconds, o.conns);
    const floorLoad = await uptime();
    console.log(`millwright single-row CSV  ${fmt(csv.rps).padStart(9)} req/s  p50 ${fmt(csv.p50, 2)} ms  p99 ${fmt(csv.p99, 2)} ms  errors ${csv.errors}  (load ${csvLoad})`);
    console.log(`millwright single-row JSON ${fmt(json.rps).padStart(9)} req/s  p50 ${fmt(json.p50, 2)} ms  p99 ${fmt(json.p99, 2)} ms  errors ${json.errors}  (load ${jsonLoad})`);
    console.log(
      `ratios: CSV ${fmt((100 * csv.rps) / floors.node.rps, 1)}% and JSON ${fmt((100 * json.rps) / floors.node.rps, 1)}% of bare node:http (target >= 50%)` +
        `${floors.nginx ? `; CSV ${fmt((100 * csv.rps) / floors.nginx.rps, 1)}% of nginx` : ''} (floors measured at load ${floorLoad})`,
    );
  }
  const sandwich = await floorSandwich({ mwUrl: url, dir, seconds: o.seconds, conns: o.conns, pairs: Math.max(3, o.repeat) });
  await fixedRateOpenLoop(dir, { mwPort: port, mwPid: mw.pid!, bodyFile: join(dir, 'csv1.body'), seconds: o.seconds, repeat: o.repeat });
  // autocannon as before, for continuity with the earlier figures (see bench/rate-client.c for why it is not the measure)
  const c0 = await cpuSeconds(mw.pid!);
  const r = await fixedRate(url, row.join(',') + '\n', 'text/csv', 1000, o.seconds);
  const server = ((await cpuSeconds(mw.pid!)) - c0) / o.seconds;
  console.log(`autocannon -R 1000 (20 connections; per-second bursts, 1 ms resolution): millwright p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms, errors ${r.errors}; CPU: server ${fmt(server * 100, 0)}% of a core (load ${await uptime()})`);
  console.log(`\n  ${verdict(sandwich.csv >= 50 && sandwich.json >= 50)} single-row >= 50% of bare node:http (issue 15 target 3; median of the alternating windows): CSV ${fmt(sandwich.csv, 1)}%, JSON ${fmt(sandwich.json, 1)}%`);
}

/**
 * Latency at a fixed 1,000 req/s with the open-loop client (bench/rate-client.c: request i due at
 * t0 + i ms, latency from its due time, microseconds), 20 keep-alive connections, single-row CSV:
 * millwright, then the bare node:http and nginx floors measured the same way, `repeat` rounds
 * alternating. Prints the client's own send lag (its error) and CPU beside each figure.
 */
async function fixedRateOpenLoop(dir: string, o: { mwPort: number; mwPid: number; bodyFile: string; seconds: number; repeat: number }): Promise<void> {
  const { bin, reason } = await buildRateClient(dir);
  if (!bin) return void console.log(`\nfixed-rate latency: skipped (${reason})`);
  const conns = 20;
  const go = (port: number, seconds: number) => openLoop(bin, { host: '127.0.0.1', port, path: '/invocations', rate: 1000, seconds, connections: conns, bodyFile: o.bodyFile, contentType: 'text/csv' });
  const line = (what: string, r: OpenLoopResult, extra: string, load: string) =>
    `${what.padEnd(16)} p50 ${fmt(r.p50 / 1000, 3)} ms  p90 ${fmt(r.p90 / 1000, 3)}  p99 ${fmt(r.p99 / 1000, 3)}  p99.9 ${fmt(r.p999 / 1000, 3)}  max ${fmt(r.max / 1000, 2)} ms  ok ${r.ok}/${r.sent}  ` +
    `client lag p99 ${fmt(r.lagP99 / 1000, 3)} ms, CPU ${fmt(r.clientCpu * 100, 0)}%${extra}  (load ${load})`;
  console.log(`\nlatency at a fixed 1,000 req/s (open-loop client bench/rate-client.c, ${conns} connections, single-row CSV, ${o.seconds} s; latency from each request's due time)`);
  await go(o.mwPort, 2);
  const nf = await startNodeFloor();
  const ng = await startNginx(dir);
  try {
    await go(nf.port, 2);
    if (ng) await go(ng.port, 2);
    for (let i = 0; i < o.repeat; i++) {
      const c0 = await cpuSeconds(o.mwPid);
      const m = await go(o.mwPort, o.seconds);
      const server = ((await cpuSeconds(o.mwPid)) - c0) / m.seconds;
      console.log(line('millwright', m, `; server CPU ${fmt(server * 100, 0)}% of a core (${fmt(server * 1000, 0)} µs/req)`, await uptime()));
      const n0 = await cpuSeconds(nf.proc.pid!);
      const n = await go(nf.port, o.seconds);
      const nodeCpu = ((await cpuSeconds(nf.proc.pid!)) - n0) / n.seconds;
      console.log(line('bare node:http', n, `; server CPU ${fmt(nodeCpu * 100, 0)}% (${fmt(nodeCpu * 1000, 0)} µs/req)`, await uptime()));
      if (ng) console.log(line('nginx', await go(ng.port, o.seconds), '', await uptime()));
    }
  } finally {
    await stop(nf.proc);
    if (ng) await stop(ng.proc);
  }
}

/** 1,000-row CSV batches against FastAPI and aiohttp too; returns [reference, ratio, target] for the verdicts. */
async function batchesVsEveryReference(o: { mwUrl: string; flask: { mw: Load; ref: Load }; others: { name: string; url: string }[]; dir: string; seconds: number; conns: number; workers: string }): Promise<[string, number, number][]> {
  console.log(`\n1,000-row CSV batches against every reference (wrk, ${o.conns} connections, ${o.seconds} s, ${o.workers} workers each)`);
  const mw = o.flask.mw;
  console.log(`millwright          ${fmt(mw.rps).padStart(9)} req/s  p50 ${fmt(mw.p50, 2)} ms  p99 ${fmt(mw.p99, 2)} ms`);
  console.log(`Flask + gunicorn    ${fmt(o.flask.ref.rps).padStart(9)} req/s  ratio ${fmt(mw.rps / o.flask.ref.rps, 2)}x`);
  const out: [string, number, number][] = [['Flask + gunicorn', mw.rps / o.flask.ref.rps, 5]];
  for (const r of o.others) {
    const l = await wrk(r.url, join(o.dir, 'csv1k.body'), 'text/csv', o.seconds, o.conns, o.dir);
    console.log(`${r.name.padEnd(19)} ${fmt(l.rps).padStart(9)} req/s  ratio ${fmt(mw.rps / l.rps, 2)}x${l.errors ? ` (${l.errors} errors)` : ''}`);
    out.push([r.name, mw.rps / l.rps, 3]);
  }
  return out;
}

/**
 * Issue 15's target 3 with the drift of a shared machine taken out: the bare node:http floor and
 * millwright measured in alternating windows, floor / CSV / JSON / floor / CSV / JSON / ... / floor
 * (`pairs` millwright windows of each body, every one between two floor windows, all `seconds`
 * long, the same wrk load), each millwright window against the mean of the floor windows either
 * side of it. Prints every window and returns the median ratio of each body (percent).
 */
async function floorSandwich(o: { mwUrl: string; dir: string; seconds: number; conns: number; pairs: number }): Promise<{ csv: number; json: number }> {
  console.log(`
single-row vs bare node:http in alternating windows (wrk, ${o.conns} connections, ${o.seconds} s each; each millwright window against the mean of the floor windows before and after it)`);
  const nf = await startNodeFloor();
  const floorUrl = `http://127.0.0.1:${nf.port}`;
  const csvBody = join(o.dir, 'csv1.body');
  const csv: number[] = [];
  const json: number[] = [];
  try {
    let before = (await wrk(floorUrl, csvBody, 'text/csv', o.seconds, o.conns, o.dir)).rps;
    for (let i = 0; i < o.pairs; i++) {
      const c = await wrk(o.mwUrl, csvBody, 'text/csv', o.seconds, o.conns, o.dir);
      const j = await wrk(o.mwUrl, join(o.dir, 'json1.body'), 'application/json', o.seconds, o.conns, o.dir);
      const after = (await wrk(floorUrl, csvBody, 'text/csv', o.seconds, o.conns, o.dir)).rps;
      const floor = (before + after) / 2;
      csv.push((100 * c.rps) / floor);
      json.push((100 * j.rps) / floor);
      console.log(`  floor ${fmt(before)} req/s | CSV ${fmt(c.rps)} | JSON ${fmt(j.rps)} | floor ${fmt(after)} req/s: CSV ${fmt(csv.at(-1)!, 1)}%, JSON ${fmt(json.at(-1)!, 1)}%${c.errors + j.errors ? ` (${c.errors + j.errors} errors)` : ''}`);
      before = after;
    }
  } finally {
    await stop(nf.proc);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const out = { csv: med(csv), json: med(json) };
  console.log(`  median of ${o.pairs}: CSV ${fmt(out.csv, 1)}% and JSON ${fmt(out.json, 1)}% of bare node:http (target >= 50%; load ${await uptime()})`);
  return out;
}

/** A bare node:http server that reads the body and answers a constant (one process, one thread: Node's floor). */
async function startNodeFloor(): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const code = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.setHeader('content-type', 'application/json'); s.end('{"predictions":[1]}'); }); }).listen(${port}, '127.0.0.1', () => console.log('up'));`;
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((ok, fail) => {
      proc.stdout!.once('data', () => ok());
      proc.once('exit', (c) => fail(new Error(`floor server exited with ${c}`)));
    });
  } catch (err) {
    await stop(proc);
    throw err;
  }
  return { port, proc };
}

/** nginx answering a constant (2 worker processes: the machine's floor); undefined when it does not start. */
async function startNginx(dir: string): Promise<{ port: number; proc: ChildProcess } | undefined> {
  const port = await freePort();
  const prefix = join(dir, `nginx-${port}`);
  await run('mkdir', ['-p', join(prefix, 'logs')]);
  const conf = join(prefix, 'nginx.conf');
  await writeFile(conf, `worker_processes 2;\npid ${join(prefix, 'nginx.pid')};\nerror_log ${join(prefix, 'logs', 'error.log')} warn;\nevents { worker_connections 1024; }\nhttp {\n  access_log off;\n  keepalive_requests 1000000;\n  client_body_temp_path ${prefix};\n  server {\n    listen 127.0.0.1:${port};\n    location / { default_type application/json; return 200 '{"predictions":[1]}'; }\n  }\n}\n`);
  const proc = spawn('nginx', ['-p', prefix, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 50; i++) {
    if (proc.exitCode !== null) break;
    try {
      await fetch(`http://127.0.0.1:${port}/`);
      return { port, proc };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await stop(proc);
  return undefined;
}

/**
 * The HTTP floors under the same closed-loop load as the single-row runs: a bare node:http server
 * answering a constant (one process, one thread: Node's floor) and nginx answering a constant
 * (2 worker processes: the machine's).
 */
async function httpFloors(dir: string, bodyFile: string, seconds: number, conns: number): Promise<{ node: Load; nginx?: Load }> {
  console.log(`\nHTTP floors: a constant answer to the single-row CSV POST (wrk, ${conns} connections, ${seconds} s)`);
  const nf = await startNodeFloor();
  let node: Load;
  try {
    node = await wrk(`http://127.0.0.1:${nf.port}`, bodyFile, 'text/csv', seconds, conns, dir);
  } finally {
    await stop(nf.proc);
  }
  console.log(`bare node:http      ${fmt(node.rps).padStart(9)} req/s  p50 ${fmt(node.p50, 2)} ms  p99 ${fmt(node.p99, 2)} ms`);
  let nginx: Load | undefined;
  const ng = await startNginx(dir);
  if (ng) {
    try {
      nginx = await wrk(`http://127.0.0.1:${ng.port}`, bodyFile, 'text/csv', seconds, conns, dir);
    } finally {
      await stop(ng.proc);
    }
  }
  console.log(nginx ? `nginx (2 workers)   ${fmt(nginx.rps).padStart(9)} req/s  p50 ${fmt(nginx.p50, 2)} ms  p99 ${fmt(nginx.p99, 2)} ms` : 'nginx: could not be started (skipped)');
  return { node, nginx };
}

/**
 * Sequential latency of one big CSV batch, client side: one keep-alive connection (node:http),
 * the body a prepared Buffer, the clock stopped at the answer's last byte and the answer checked
 * after. The earlier client (fetch with a string body, `JSON.parse` inside the timed section)
 * re-encoded the 1.6 MB body and parsed the answer on every request in this process, which shares
 * the 2 cores with the server and its references (docs/benchmarks.md, 2026-12-02/03 night 2).
 */
async function batchLatency(url: string, body: string, n: number): Promise<{ p50: number; max: number; ok: boolean }> {
  const { Agent, request } = await import('node:http');
  const target = new URL(`${url}/invocations`);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const bytes = Buffer.from(body);
  const post = () =>
    new Promise<{ status: number; text: Buffer }>((ok, fail) => {
      const req = request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'text/csv', accept: 'application/json', 'content-length': bytes.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks) }));
        res.on('error', fail);
      });
      req.on('error', fail);
      req.end(bytes);
    });
  const times: number[] = [];
  let ok = true;
  try {
    for (let i = 0; i < n + 3; i++) {
      const t = performance.now();
      const r = await post();
      if (i >= 3) times.push(performance.now() - t);
      if (r.status !== 200 || (JSON.parse(r.text.toString()) as { predictions: number[] }).predictions.length !== 10_000) ok = false;
    }
  } finally {
    agent.destroy();
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, max: times.at(-1)!, ok };
}

async function rssMiB(pids: number[]): Promise<number> {
  let kb = 0;
  for (const pid of pids) {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      kb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kb / 1024;
}

async function childPids(pid: number): Promise<number[]> {
  try {
    const { stdout } = await run('pgrep', ['-P', String(pid)]);
    return stdout.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function stop(p: ChildProcess): Promise<void> {
  return new Promise((ok) => {
    if (p.exitCode !== null || p.signalCode !== null) return ok();
    p.once('exit', () => ok());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 35_000).unref();
  });
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

export default async function benchServe(argv: string[] = []): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '10s' },
      soak: { type: 'string', default: '30s' },
      full: { type: 'boolean', default: false },
      trees: { type: 'string', default: '100' },
      depth: { type: 'string', default: '10' },
      rows: { type: 'string' },
      connections: { type: 'string', default: '32' },
      workers: { type: 'string', default: '2' },
      only: { type: 'string' },
      repeat: { type: 'string', default: '1' },
      model: { type: 'string' },
      'serve-args': { type: 'string', default: '' },
      data: { type: 'string', default: 'steel' },
    },
  });
  const seconds = Math.max(1, Math.round(parseDuration(values.duration!, { ...SERVE_DURATION, what: '--duration' }) / 1000));
  const soakSeconds = values.full ? 300 : Math.max(5, Math.round(parseDuration(values.soak!, { ...SERVE_DURATION, what: '--soak' }) / 1000));
  const conns = Number(values.connections);
  const workers = values.workers!;
  const dir = await mkdtemp(join(tmpdir(), 'mw-bench-serve-'));
  const procs: ChildProcess[] = [];
  try {
    const batchOnly = values.only === 'batch';
    if (values.only !== undefined && !batchOnly) {
      if (values.only !== 'fixed-rate' && values.only !== 'single-row') throw new Error(`--only: expected "fixed-rate", "single-row" or "batch", got ${JSON.stringify(values.only)}`);
      const serveArgs = values['serve-args']!.split(/\s+/).filter(Boolean);
      if (values.only === 'single-row') {
        return await singleRowOnly(dir, procs, { model: values.model, trees: Number(values.trees), depth: Number(values.depth), rows: values.rows ? Number(values.rows) : undefined, workers, seconds, conns, repeat: Number(values.repeat), serveArgs });
      }
      return await fixedRateOnly(dir, procs, { model: values.model, trees: Number(values.trees), depth: Number(values.depth), workers, seconds, repeat: Number(values.repeat), serveArgs });
    }
    // --- the same model twice: millwright (lib/model trainPackage) and scikit-learn, same CSV ---
    const t0 = performance.now();
    if (values.data !== 'steel' && values.data !== 'friedman') throw new Error(`--data: expected steel or friedman, got ${JSON.stringify(values.data)}`);
    const trainOpts = { rows: values.rows ? Number(values.rows) : values.data === 'friedman' ? 20_000 : 1_000_000, trees: Number(values.trees), maxDepth: Number(values.depth) };
    const { modelDir, data, source, featureNames, target } = values.data === 'friedman' ? await trainFriedmanForest(join(dir, 'ml'), trainOpts) : { ...(await trainEnergyForest(join(dir, 'ml'), trainOpts)), featureNames: [...RF_FEATURES], target: RF_TARGET };
    const trainCsv = join(dir, 'ml', 'input', 'data', 'train', 'train.csv');
    const tJs = performance.now() - t0;
    const t1 = performance.now();
    await run(PY, [join(root, 'bench/serve_reference.py'), 'train', trainCsv, target, join(dir, 'ref.pkl'), values.trees!, values.depth!, '5']);
    const tPy = performance.now() - t1;
    const nF = featureNames.length;
    const features = data.map((r) => r.slice(0, nF));
    console.log(`model: random forest regression, ${values.trees} trees, max depth ${values.depth}, min leaf 5, ${data.length} rows of ${source} (${nF} features -> ${target})`);
    console.log(`training: millwright ${fmt(tJs / 1000, 2)} s, scikit-learn ${fmt(tPy / 1000, 2)} s (reference only; not a target)`);

    const rowsCsv = (n: number, offset = 0) => Array.from({ length: n }, (_, i) => features[(offset + i) % features.length]!.join(',')).join('\n') + '\n';
    const bodies = {
      json1: JSON.stringify({ instances: [features[100]] }),
      csv1: rowsCsv(1, 100),
      csv1k: rowsCsv(1000, 7),
      csv10k: rowsCsv(10_000, 13),
    };
    for (const [k, v] of Object.entries(bodies)) await writeFile(join(dir, `${k}.body`), v);

    // --- servers ---
    const mwPort = await freePort();
    const mw = spawn(process.execPath, [...SERVE_NODE_FLAGS, '--import', 'tsx', join(root, 'cli/main.ts'), 'serve', '--model', modelDir, '--port', String(mwPort), '--workers', workers, '--host', '127.0.0.1'], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    procs.push(mw);
    const refPort = await freePort();
    const ref = spawn('gunicorn', ['-w', workers, '-b', `127.0.0.1:${refPort}`, '--chdir', join(root, 'bench'), '--log-level', 'warning', 'serve_reference:app'], {
      env: { ...process.env, REF_MODEL: join(dir, 'ref.pkl') },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    procs.push(ref);
    const mwUrl = `http://127.0.0.1:${mwPort}`;
    const refUrl = `http://127.0.0.1:${refPort}`;
    // Issue 15's other Python references: the same model and predict code behind FastAPI under
    // uvicorn and aiohttp under gunicorn, same worker count (bench/serve_reference.py).
    const refEnv = (framework: string) => ({ ...process.env, REF_MODEL: join(dir, 'ref.pkl'), REF_FRAMEWORK: framework });
    const fastPort = await freePort();
    const fast = spawn('uvicorn', ['--workers', workers, '--host', '127.0.0.1', '--port', String(fastPort), '--app-dir', join(root, 'bench'), '--log-level', 'warning', 'serve_reference:fastapi_app'], { env: refEnv('fastapi'), stdio: ['ignore', 'ignore', 'inherit'] });
    procs.push(fast);
    const aioPort = await freePort();
    const aio = spawn('gunicorn', ['-w', workers, '-k', 'aiohttp.GunicornWebWorker', '-b', `127.0.0.1:${aioPort}`, '--chdir', join(root, 'bench'), '--log-level', 'warning', 'serve_reference:aiohttp_app'], { env: refEnv('aiohttp'), stdio: ['ignore', 'ignore', 'inherit'] });
    procs.push(aio);
    const otherRefs = [
      { name: 'FastAPI + uvicorn', url: `http://127.0.0.1:${fastPort}` },
      { name: 'aiohttp + gunicorn', url: `http://127.0.0.1:${aioPort}` },
    ];
    await Promise.all([waitReady(mwUrl, mw, 'millwright serve'), waitReady(refUrl, ref, 'gunicorn reference'), waitReady(otherRefs[0]!.url, fast, 'uvicorn reference'), waitReady(otherRefs[1]!.url, aio, 'aiohttp reference')]);

    // Same answers from both (different RNGs, so close but not identical): sanity, not a target.
    const a = (await (await fetch(`${mwUrl}/invocations`, { method: 'POST', body: bodies.csv1k, headers: { 'content-type': 'text/csv', accept: 'application/json' } })).json()) as { predictions: number[] };
    const b = (await (await fetch(`${refUrl}/invocations`, { method: 'POST', body: bodies.csv1k, headers: { 'content-type': 'text/csv' } })).json()) as { predictions: number[] };
    const actual = data.slice(7, 1007).map((r) => r[nF]!);
    const rmse = (p: number[]) => Math.sqrt(p.reduce((s, y, i) => s + (y - actual[i]!) ** 2, 0) / p.length);
    console.log(`sanity (1,000 training rows): RMSE millwright ${fmt(rmse(a.predictions), 3)}, scikit-learn ${fmt(rmse(b.predictions), 3)} (${target})`);

    // Warm both (JIT, caches) before measuring.
    await wrk(mwUrl, join(dir, 'csv1.body'), 'text/csv', 2, conns, dir);
    await wrk(refUrl, join(dir, 'csv1.body'), 'text/csv', 2, conns, dir);

    console.log(`\nthroughput (wrk, ${conns} connections, ${seconds} s each, ${workers} workers per server)`);
    console.log('scenario            server       req/s     p50 ms   p99 ms  errors');
    const results: Record<string, { mw: Load; ref: Load }> = {};
    const scenarios = [
      ['single-row JSON', 'json1', 'application/json'],
      ['single-row CSV', 'csv1', 'text/csv'],
      ['1,000-row CSV', 'csv1k', 'text/csv'],
    ] as const;
    for (const [name, file, type] of scenarios.filter(([name]) => !batchOnly || name === '1,000-row CSV')) {
      const m = await wrk(mwUrl, join(dir, `${file}.body`), type, seconds, conns, dir);
      const r = await wrk(refUrl, join(dir, `${file}.body`), type, seconds, conns, dir);
      results[name] = { mw: m, ref: r };
      console.log(`${name.padEnd(19)} millwright ${fmt(m.rps).padStart(9)} ${fmt(m.p50, 2).padStart(9)} ${fmt(m.p99, 2).padStart(8)} ${String(m.errors).padStart(7)}`);
      console.log(`${''.padEnd(19)} reference  ${fmt(r.rps).padStart(9)} ${fmt(r.p50, 2).padStart(9)} ${fmt(r.p99, 2).padStart(8)} ${String(r.errors).padStart(7)}`);
      console.log(`${''.padEnd(19)} ratio      ${fmt(m.rps / r.rps, 2).padStart(8)}x`);
    }

    // 10,000-row CSV batches, sequential: millwright and every reference
    const tenThousand = async (): Promise<Awaited<ReturnType<typeof batchLatency>>> => {
      console.log('\n10,000-row CSV batch, sequential (client-side time incl. transfer; node:http, one keep-alive connection), 10 requests after 3 warm-ups');
      const bMw = await batchLatency(mwUrl, bodies.csv10k, 10);
      const bRef = await batchLatency(refUrl, bodies.csv10k, 10);
      console.log(`millwright: p50 ${fmt(bMw.p50)} ms, max ${fmt(bMw.max)} ms${bMw.ok ? '' : ' (ERRORS)'}`);
      // Where the time goes: the model's own predict on the same 10,000 rows, in this process, one thread.
      {
        const { loadModel } = await import('../lib/model/index.ts');
        const aq = await import('arquero');
        const model = await loadModel(modelDir);
        const rows10k = Array.from({ length: 10_000 }, (_, i) => features[(13 + i) % features.length]!);
        const table = aq.table(Object.fromEntries(featureNames.map((f, j) => [f, Float64Array.from(rows10k, (r) => r[j]!)])));
        const times: number[] = [];
        for (let i = 0; i < 6; i++) {
          const t = performance.now();
          await model.predict(table);
          if (i > 0) times.push(performance.now() - t);
        }
        times.sort((x, y) => x - y);
        console.log(`            (of which lib/model predict alone, 10,000 rows on one thread, in-process: p50 ${fmt(times[2]!)} ms; the server splits the batch over ${workers} workers)`);
        if (model.predictMatrix !== undefined) {
          // the path a numeric CSV body takes in the server: a Float64Array matrix, no table
          const X = Float64Array.from(rows10k.flat());
          const m: number[] = [];
          for (let i = 0; i < 6; i++) {
            const t = performance.now();
            await model.predictMatrix(X, 10_000);
            if (i > 0) m.push(performance.now() - t);
          }
          m.sort((x, y) => x - y);
          console.log(`            (predictMatrix, the numeric CSV path, same 10,000 rows, one thread, in-process: p50 ${fmt(m[2]!)} ms)`);
        }
      }
      console.log(`reference:  p50 ${fmt(bRef.p50)} ms, max ${fmt(bRef.max)} ms${bRef.ok ? '' : ' (ERRORS)'}  ratio ${fmt(bRef.p50 / bMw.p50, 2)}x`);
      for (const o of otherRefs) {
        const b10 = await batchLatency(o.url, bodies.csv10k, 10);
        console.log(`${o.name}: p50 ${fmt(b10.p50)} ms, max ${fmt(b10.max)} ms${b10.ok ? '' : ' (ERRORS)'}  ratio ${fmt(b10.p50 / bMw.p50, 2)}x`);
      }
      return bMw;
    };
    const batch = await batchesVsEveryReference({ mwUrl, flask: results['1,000-row CSV']!, others: otherRefs, dir, seconds, conns, workers });
    if (batchOnly) {
      await tenThousand();
      console.log(`load average after: ${await uptime()}`);
      return;
    }
    const floors = await httpFloors(dir, join(dir, 'csv1.body'), seconds, conns);
    const singleMw = results['single-row CSV']!.mw.rps;
    console.log(`single-row CSV: millwright ${fmt(singleMw)} req/s = ${fmt((100 * singleMw) / floors.node.rps, 1)}% of bare node:http${floors.nginx ? `, ${fmt((100 * singleMw) / floors.nginx.rps, 1)}% of nginx` : ''} (windows minutes apart; the verdict uses the alternating windows below)`);
    const sandwich = await floorSandwich({ mwUrl, dir, seconds: Math.min(seconds, 5), conns, pairs: 3 });
    // Open Inference Protocol section (bench/serve-v2.ts): same server, model and rows.
    await benchV2({ url: mwUrl, modelName: (JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8')) as { name: string }).name, rows: features, seconds: Math.min(seconds, 5), connections: conns, dir });
    // Tensor and image section (bench/serve-tensor.ts): its own server, onnxruntime in-process as the reference.
    await benchTensor({ dir: join(dir, 'tensor'), workers });

    console.log(`\nlatency at a fixed 1,000 req/s (autocannon, single-row CSV, ${seconds} s)`);
    const rateMw = await fixedRate(mwUrl, bodies.csv1, 'text/csv', 1000, seconds);
    const rateRef = await fixedRate(refUrl, bodies.csv1, 'text/csv', 1000, seconds);
    console.log(`millwright: ${fmt(rateMw.rps)} req/s achieved, p50 ${fmt(rateMw.p50, 2)} ms, p99 ${fmt(rateMw.p99, 2)} ms, errors ${rateMw.errors} (autocannon itself used ${fmt(rateMw.loaderCpu * 100, 0)}% of a core)`);
    console.log(`reference:  ${fmt(rateRef.rps)} req/s achieved, p50 ${fmt(rateRef.p50, 2)} ms, p99 ${fmt(rateRef.p99, 2)} ms, errors ${rateRef.errors}`);
    const floor = await floorLatency(seconds, bodies.csv1);
    console.log(`floor:      node:http answering a constant (no model, no workers): p50 ${fmt(floor.p50, 2)} ms, p99 ${fmt(floor.p99, 2)} ms — the load generator and the machine's scheduler`);

    const bMw = await tenThousand();

    console.log(`\nmemory soak: single-row CSV under wrk load for ${soakSeconds} s (RSS of the whole server process, all worker threads)`);
    const samples: number[] = [];
    const refPids = [ref.pid!, ...(await childPids(ref.pid!))];
    const refBefore = await rssMiB(refPids);
    const heap = async () => {
      const text = await (await fetch(`${mwUrl}/metrics`)).text();
      return Number(/^millwright_nodejs_heap_size_used_bytes (\S+)/m.exec(text)?.[1] ?? NaN) / 2 ** 20;
    };
    const heaps: number[] = [];
    const sampler = setInterval(() => {
      void rssMiB([mw.pid!]).then((v) => samples.push(v));
      void heap().then((v) => heaps.push(v), () => undefined);
    }, 1000);
    const soak = await wrk(mwUrl, join(dir, 'csv1.body'), 'text/csv', soakSeconds, conns, dir);
    clearInterval(sampler);
    const warm = samples[Math.min(samples.length - 1, Math.max(1, Math.floor(samples.length * 0.2)))]!;
    const end = samples.at(-1)!;
    const peak = Math.max(...samples);
    const growth = (end - warm) / warm;
    console.log(`millwright: ${fmt(soak.rps)} req/s, ${soak.errors} errors; RSS after warm-up ${fmt(warm)} MiB, end ${fmt(end)} MiB, peak ${fmt(peak)} MiB, growth ${fmt(growth * 100)}%`);
    const hw = heaps[Math.min(heaps.length - 1, Math.max(1, Math.floor(heaps.length * 0.2)))]!;
    console.log(`            HTTP-thread V8 heap used: after warm-up ${fmt(hw)} MiB, end ${fmt(heaps.at(-1)!)} MiB, max ${fmt(Math.max(...heaps))} MiB`);
    console.log(`reference (idle, master + ${refPids.length - 1} workers): ${fmt(refBefore)} MiB`);

    const single = results['single-row CSV']!;
    const singleJson = results['single-row JSON']!;
    console.log('\ntargets');
    console.log(`  ${verdict(single.mw.rps >= 3 * single.ref.rps)} single-row CSV throughput >= 3x reference: ${fmt(single.mw.rps / single.ref.rps, 2)}x`);
    console.log(`  ${verdict(singleJson.mw.rps >= 3 * singleJson.ref.rps)} single-row JSON throughput >= 3x reference: ${fmt(singleJson.mw.rps / singleJson.ref.rps, 2)}x`);
    console.log(`  ${verdict(rateMw.p99 < 10 && rateMw.errors === 0)} p99 < 10 ms at 1,000 req/s: ${fmt(rateMw.p99, 2)} ms (floor on this machine now: ${fmt(floor.p99, 2)} ms)`);
    console.log(`  ${verdict(bMw.p50 < 150 && bMw.ok)} 10,000-row CSV batch < 150 ms: p50 ${fmt(bMw.p50)} ms`);
    console.log(`  ${verdict(bMw.p50 < 20 && bMw.ok)} 10,000-row CSV batch < 20 ms end to end (issue 15): p50 ${fmt(bMw.p50)} ms`);
    for (const [name, ratio, target] of batch) console.log(`  ${verdict(ratio >= target)} 1,000-row CSV >= ${target}x ${name} (issue 15): ${fmt(ratio, 2)}x`);
    console.log(`  ${verdict(sandwich.csv >= 50 && sandwich.json >= 50)} single-row >= 50% of bare node:http (issue 15; median of alternating windows): CSV ${fmt(sandwich.csv, 1)}%, JSON ${fmt(sandwich.json, 1)}%`);
    console.log(`  ${verdict(growth < 0.1 && soak.errors === 0)} memory growth < 10% over the soak: ${fmt(growth * 100)}% (${soakSeconds} s${values.full ? '' : '; --full for 5 min'})`);
  } finally {
    await Promise.all(procs.map(stop));
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await benchServe(process.argv.slice(2));
}
