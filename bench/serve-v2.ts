/**
 * The Open Inference Protocol (V2) section of `npm run bench:serve`: the same model, the same rows
 * and the same load tool (wrk, closed loop) on `POST /v2/models/<name>/infer` and, in the same
 * run, on `POST /invocations` (JSON and CSV bodies), for 1 row and 1,000 rows. The difference is
 * what V2's typed-tensor JSON costs over the SageMaker / MLflow formats.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function ms(text: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(text);
  if (!m) return NaN;
  const v = Number(m[1]);
  return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
}

async function wrkPost(url: string, body: string, headers: Record<string, string>, seconds: number, connections: number, dir: string): Promise<Load> {
  const file = join(dir, `v2-${Math.random().toString(36).slice(2)}.body`);
  await writeFile(file, body);
  const script = `${file}.lua`;
  const lines = [`local f = io.open(${JSON.stringify(file)}, "rb")`, 'wrk.method = "POST"', 'wrk.body = f:read("*a")', 'f:close()'];
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  await writeFile(script, `${lines.join('\n')}\n`);
  const { stdout } = await run('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', script, url], { maxBuffer: 1 << 20 });
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN),
    p50: ms(/\s50%\s+(\S+)/.exec(stdout)?.[1] ?? ''),
    p99: ms(/\s99%\s+(\S+)/.exec(stdout)?.[1] ?? ''),
    errors: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0) + Number(/Socket errors:.*?timeout (\d+)/.exec(stdout)?.[1] ?? 0),
  };
}

const fmt = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/**
 * Runs the V2 comparison against a running `millwright serve` whose default model is `modelName`
 * (served over V2 under that name). `rows` are feature rows in the model's feature order.
 */
export async function benchV2(o: { url: string; modelName: string; rows: number[][]; seconds: number; connections: number; dir: string }): Promise<void> {
  const take = (n: number, offset: number) => Array.from({ length: n }, (_, i) => o.rows[(offset + i) % o.rows.length]!);
  const F = o.rows[0]!.length;
  const v2Body = (rows: number[][]) => JSON.stringify({ inputs: [{ name: 'input-0', datatype: 'FP64', shape: [rows.length, F], data: rows.flat() }] });
  const infer = `${o.url}/v2/models/${encodeURIComponent(o.modelName)}/infer`;
  const invocations = `${o.url}/invocations`;

  // The answers agree before anything is timed.
  const sample = take(1000, 7);
  const v2 = (await (await fetch(infer, { method: 'POST', body: v2Body(sample), headers: { 'content-type': 'application/json' } })).json()) as { outputs: { data: number[] }[] };
  const classic = (await (await fetch(invocations, { method: 'POST', body: JSON.stringify({ instances: sample }), headers: { 'content-type': 'application/json', accept: 'application/json' } })).json()) as { predictions: number[] };
  const same = v2.outputs[0]!.data.every((y, i) => y === classic.predictions[i]);
  console.log(`\nOpen Inference Protocol (V2) vs /invocations on the same model (wrk, ${o.connections} connections, ${o.seconds} s each; answers identical on 1,000 rows: ${same ? 'yes' : 'NO'})`);
  console.log('rows   route                                   req/s     p50 ms   p99 ms  errors   vs V2');
  for (const [n, offset] of [[1, 100], [1000, 7]] as const) {
    const rows = take(n, offset);
    const runs: [string, Load][] = [];
    runs.push([`POST /v2/models/${o.modelName}/infer`, await wrkPost(infer, v2Body(rows), { 'Content-Type': 'application/json' }, o.seconds, o.connections, o.dir)]);
    runs.push(['POST /invocations JSON instances', await wrkPost(invocations, JSON.stringify({ instances: rows }), { 'Content-Type': 'application/json', Accept: 'application/json' }, o.seconds, o.connections, o.dir)]);
    runs.push(['POST /invocations CSV', await wrkPost(invocations, rows.map((r) => r.join(',')).join('\n') + '\n', { 'Content-Type': 'text/csv', Accept: 'text/csv' }, o.seconds, o.connections, o.dir)]);
    const base = runs[0]![1].rps;
    for (const [name, r] of runs) {
      console.log(`${String(n).padEnd(6)} ${name.padEnd(38)} ${fmt(r.rps).padStart(8)} ${fmt(r.p50, 2).padStart(9)} ${fmt(r.p99, 2).padStart(8)} ${String(r.errors).padStart(7)}   ${fmt(r.rps / base, 2)}x`);
    }
  }
}
