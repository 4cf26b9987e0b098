/**
 * OPC UA benchmark (`npm run bench -- gateway-opcua`, also part of `-- gateway`): monitored-item
 * changes per second through the gateway's OPC UA source, against the update rate of the
 * node-opcua server (own process) as the reference in the same run, plus a bare node-opcua-client
 * subscription on the same server as a second reference (what the library alone delivers).
 * Prints figures and ratios; no asserts.
 * Env: OPCUA_BENCH_TAGS (default 2000), OPCUA_BENCH_PERIOD_MS (default 50: every tag changes
 * every 50 ms), OPCUA_BENCH_SECONDS (default 8 per phase; four phases).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import { AttributeIds, ClientSubscription, OPCUAClient, TimestampsToReturn } from 'node-opcua-client';
import { opcuaSchema, opcuaSource } from '../lib/gateway/sources/opcua.ts';
import type { SourceContext, SourceEvent, SourceReading } from '../lib/gateway/source.ts';
import { freePort } from '../test/helpers/tcp-proxy.ts';

const TAGS = Number(process.env.OPCUA_BENCH_TAGS ?? 2000);
const PERIOD_MS = Number(process.env.OPCUA_BENCH_PERIOD_MS ?? 50);
const SECONDS = Number(process.env.OPCUA_BENCH_SECONDS ?? 8);
const SAMPLING_MS = Math.max(10, Math.floor(PERIOD_MS / 2));

interface ServerSample { t: number; updates: number; cpuMs: number; rss: number }

class ServerProcess {
  latest: ServerSample = { t: 0, updates: 0, cpuMs: 0, rss: 0 };
  private constructor(readonly child: ChildProcess) {}

  static async start(port: number, pkiDir: string): Promise<ServerProcess> {
    const file = fileURLToPath(new URL('./gateway-opcua-server.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', file, String(port), String(TAGS), String(PERIOD_MS), pkiDir], { stdio: ['pipe', 'pipe', 'inherit'] });
    const server = new ServerProcess(child);
    let rest = '';
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`OPC UA bench server exited with ${code}`)));
      child.stdout?.on('data', (d: Buffer) => {
        const lines = (rest + d.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('{')) { server.latest = JSON.parse(line) as ServerSample; resolve(); }
      });
    });
    return server;
  }

  go(): void {
    this.child.stdin?.write('go\n');
  }

  stop(): Promise<void> {
    return new Promise((resolve) => { this.child.once('exit', () => resolve()); this.child.kill('SIGTERM'); });
  }
}

/** Counts what a receiver got over one window, with the server's updates over the same window. */
async function measure(server: ServerProcess, received: () => number): Promise<{ got: number; updates: number; seconds: number; clientCpuMs: number; serverCpuMs: number }> {
  await new Promise((resolve) => setTimeout(resolve, 2000)); // warm-up: subscription settled
  const s0 = server.latest;
  const r0 = received();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const c1 = process.cpuUsage(c0);
  const r1 = received();
  const s1 = server.latest;
  const seconds = (performance.now() - t0) / 1000;
  return { got: r1 - r0, updates: s1.updates - s0.updates, seconds, clientCpuMs: (c1.user + c1.system) / 1000, serverCpuMs: s1.cpuMs - s0.cpuMs };
}

async function bareClient(endpoint: string, pki: string, count: { n: number }): Promise<() => Promise<void>> {
  const clientCertificateManager = new OPCUACertificateManager({ rootFolder: pki });
  const client = OPCUAClient.create({ endpointMustExist: false, clientCertificateManager, connectionStrategy: { maxRetry: 0 } });
  await client.connect(endpoint);
  const session = await client.createSession();
  // The same subscription parameters as the source's (lib/gateway/sources/opcua.ts), so only the code differs.
  const subscription = ClientSubscription.create(session, { requestedPublishingInterval: SAMPLING_MS, requestedLifetimeCount: Math.max(30, Math.ceil(60_000 / SAMPLING_MS)), requestedMaxKeepAliveCount: Math.max(3, Math.ceil(5_000 / SAMPLING_MS)), maxNotificationsPerPublish: 0, publishingEnabled: true, priority: 1 });
  const items = Array.from({ length: TAGS }, (_, i) => ({ nodeId: `ns=1;s=Bench.T${i}`, attributeId: AttributeIds.Value }));
  const group = await subscription.monitorItems(items, { samplingInterval: SAMPLING_MS, discardOldest: true, queueSize: 10 }, TimestampsToReturn.Both);
  group.on('changed', () => { count.n++; });
  return async () => { await client.disconnect(); await clientCertificateManager.dispose(); };
}

function countingContext(stateDir: string, signal: AbortSignal): SourceContext & { readings: number; events: SourceEvent[] } {
  const ctx = {
    site: 'bench', stateDir, signal, readings: 0, events: [] as SourceEvent[],
    emit(readings: SourceReading[]) { ctx.readings += readings.length; return Promise.resolve(); },
    event(event: SourceEvent) { ctx.events.push(event); return Promise.resolve(); },
    waitForSpace: () => Promise.resolve(),
    log: () => undefined,
  };
  return ctx;
}

function line(label: string, r: Awaited<ReturnType<typeof measure>>): void {
  const rate = r.got / r.seconds;
  const serverRate = r.updates / r.seconds;
  console.log(`${label.padEnd(34)} ${Math.round(rate).toLocaleString('en').padStart(8)} changes/s   server made ${Math.round(serverRate).toLocaleString('en').padStart(8)} updates/s   ratio ${(rate / serverRate).toFixed(3)}   client CPU ${(r.clientCpuMs / r.seconds / 10).toFixed(0)}% (${((r.clientCpuMs / r.seconds) / (rate / 10_000)).toFixed(0)} ms/s per 10k changes/s)   server CPU ${(r.serverCpuMs / r.seconds / 10).toFixed(0)}%`);
}

type Result = Awaited<ReturnType<typeof measure>>;

async function bareRun(server: ServerProcess, endpoint: string, pki: string): Promise<Result> {
  const bare = { n: 0 };
  const close = await bareClient(endpoint, pki, bare);
  const result = await measure(server, () => bare.n);
  await close();
  return result;
}

async function sourceRun(server: ServerProcess, endpoint: string, stateDir: string): Promise<Result & { events: string[] }> {
  const controller = new AbortController();
  const ctx = countingContext(stateDir, controller.signal);
  const source = opcuaSource.create(opcuaSchema.parse({
    name: 'bench', type: 'opcua', endpoint, samplingInterval: SAMPLING_MS,
    tags: Array.from({ length: TAGS }, (_, i) => ({ node: `ns=1;s=Bench.T${i}`, asset: `asset${i % 50}`, signal: `s${i}` })),
  }));
  await source.start(ctx);
  // start() returns before the subscription exists (a source retries); measure from `connected`,
  // which comes after every monitored item is created, as the bare client's window does.
  for (let i = 0; i < 600 && !ctx.events.some((e) => e.kind === 'connected'); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  const result = await measure(server, () => ctx.readings);
  await source.stop();
  controller.abort();
  return { ...result, events: ctx.events.map((e) => e.kind) };
}

const sum = (rs: Result[]): Result => rs.reduce((a, r) => ({ got: a.got + r.got, updates: a.updates + r.updates, seconds: a.seconds + r.seconds, clientCpuMs: a.clientCpuMs + r.clientCpuMs, serverCpuMs: a.serverCpuMs + r.serverCpuMs }));

export default async function bench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mw-bench-opcua-'));
  const port = await freePort();
  const endpoint = `opc.tcp://127.0.0.1:${port}`;
  const server = await ServerProcess.start(port, join(dir, 'server-pki'));
  try {
    console.log(`node-opcua server (own process): ${TAGS} Double variables, each set every ${PERIOD_MS} ms (${Math.round((TAGS * 1000) / PERIOD_MS).toLocaleString('en')} updates/s asked); client: one subscription, samplingInterval = publishingInterval ${SAMPLING_MS} ms, queueSize 10; phases source, bare, source, bare (${SECONDS} s each after 2 s warm-up) so machine load hits both alike`);
    server.go();
    const sources: Result[] = [];
    const bares: Result[] = [];
    const events: string[] = [];
    for (let round = 0; round < 2; round++) {
      const s = await sourceRun(server, endpoint, join(dir, `source-state-${round}`));
      events.push(...s.events);
      sources.push(s);
      line(`millwright OPC UA source (${round + 1})`, s);
      const b = await bareRun(server, endpoint, join(dir, `bare-pki-${round}`));
      bares.push(b);
      line(`bare node-opcua-client (${round + 1})`, b);
    }
    const src = sum(sources);
    const bare = sum(bares);
    const rate = src.got / src.seconds;
    line('millwright OPC UA source (both)', src);
    line('bare node-opcua-client (both)', bare);
    console.log(`source / server ${(src.got / src.updates).toFixed(3)}, source rate / bare client rate ${(rate / (bare.got / bare.seconds)).toFixed(3)}; target >= 20,000 changes/s: ${rate >= 20_000 ? 'met' : 'NOT met'}; source events: ${events.join(', ')}`);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
