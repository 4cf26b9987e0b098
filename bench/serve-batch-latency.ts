/**
 * `node --import tsx bench/serve-batch-latency.ts [--model DIR] [--roots .,/work/main] [--rounds 3]`
 *
 * Issue 15 target 2's latency half, measured with a lean sequential client: one keep-alive
 * connection (node:http, the body a prepared Buffer, the answer read as bytes and checked after the
 * clock stops), so the client's own CPU on the shared 2 cores is small next to the server's. For
 * each round and each repository root (default: this one), starts that root's `millwright serve
 * --workers 2` on the Friedman-style forest (100 trees, depth 10, 20 features with 6 significant
 * digits, as `npm run bench:serve -- --data friedman`), sends 10,000-row and 1,000-row CSV batches
 * one after another and prints the client p50/p90 and the server's CPU per request (all its
 * threads, /proc/<pid>/stat), with the load average. Several roots alternate within each round, so
 * a branch and main are compared in the same run. `--cpu-prof DIR` starts the servers under
 * `node --cpu-prof` (profiles of every thread written to DIR at exit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { freePort } from '../test/helpers/tcp-proxy.ts';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SERVE_NODE_FLAGS } from '../serve/node-flags.ts';
import { synthetic } from '../test/algorithms/fixtures.ts';
import { cpuSeconds, trainFriedmanForest } from './serve.ts';

const loadavg = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');



/** One POST on the keep-alive agent; resolves with status and the answer's bytes. */
function post(agent: Agent, port: number, body: Buffer, accept: string): Promise<{ status: number; bytes: Buffer }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path: '/invocations', method: 'POST', agent, headers: { 'content-type': 'text/csv', accept, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, bytes: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

function stop(p: ChildProcess): Promise<void> {
  return new Promise((ok) => {
    if (p.exitCode !== null || p.signalCode !== null) return ok();
    p.once('exit', () => ok());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 35_000).unref();
  });
}

const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const fmt = (x: number, d = 1) => x.toFixed(d);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      roots: { type: 'string', default: '.' },
      rounds: { type: 'string', default: '1' },
      n10k: { type: 'string', default: '40' },
      n1k: { type: 'string', default: '200' },
      accept: { type: 'string', default: 'application/json' },
      workers: { type: 'string', default: '2' },
      'cpu-prof': { type: 'string' },
    },
  });
  const dir = await mkdtemp(join(tmpdir(), 'mw-batch-latency-'));
  const procs: ChildProcess[] = [];
  try {
    let modelDir = values.model;
    if (modelDir === undefined || !existsSync(join(modelDir, 'model.json'))) {
      const base = modelDir ?? join(dir, 'ml');
      modelDir = (await trainFriedmanForest(base, { rows: 20_000, trees: 100, maxDepth: 10 })).modelDir;
      console.log(`trained the Friedman-style forest into ${modelDir}`);
    }
    // the same rows as bench/serve.ts --data friedman (its training data, 6 significant digits)
    const d = synthetic(20_000, 7);
    const rows = Array.from({ length: 20_000 }, (_, r) => d.columns.map((c) => Number(c[r]!.toPrecision(6))));
    const csv = (n: number, offset: number) => Buffer.from(Array.from({ length: n }, (_, i) => rows[(offset + i) % rows.length]!.join(',')).join('\n') + '\n');
    const body10k = csv(10_000, 13);
    const body1k = csv(1_000, 7);
    const roots = values.roots!.split(',').map((r) => resolve(r));
    const N10 = Number(values.n10k);
    const N1 = Number(values.n1k);
    console.log(`sequential client, one keep-alive connection; 10,000-row body ${body10k.length} bytes x ${N10}, 1,000-row ${body1k.length} bytes x ${N1}; accept ${values.accept}; --workers ${values.workers}`);
    for (let round = 1; round <= Number(values.rounds); round++) {
      for (const root of roots) {
        const port = await freePort();
        const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', join(values['cpu-prof'], `${round}-${root.replace(/\W+/g, '_')}`)] : [];
        if (prof.length) await mkdir(prof[2]!, { recursive: true });
        const mw = spawn(process.execPath, [...SERVE_NODE_FLAGS, ...prof, '--import', 'tsx', join(root, 'cli/main.ts'), 'serve', '--model', modelDir, '--port', String(port), '--workers', values.workers!, '--host', '127.0.0.1'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
        procs.push(mw);
        for (let i = 0; ; i++) {
          if (mw.exitCode !== null) throw new Error(`serve from ${root} exited with ${mw.exitCode}`);
          try {
            if ((await fetch(`http://127.0.0.1:${port}/ping`)).status === 200) break;
          } catch {
            // not yet listening
          }
          if (i > 600) throw new Error('serve did not become ready');
          await new Promise((r) => setTimeout(r, 100));
        }
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        const measure = async (body: Buffer, n: number, rowsIn: number) => {
          for (let i = 0; i < 5; i++) await post(agent, port, body, values.accept!);
          const times: number[] = [];
          let bad = 0;
          const c0 = await cpuSeconds(mw.pid!);
          for (let i = 0; i < n; i++) {
            const t = performance.now();
            const r = await post(agent, port, body, values.accept!);
            times.push(performance.now() - t);
            if (r.status !== 200) bad++;
            else if (i === 0) {
              const text = r.bytes.toString();
              const got = values.accept === 'application/json' ? (JSON.parse(text) as { predictions: number[] }).predictions.length : text.split('\n').length - 1;
              if (got !== rowsIn) bad++;
            }
          }
          const cpu = ((await cpuSeconds(mw.pid!)) - c0) / n;
          return { p50: q(times, 0.5), p90: q(times, 0.9), min: q(times, 0), cpuMs: cpu * 1000, bad };
        };
        const load0 = await loadavg();
        const a = await measure(body10k, N10, 10_000);
        const b = await measure(body1k, N1, 1_000);
        agent.destroy();
        await stop(mw);
        const name = root === resolve('.') ? 'this tree' : root;
        console.log(
          `round ${round} ${name.padEnd(12)} 10,000 rows p50 ${fmt(a.p50)} ms (p90 ${fmt(a.p90)}, min ${fmt(a.min)}; server CPU ${fmt(a.cpuMs)} ms/req)  ` +
            `1,000 rows p50 ${fmt(b.p50, 2)} ms (p90 ${fmt(b.p90, 2)}; CPU ${fmt(b.cpuMs, 2)} ms/req)${a.bad + b.bad ? ` ERRORS ${a.bad + b.bad}` : ''}  load ${load0} -> ${await loadavg()}`,
        );
      }
    }
  } finally {
    await Promise.all(procs.map(stop));
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
