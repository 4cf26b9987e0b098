import { createServer } from 'node:http';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { GatewayStatus } from './runner.ts';

/** A running status server. */
export interface StatusServer {
  url: string;
  close(): Promise<void>;
}

const STATES = ['starting', 'connected', 'disconnected', 'paused', 'error', 'stopped'] as const;

/** The Prometheus registry of one gateway: every figure is read from `status()` at scrape time. */
export function gatewayMetrics(status: () => GatewayStatus): Registry {
  const register = new Registry();
  collectDefaultMetrics({ register, prefix: 'millwright_gateway_' });
  let snap: GatewayStatus | undefined;
  const take = () => (snap = status());
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: GatewayStatus) => void) =>
    new Gauge({
      name, help, labelNames, registers: [register],
      collect() {
        this.reset();
        fill(this, snap ?? take());
      },
    });
  gauge('millwright_gateway_source_state', 'Connection state of each source (1 for the current state)', ['source', 'type', 'state'], (g, s) => {
    for (const src of s.sources) for (const st of STATES) g.set({ source: src.name, type: src.type, state: st }, src.state === st ? 1 : 0);
  });
  gauge('millwright_gateway_readings_total', 'Readings acknowledged into the spool since start', ['source'], (g, s) => {
    for (const src of s.sources) g.set({ source: src.name }, src.readings);
  });
  gauge('millwright_gateway_rejected_total', 'Readings refused (non-finite, clock skew, unknown asset) since start', ['source'], (g, s) => {
    for (const src of s.sources) g.set({ source: src.name }, src.rejected);
  });
  gauge('millwright_gateway_last_value_timestamp_seconds', 'Time stamp of the newest reading of each source', ['source'], (g, s) => {
    for (const src of s.sources) if (src.lastValueTs !== undefined) g.set({ source: src.name }, src.lastValueTs / 1000);
  });
  gauge('millwright_gateway_source_spool_bytes', 'Spool bytes of each source not yet flushed into the store', ['source'], (g, s) => {
    for (const src of s.sources) g.set({ source: src.name }, src.spoolBytes);
  });
  gauge('millwright_gateway_events_total', 'Events recorded since start', ['source', 'kind'], (g, s) => {
    for (const src of s.sources) for (const [kind, n] of Object.entries(src.events)) g.set({ source: src.name, kind }, n);
  });
  gauge('millwright_gateway_spool_bytes', 'Bytes of acknowledged data in the spool', [], (g, s) => g.set(s.spool.bytes));
  gauge('millwright_gateway_spool_max_bytes', 'The spool bound (maxBytes)', [], (g, s) => g.set(s.spool.maxBytes));
  gauge('millwright_gateway_spool_full', 'Alarm: 1 while the spool or its disk is full and new data is refused', ['reason'], (g, s) => {
    g.set({ reason: 'spool-full' }, s.spool.alarm?.reason === 'spool-full' ? 1 : 0);
    g.set({ reason: 'disk-full' }, s.spool.alarm?.reason === 'disk-full' ? 1 : 0);
  });
  gauge('millwright_gateway_flush_failures', 'Consecutive failed flushes into the store', [], (g, s) => g.set(s.flush.failures));
  gauge('millwright_gateway_flushed_readings_total', 'Readings moved from the spool into the store since start', [], (g, s) => g.set(s.flush.readings));
  // One status snapshot per scrape: reset it after the registry has read every gauge.
  const metrics = register.metrics.bind(register);
  register.metrics = async () => {
    snap = status();
    try {
      return await metrics();
    } finally {
      snap = undefined;
    }
  };
  return register;
}

/**
 * The gateway's own HTTP server (node:http, read-only routes): `GET /health` (200 `ok`, or 503
 * while the spool alarm is raised), `GET /metrics` (Prometheus text) and `GET /status` (JSON).
 */
export async function startStatusServer(opts: { host: string; port: number; status: () => GatewayStatus }): Promise<StatusServer> {
  const register = gatewayMetrics(opts.status);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'only GET\n');
    if (path === '/health') {
      const s = opts.status();
      return s.spool.full ? send(503, 'text/plain', `spool alarm: ${s.spool.alarm?.message}\n`) : send(200, 'text/plain', 'ok\n');
    }
    if (path === '/status') return send(200, 'application/json', `${JSON.stringify(opts.status())}\n`);
    if (path === '/metrics') {
      register.metrics().then(
        (text) => send(200, register.contentType, text),
        (err: Error) => send(500, 'text/plain', `${err.message}\n`),
      );
      return;
    }
    send(404, 'text/plain', 'not found (routes: /health, /metrics, /status)\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
