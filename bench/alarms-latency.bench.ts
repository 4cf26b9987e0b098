/**
 * Notification latency (`npm run bench -- alarms`, issue 12): from a reading published to MQTT to
 * the webhook receiver holding the notification its alarm raised, at a paced 10,000 readings/s
 * (target p99 < 1 s). The pipeline is the product's, end to end: a publisher process (QoS 1,
 * 100 readings per message every 10 ms) -> mosquitto -> the gateway's MQTT source -> the durable
 * spool (group commit, fsync) -> the alarm evaluator on the acknowledged batch -> the event spool
 * -> the outbox (fsync per notification) -> in-process delivery -> an HTTP webhook receiver on
 * 127.0.0.1. Latency per notification = arrival at the receiver - the time stamp of the reading
 * that changed the alarm's state (stamped by the publisher at publish, same machine clock).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGatewayConfig, startGateway } from '../lib/gateway/index.ts';
import { quantileSorted } from '../lib/stats/index.ts';
import { Mosquitto, freePort } from '../test/helpers/mosquitto.ts';

const RATE = 10_000;
const SECONDS = 30;
const ASSETS = 100;

export default async function latencyBench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mw-bench-alarm-latency-'));
  const broker = await Mosquitto.start();
  const latencies: number[] = [];
  const keys = new Set<string>();
  /** key -> [reading ts, arrival at the receiver] */
  const seen = new Map<string, [number, number]>();
  const port = await freePort();
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { key: string; ts: string };
      if (!keys.has(body.key)) {
        latencies.push(at - Date.parse(body.ts));
        seen.set(body.key, [Date.parse(body.ts), at]);
      }
      keys.add(body.key);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', () => r()));
  try {
    await writeFile(join(dir, 'rules.yaml'), 'rules:\n  - { name: hot, kind: limit, signals: temperature, hi: 80, deadband: 2, severity: critical }\n');
    await writeFile(join(dir, 'notify.yaml'), `outbox: outbox\nchannels:\n  ops: { type: webhook, url: 'http://127.0.0.1:${port}/hook' }\n`);
    await writeFile(join(dir, 'gateway.yaml'), [
      'site: bench', 'spool: { dir: spool, maxBytes: 1gb, flushEvery: 10s }', 'store: store', 'alarms: rules.yaml', 'notify: notify.yaml',
      'sources:',
      `  - { name: mqtt, type: mqtt, url: '${broker.url}', clientId: bench-gw, topics: [{ topic: lat/batch, items: '$.r[*]', asset: '$.a', signal: temperature, value: '$.v', ts: '$.t' }] }`,
    ].join('\n') + '\n');
    const gw = await startGateway(await loadGatewayConfig(join(dir, 'gateway.yaml')));
    for (let i = 0; i < 300 && gw.status().sources[0]?.state !== 'connected'; i++) await new Promise((r) => setTimeout(r, 10));
    const load0 = loadavg()[0]!;
    const pub = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'alarms-latency-publisher.ts'), broker.url, String(RATE), String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    pub.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => pub.once('exit', (c) => r(c)));
    if (code !== 0) throw new Error(`publisher exited ${code}`);
    const p = JSON.parse(out) as { published: number; messages: number; seconds: number; events: number };
    // the last state changes: wait until the receiver is quiet for 2 s
    for (let n = -1; n !== keys.size; ) {
      n = keys.size;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const evaluated = gw.status().sources[0]!.readings;
    await gw.stop();
    latencies.sort((a, b) => a - b);
    const q = (x: number) => quantileSorted(latencies, x).toFixed(0);
    // Where the time goes: each outbox file records when it was enqueued (durable).
    const toOutbox: number[] = [];
    const delivery: number[] = [];
    const done = join(dir, 'outbox', 'ops', 'done');
    for (const f of await readdir(done)) {
      const doc = JSON.parse(await readFile(join(done, f), 'utf8')) as { enqueuedAt: number; notification: { key: string } };
      const s = seen.get(doc.notification.key);
      if (!s) continue;
      toOutbox.push(doc.enqueuedAt - s[0]);
      delivery.push(s[1] - doc.enqueuedAt);
    }
    const qs = (a: number[]) => (a.sort((x, y) => x - y), `p50 ${quantileSorted(a, 0.5).toFixed(0)} ms, p99 ${quantileSorted(a, 0.99).toFixed(0)} ms`);
    console.log(`notification latency, MQTT publish -> webhook receiver: ${latencies.length} notifications (${p.events} hot spells -> active + cleared each)`);
    console.log(`  rate: ${p.published.toLocaleString()} readings in ${p.messages} messages published in ${p.seconds.toFixed(1)} s = ${Math.round(p.published / p.seconds).toLocaleString()} readings/s (asked ${RATE.toLocaleString()}); the gateway took ${evaluated.toLocaleString()}`);
    console.log(`  latency: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${latencies.at(-1)} ms (target p99 < 1000 ms: ${quantileSorted(latencies, 0.99) < 1000 ? 'met' : 'NOT met'})`);
    console.log(`  reading -> durable in the outbox (MQTT, spool, evaluator, event spool, outbox fsync): ${qs(toOutbox)}; outbox -> receiver (delivery): ${qs(delivery)}`);
    console.log(`  pipeline: publisher process (QoS 1, ${ASSETS} readings/message every 10 ms) -> mosquitto -> gateway mqtt source -> spool (fsync) -> alarm evaluator -> event spool -> outbox (fsync) -> webhook (in-process delivery); ${cpus().length} cores, load ${load0.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end`);
    if (evaluated < p.published) throw new Error(`the gateway took ${evaluated} of ${p.published} readings`);
  } finally {
    receiver.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
}
