/**
 * The open-loop constant-rate client (bench/rate-client.c), compiled with the system's C compiler
 * into the bench's temporary directory and run as its own process: request i is due at
 * t0 + i / rate, latency is measured from its due time in microseconds. See the C file for why
 * autocannon's `-R` does not measure latency at a fixed rate (per-second bursts, 1 ms resolution,
 * coordinated-omission fill-ins at a 1 ms interval).
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const source = resolve(fileURLToPath(new URL('.', import.meta.url)), 'rate-client.c');

/** One fixed-rate run: latencies from each request's due time, in microseconds. */
export interface OpenLoopResult {
  rate: number;
  seconds: number;
  connections: number;
  sent: number;
  ok: number;
  non2xx: number;
  unanswered: number;
  /** In flight on a connection the server closed (then reopened: `reconnects`). */
  lost: number;
  reconnects: number;
  /** Requests written more than one interval after they were due (client or connections busy). */
  lateSends: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** Write time minus due time: the client's own error (it shares the cores). */
  lagP50: number;
  lagP99: number;
  lagMax: number;
  /** CPU the client used, in cores (user + system over the run). */
  clientCpu: number;
}

/** Compiles the client into `dir` once; undefined (with the reason) when no C compiler works here. */
export async function buildRateClient(dir: string): Promise<{ bin?: string; reason?: string }> {
  const bin = join(dir, 'rate-client');
  try {
    await access(bin);
    return { bin };
  } catch {
    // not built yet
  }
  try {
    await run('cc', ['-O2', '-o', bin, source]);
    return { bin };
  } catch (err) {
    return { reason: `cc could not build bench/rate-client.c: ${(err as Error).message.split('\n')[0]}` };
  }
}

/** Runs `rate` req/s of POST `path` with the body in `bodyFile` for `seconds` over `connections` keep-alive sockets. */
export async function openLoop(bin: string, o: { host: string; port: number; path: string; rate: number; seconds: number; connections: number; bodyFile: string; contentType: string }): Promise<OpenLoopResult> {
  const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'cpu %U %S', bin, o.host, String(o.port), o.path, String(o.rate), String(o.seconds), String(o.connections), o.bodyFile, o.contentType], { maxBuffer: 1 << 20 });
  const r = JSON.parse(stdout) as Omit<OpenLoopResult, 'clientCpu'>;
  const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(stderr);
  return { ...r, clientCpu: cpu ? (Number(cpu[1]) + Number(cpu[2])) / r.seconds : NaN };
}
