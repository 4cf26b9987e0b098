/**
 * MQTT source benchmark (issue 10): readings/s and p99 acknowledgement latency of the gateway's
 * MQTT source at QoS 1 into a real durable spool (every PUBACK after the segment's fsync), against
 * the broker's own delivery rate measured in the same run on the same stream: `mosquitto_sub -q 1`
 * (C, acks each message, output to /dev/null) draining an identical persistent-session queue.
 *
 * Both subscribers get a persistent session first; then the stream is published once at QoS 1
 * and the broker queues it for both; then each drains its queue alone, timed from connect to the
 * last message. Two streams: one reading per JSON message, and batched messages of 1,000
 * readings (`items: $.r[*]`). Targets: >= 0.8x the broker's rate; >= 200,000 readings/s batched.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendToSpool, spoolStatus } from '../lib/spool/index.ts';
import { quantileSorted } from '../lib/stats/index.ts';
import { createMqttSource, mqttSchema } from '../lib/gateway/sources/mqtt.ts';
import type { SourceContext, SourceReading } from '../lib/gateway/source.ts';
import type { ReadingBatch } from '../lib/readings/index.ts';
import { Mosquitto, Publisher } from '../test/helpers/mosquitto.ts';

const T0 = Date.UTC(2026, 0, 5);
const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';

function toBatch(readings: SourceReading[]): ReadingBatch {
  const n = readings.length;
  const b: ReadingBatch = { ts: new Float64Array(n), site: new Array<string>(n).fill('plant-a'), asset: new Array<string>(n), signal: new Array<string>(n), value: new Float64Array(n), quality: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    const r = readings[i];
    b.ts[i] = r.ts;
    b.asset[i] = r.asset;
    b.signal[i] = r.signal;
    b.value[i] = r.value;
    b.quality![i] = r.quality;
  }
  return b;
}

/** The gateway's contract over a real spool: emit resolves once the segment is fsynced. */
function spoolContext(dir: string): SourceContext {
  return {
    site: 'plant-a',
    emit: async (readings) => void (await appendToSpool(dir, toBatch(readings))),
    event: async () => {},
    waitForSpace: async () => {},
    log: () => {},
    signal: new AbortController().signal,
    stateDir: join(dir, '..', 'state'),
  };
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

interface Stream {
  label: string;
  filter: string;
  messages: number;
  perMessage: number;
  topic: (i: number) => string;
  payload: (i: number) => string;
  mapping: Record<string, unknown>;
}

async function publishAll(url: string, s: Stream): Promise<number> {
  const pub = await Publisher.connect(url, `bench-pub-${s.label}`);
  const t = performance.now();
  for (let i = 0; i < s.messages; i++) {
    pub.publish(s.topic(i), i, s.payload(i));
    // Bound the publisher's own queue so it measures the broker, not mqtt.js buffering.
    if (i % 2000 === 1999) await pub.settle(120_000);
  }
  await pub.settle(120_000);
  await pub.end();
  return (performance.now() - t) / 1000;
}

async function benchStream(broker: Mosquitto, s: Stream): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'mw-bench-mqtt-'));
  try {
    const filter = s.filter;
    const subId = `bench-sub-${s.label}`;
    const subArgs = ['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv5', '-c', '-x', '3600', '-i', subId, '-q', '1', '-t', filter];
    const cfg = mqttSchema.parse({ name: 'bench', type: 'mqtt', url: broker.url, clientId: `bench-gw-${s.label}`, inflight: 1000, topics: [{ topic: filter, ...s.mapping }] });
    // Persistent sessions for both, so the broker queues the whole stream for each.
    await run(MOSQUITTO_SUB, [...subArgs, '-E']);
    const warm = createMqttSource(cfg);
    await warm.start(spoolContext(join(dir, 'spool')));
    for (let i = 0; i < 200 && warm.status().state !== 'connected'; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    await warm.stop();

    const pubSec = await publishAll(broker.url, s);
    const readings = s.messages * s.perMessage;

    // Reference: the broker delivering the queue to mosquitto_sub (QoS 1, to /dev/null).
    let t = performance.now();
    await run(MOSQUITTO_SUB, [...subArgs, '-C', String(s.messages)]);
    const refSec = (performance.now() - t) / 1000;

    // The gateway: same queue, into the durable spool.
    const latencies: number[] = [];
    let acked = 0;
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((r) => (resolveDone = r));
    const source = createMqttSource(cfg, {
      onAck: (arrivals, ackedAt) => {
        for (const a of arrivals) latencies.push(ackedAt - a);
        acked += arrivals.length;
        if (acked >= s.messages) resolveDone();
      },
    });
    const cpu0 = process.cpuUsage();
    t = performance.now();
    await source.start(spoolContext(join(dir, 'spool')));
    await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error(`gateway: ${acked} of ${s.messages} messages after 180 s`)), 180_000))]);
    const gwSec = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpu0);
    await source.stop();
    const spooled = await spoolStatus(join(dir, 'spool'));
    latencies.sort((a, b) => a - b);

    const refRate = readings / refSec;
    const gwRate = readings / gwSec;
    const cpuSec = (cpu.user + cpu.system) / 1e6;
    console.log(`\n${s.label}: ${s.messages.toLocaleString()} messages x ${s.perMessage} reading(s) = ${readings.toLocaleString()} readings (published at QoS 1 in ${pubSec.toFixed(1)} s)`);
    console.log(`  broker -> mosquitto_sub -q 1 > /dev/null : ${refSec.toFixed(2)} s, ${Math.round(s.messages / refSec).toLocaleString()} msg/s = ${Math.round(refRate).toLocaleString()} readings/s`);
    console.log(`  broker -> millwright mqtt source -> spool: ${gwSec.toFixed(2)} s, ${Math.round(s.messages / gwSec).toLocaleString()} msg/s = ${Math.round(gwRate).toLocaleString()} readings/s; ${spooled.rows.toLocaleString()} readings in ${spooled.segments} fsynced segments`);
    if (s.perMessage === 1) console.log(`  ratio gateway / broker: ${(gwRate / refRate).toFixed(2)}x (target >= 0.8x: ${gwRate >= 0.8 * refRate ? 'met' : 'NOT met'})`);
    // mosquitto_sub only moves bytes; the gateway parses 1,000 JSON readings per message.
    else console.log(`  ratio gateway / broker: ${(gwRate / refRate).toFixed(2)}x in messages/s (the reference does not parse payloads); readings/s target >= 200,000: ${gwRate >= 200_000 ? 'met' : 'NOT met'}`);
    console.log(`  ack latency (arrival -> PUBACK after fsync): p50 ${quantileSorted(latencies, 0.5).toFixed(1)} ms, p99 ${quantileSorted(latencies, 0.99).toFixed(1)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`);
    console.log(`  gateway CPU: ${cpuSec.toFixed(2)} s = ${((cpuSec / gwSec) * 100).toFixed(0)} % of one core, ${((cpuSec / gwSec) / (gwRate / 10_000) * 100).toFixed(1)} % of a core per 10,000 readings/s`);
    if (spooled.rows !== readings) throw new Error(`spool holds ${spooled.rows} readings, expected ${readings}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export default async function main(): Promise<void> {
  const broker = await Mosquitto.start();
  try {
    console.log(`setup: mosquitto 2 (${broker.url}, persistence on, max_queued_messages 0), ${cpus().length} cores, Node ${process.version}`);
    console.log('  reference: mosquitto_sub -V mqttv5 -c -x 3600 -q 1 -C <n> > /dev/null (persistent session, acks each message)');
    console.log('  gateway:   mqtt source (MQTT 5, clean:false, receiveMaximum 1000) -> appendToSpool (fsync per group commit) -> PUBACK');
    await benchStream(broker, {
      label: 'json',
      filter: 'bench/json/+/+',
      messages: 100_000,
      perMessage: 1,
      topic: (i) => `bench/json/press${i % 10}/temperature`,
      payload: (i) => `{"v":${(20 + (i % 100) / 10).toFixed(1)},"t":${T0 + i}}`,
      mapping: { asset: '{1}', signal: '{2}', value: '$.v', ts: '$.t' },
    });
    const batch = 1000;
    await benchStream(broker, {
      label: 'batched',
      filter: 'bench/batched/+',
      messages: 600,
      perMessage: batch,
      topic: (i) => `bench/batched/press${i % 10}`,
      payload: (i) => JSON.stringify({ r: Array.from({ length: batch }, (_, k) => ({ s: `s${k % 20}`, v: Math.round(Math.sin(i * batch + k) * 1000) / 10, t: T0 + i * batch + k })) }),
      mapping: { asset: '{1}', signal: '$.s', value: '$.v', ts: '$.t', items: '$.r[*]' },
    });
  } finally {
    await broker.close();
  }
}
