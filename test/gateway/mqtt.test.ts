/**
 * The MQTT source against a real mosquitto on 127.0.0.1: mapping by topic pattern and JSON
 * paths, batched payloads, bad input, the persistent session across a gateway stop, a broker
 * restart with messages in flight, a full spool, and SIGKILL of the gateway process (20 trials)
 * with an exact reconciliation of every message the broker acknowledged to the publisher.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMqttSource, mqttSchema, mqttSourceType, type MqttSourceConfig } from '../../lib/gateway/sources/mqtt.ts';
import { SOURCE_TYPES } from '../../lib/gateway/sources/index.ts';
import { listSegments, recoverSpool, spoolStatus } from '../../lib/spool/index.ts';
import { QUALITY, type Source, type SourceReading } from '../../lib/gateway/source.ts';
import { Mosquitto, Publisher } from '../helpers/mosquitto.ts';
import { MemoryContext, SpoolContext, readSpool, readSpoolEvents, tempDir, waitFor } from './helpers/mqtt-context.ts';

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
let broker: Mosquitto;
let clients = 0;

function config(overrides: Partial<Record<keyof MqttSourceConfig, unknown>>): MqttSourceConfig {
  return mqttSchema.parse({ name: 'line', type: 'mqtt', url: broker.url, clientId: `gw-${++clients}`, ...overrides });
}

async function started(cfg: MqttSourceConfig, ctx: MemoryContext | SpoolContext): Promise<Source> {
  const source = createMqttSource(cfg, { reconnectMs: 100 });
  await source.start(ctx);
  await waitFor(`${cfg.clientId} connected`, () => source.status().state === 'connected');
  // The subscription is requested right after CONNACK; give the SUBACK a moment.
  await new Promise((r) => setTimeout(r, 100));
  return source;
}

const ids = (readings: SourceReading[]): number[] => readings.map((r) => r.value);

function counts(values: number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

before(async () => {
  broker = await Mosquitto.start();
});
after(async () => {
  await broker?.close();
});

describe('mqtt config', () => {
  test('is listed in SOURCE_TYPES and validates keys with their paths', () => {
    assert.ok(SOURCE_TYPES.includes(mqttSourceType as never));
    const bad = mqttSchema.safeParse({ name: 'l', type: 'mqtt', url: 'mqtt://b:1883', clientId: 'c', topics: [{ topic: 'plant/+/+', asset: '{3}', signal: '{2}', value: '$.v[' }] });
    assert.equal(bad.success, false);
    const issues = bad.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.ok(issues.some((m) => m.startsWith('topics.0.value: JSON path "$.v["')), issues.join('\n'));
    assert.ok(issues.some((m) => m.startsWith('topics.0.asset:') && m.includes('{3} but topic "plant/+/+" has 2 wildcards')), issues.join('\n'));
    const badTopic = mqttSchema.safeParse({ name: 'l', type: 'mqtt', url: 'mqtt://b:1883', clientId: 'c', topics: [{ topic: 'plant/#/x', asset: 'a', signal: 's' }] });
    assert.match(badTopic.error!.issues[0].message, /"#" must be the last level/);
    const typo = mqttSchema.safeParse({ name: 'l', type: 'mqtt', url: 'mqtt://b:1883', clientId: 'c', qoss: 1, topics: [{ topic: 'a', asset: 'a', signal: 's' }] });
    assert.equal(typo.success, false);
    assert.deepEqual(mqttSourceType.assets(config({ topics: [{ topic: 'a/+', asset: 'press1', signal: '{1}' }, { topic: 'b/+', asset: '{1}', signal: 's' }] })), ['press1']);
  });
});

describe('mqtt source against mosquitto', () => {
  test('maps JSON by topic wildcards and JSON paths', async () => {
    const ctx = new MemoryContext();
    const source = await started(
      config({
        topics: [
          { topic: 'm1/plant/+/+', asset: '{1}', signal: '{2}', value: '$.v', ts: '$.t', quality: '$.q' },
          { topic: 'm1/site/#', asset: 'line-{1}', signal: "$['signal name']", value: '$.values[1]', ts: '$.time' },
          { topic: 'm1/text/+', format: 'text', asset: 'oven', signal: '{1}' },
        ],
      }),
      ctx,
    );
    const pub = await Publisher.connect(broker.url, 'pub-m1');
    pub.publish('m1/plant/press1/temperature', 1, JSON.stringify({ v: 81.5, t: T0 }));
    pub.publish('m1/plant/press2/pressure', 2, JSON.stringify({ v: 3, t: T0 + 1, q: 'uncertain' }));
    pub.publish('m1/plant/press2/running', 3, JSON.stringify({ v: true, t: T0 + 2, q: 2 }));
    pub.publish('m1/site/a/b', 4, JSON.stringify({ 'signal name': 'flow', values: [0, '12.25'], time: new Date(T0 + 3).toISOString() }));
    pub.publish('m1/text/zone1', 5, ' 215.5\n');
    await pub.settle();
    await waitFor('5 readings', () => ctx.readings.length === 5);
    await source.stop();
    await pub.end();
    const byValue = [...ctx.readings].sort((a, b) => a.value - b.value);
    const text = byValue.find((r) => r.asset === 'oven')!;
    assert.ok(Math.abs(text.ts - Date.now()) < 60_000, 'format text: receive time');
    assert.deepEqual(byValue, [
      { ts: T0 + 2, asset: 'press2', signal: 'running', value: 1, quality: QUALITY.bad },
      { ts: T0 + 1, asset: 'press2', signal: 'pressure', value: 3, quality: QUALITY.uncertain },
      { ts: T0 + 3, asset: 'line-a/b', signal: 'flow', value: 12.25, quality: QUALITY.good },
      { ts: T0, asset: 'press1', signal: 'temperature', value: 81.5, quality: QUALITY.good },
      { ts: text.ts, asset: 'oven', signal: 'zone1', value: 215.5, quality: QUALITY.good },
    ]);
    assert.equal(ctx.eventsOf('reject').length, 0);
    assert.equal(ctx.eventsOf('connected').length, 1);
  });

  test('batched payloads: items path and top-level arrays, a bad item rejected with its reason', async () => {
    const ctx = new MemoryContext();
    const source = await started(
      config({
        topics: [
          { topic: 'm2/batch/+', asset: '{1}', signal: '$.s', value: '$.v', ts: '$.t', tsUnit: 's', items: '$.readings[*]' },
          { topic: 'm2/array/+', asset: '$.a', signal: '{1}', value: '$.v', ts: '$.t' },
        ],
      }),
      ctx,
    );
    const pub = await Publisher.connect(broker.url, 'pub-m2');
    const perMessage = 500;
    for (let m = 0; m < 10; m++) {
      const readings = Array.from({ length: perMessage }, (_, i) => ({ s: `s${i % 5}`, v: m * perMessage + i, t: (T0 + (m * perMessage + i) * 1000) / 1000 }));
      pub.publish(`m2/batch/press${m % 2}`, m, JSON.stringify({ device: 'x', readings }));
    }
    pub.publish('m2/array/vibration', 100, JSON.stringify([{ a: 'fan1', v: 0.5, t: T0 }, { a: 'fan2', v: 'high', t: T0 }, { a: 'fan3', v: 0.7, t: T0 }]));
    await pub.settle();
    await waitFor('5002 readings', () => ctx.readings.length === 5002);
    await waitFor('1 reject', () => ctx.eventsOf('reject').length === 1);
    await source.stop();
    await pub.end();
    const batch = ctx.readings.filter((r) => r.signal !== 'vibration');
    assert.deepEqual([...new Set(ids(batch))].length, 5000);
    for (const r of batch) {
      assert.equal(r.ts, T0 + r.value * 1000);
      assert.equal(r.signal, `s${r.value % 500 % 5}`);
      assert.equal(r.asset, `press${Math.floor(r.value / 500) % 2}`);
    }
    assert.deepEqual(ctx.readings.filter((r) => r.signal === 'vibration').map((r) => r.asset), ['fan1', 'fan3']);
    const [rej] = ctx.eventsOf('reject');
    assert.match(rej.message!, /^topic m2\/array\/vibration: 1 of 3 readings rejected: item 1: value \$\.v is "high" \(expected a finite number or a boolean\)$/);
  });

  test('bad input: malformed JSON, NaN, missing paths, bad quality, unknown topic -> reject events, acked once', async () => {
    const clientId = `gw-bad-${++clients}`;
    const base = { clientId, topics: [{ topic: 'm3/old/#', asset: 'x', signal: 'y' }] };
    // A first run subscribes m3/old/#; the next config no longer has it, but the broker's session
    // still does: such messages arrive with no topics[] entry to map them.
    const first = await started(config(base), new MemoryContext());
    await first.stop();
    const ctx = new MemoryContext();
    const cfg = config({ clientId, topics: [{ topic: 'm3/plant/+/+', asset: '{1}', signal: '{2}', value: '$.v', ts: '$.t', quality: '$.q' }] });
    let source = await started(cfg, ctx);
    const pub = await Publisher.connect(broker.url, 'pub-m3');
    const bad: [string, string, RegExp][] = [
      ['m3/plant/p1/t', '{"v": 1, "t": ', /^topic m3\/plant\/p1\/t: malformed JSON \(.+\)/],
      ['m3/plant/p1/t', '{"v": NaN, "t": 1}', /^topic m3\/plant\/p1\/t: malformed JSON/],
      ['m3/plant/p1/t', `{"v": "NaN", "t": ${T0}}`, /value \$\.v is "NaN" \(expected a finite number or a boolean\)$/],
      ['m3/plant/p1/t', `{"x": 1, "t": ${T0}}`, /value \$\.v is missing/],
      ['m3/plant/p1/t', '{"v": 1, "t": "yesterday"}', /ts \$\.t is "yesterday" \(expected epoch ms or an ISO-8601 time\)$/],
      ['m3/plant/p1/t', `{"v": 1, "t": ${T0}, "q": 9}`, /quality \$\.q is 9 \(expected 0\.\.5 or one of good, uncertain, bad, stale, commfailure, outofrange\)$/],
      ['m3/plant/p1/t', '\u0000\u00ff\u0001', /malformed JSON/],
      ['m3/old/thing', '{"v": 1}', /^topic m3\/old\/thing: no topics\[\] entry matches \(subscribed: m3\/plant\/\+\/\+\)$/],
    ];
    bad.forEach(([topic, payload], i) => pub.publish(topic, i, payload));
    pub.publish('m3/plant/p1/t', 99, JSON.stringify({ v: 99, t: T0 }));
    await pub.settle();
    await waitFor('8 rejects and the good reading', () => ctx.eventsOf('reject').length === bad.length && ctx.readings.length === 1);
    const rejects = ctx.eventsOf('reject');
    bad.forEach(([, , re], i) => assert.match(rejects[i].message!, re));
    assert.equal(ctx.readings[0].value, 99);
    await source.stop();
    // Acknowledged: a restart gets nothing again. The sentinel published after the restart
    // arrives after anything the broker would have redelivered (one session, in order).
    const ctx2 = new MemoryContext();
    source = await started(cfg, ctx2);
    pub.publish('m3/plant/p1/t', 100, JSON.stringify({ v: 100, t: T0 }));
    await pub.settle();
    await waitFor('sentinel', () => ctx2.readings.length === 1);
    await source.stop();
    await pub.end();
    assert.deepEqual(ids(ctx2.readings), [100]);
    assert.equal(ctx2.eventsOf('reject').length, 0);
  });

  test('persistent session: what is published while the source is stopped arrives exactly once after restart', async () => {
    const cfg = config({ topics: [{ topic: 'm4/+', asset: '{1}', signal: 'id', value: '$.id', ts: '$.t' }] });
    const first = new MemoryContext();
    let source = await started(cfg, first);
    const pub = await Publisher.connect(broker.url, 'pub-m4');
    for (let i = 0; i < 100; i++) pub.publish('m4/a', i, JSON.stringify({ id: i, t: T0 + i }));
    await pub.settle();
    await waitFor('first 100', () => first.readings.length === 100);
    await source.stop();
    for (let i = 100; i < 1100; i++) pub.publish(`m4/${i % 2 ? 'a' : 'b'}`, i, JSON.stringify({ id: i, t: T0 + i }));
    await pub.settle();
    assert.equal(pub.acked.size, 1100);
    const second = new MemoryContext();
    source = await started(cfg, second);
    await waitFor('1000 queued messages', () => second.readings.length >= 1000);
    await new Promise((r) => setTimeout(r, 200));
    await source.stop();
    await pub.end();
    assert.deepEqual(ids(first.readings), Array.from({ length: 100 }, (_, i) => i));
    assert.deepEqual(ids(second.readings), Array.from({ length: 1000 }, (_, i) => i + 100), 'in order, exactly once');
    assert.match(second.eventsOf('connected')[0].message!, /session resumed/);
  });

  test('broker restart with messages in flight: none lost', async () => {
    const cfg = config({ inflight: 50, topics: [{ topic: 'm5/+', asset: '{1}', signal: 'id', value: '$.id', ts: '$.t' }] });
    const ctx = new MemoryContext();
    // The spool stops taking readings at 200 until after the restart, so however fast the machine,
    // the broker still holds most messages (and some unacknowledged deliveries) when it goes down.
    ctx.holdAt = 200;
    const source = await started(cfg, ctx);
    const pub = await Publisher.connect(broker.url, 'pub-m5');
    try {
      const N = 3000;
      for (let i = 0; i < N; i++) pub.publish('m5/a', i, JSON.stringify({ id: i, t: T0 + i }));
      await pub.settle();
      await waitFor('some delivered', () => ctx.readings.length >= 200);
      const before = new Set(ids(ctx.readings)).size;
      assert.ok(before < N, `messages still in flight at the restart (${before} of ${N} delivered)`);
      await broker.restart();
      assert.ok(broker.savedDb(), 'SIGTERM saved the broker db');
      ctx.release();
      // All delivered, and after the reconnection (a batch committed as the connection closed is not
      // acknowledged there, so the broker redelivers it: duplicates, never gaps).
      await waitFor('all acknowledged messages after the restart', () => new Set(ids(ctx.readings)).size === N && ctx.eventsOf('connected').length >= 2, 60_000);
      const c = counts(ids(ctx.readings));
      for (let i = 0; i < N; i++) assert.ok((c.get(i) ?? 0) >= 1, `message ${i} lost`);
      assert.ok(ctx.eventsOf('disconnected').length >= 1, 'the outage is an event');
      assert.ok(ctx.eventsOf('connected').length >= 2);
    } finally {
      ctx.release();
      await source.stop();
      await pub.end();
    }
  });

  test('spool full: the source stops acknowledging, the broker keeps the messages, all arrive once space frees', async () => {
    const { dir, cleanup } = await tempDir('mw-mqtt-full-');
    let source: Source | undefined;
    try {
      const spool = join(dir, 'spool');
      const cfg = config({ inflight: 20, topics: [{ topic: 'm6/+', asset: '{1}', signal: 'id', value: '$.id', ts: '$.t' }] });
      const ctx = new SpoolContext(spool, { maxBytes: 24_000 });
      source = await started(cfg, ctx);
      const pub = await Publisher.connect(broker.url, 'pub-m6');
      const N = 2000;
      for (let i = 0; i < N; i++) pub.publish('m6/a', i, JSON.stringify({ id: i, t: T0 + i }));
      await pub.settle();
      // Paused, and the spool stops growing (a refused batch is retried in halves until even
      // one message does not fit).
      let stuck = -1;
      let since = Date.now();
      await waitFor('the spool to stop growing while paused', async () => {
        const n = (await readSpool(spool)).length;
        if (n !== stuck) [stuck, since] = [n, Date.now()];
        return source?.status().state === 'paused' && Date.now() - since > 500;
      }, 20_000);
      assert.ok(stuck < N / 2, `spool stopped early (${stuck} readings)`);
      assert.ok((await spoolStatus(spool)).bytes <= 24_000, 'maxBytes respected');
      // Stopped while paused: nothing un-spooled was acknowledged, so the broker still has it.
      await source.stop();
      const drained = ids(await readSpool(spool, { remove: true }));
      ctx.maxBytes = 1e9;
      const ctx2 = new SpoolContext(spool, { maxBytes: 40_000 });
      source = await started(cfg, ctx2);
      const got = [...drained];
      // A flush that frees space now and then: the source pauses and resumes until done.
      await waitFor('every message', async () => {
        for (const r of await readSpool(spool, { remove: true })) got.push(r.value);
        return new Set(got).size === N;
      }, 60_000);
      await source.stop();
      await pub.end();
      const c = counts(got);
      for (let i = 0; i < N; i++) assert.ok((c.get(i) ?? 0) >= 1, `message ${i} lost`);
      const kinds = (await readSpoolEvents(spool)).map((e) => e.kind);
      assert.ok(kinds.includes('paused') && kinds.includes('resumed'), kinds.join(','));
    } finally {
      await source?.stop();
      await cleanup();
    }
  });

  test('SIGKILL of the gateway process at random points (20 trials): every PUBACKed message is spooled, once after dedupe', async () => {
    const { dir, cleanup } = await tempDir('mw-mqtt-kill-');
    const child = fileURLToPath(new URL('./helpers/mqtt-child.ts', import.meta.url));
    const spool = join(dir, 'spool');
    const clientId = `gw-kill-${++clients}`;
    const killConfig = mqttSchema.parse({ name: 'kill', type: 'mqtt', url: broker.url, clientId, topics: [{ topic: 'kill/+', asset: '{1}', signal: 'id', value: '$.id', ts: '$.t' }] });
    // The session (and its subscription) must exist before the first message is published.
    await (await started(killConfig, new MemoryContext())).stop();
    const pub = await Publisher.connect(broker.url, 'pub-kill');
    let drain: Source | undefined;
    let next = 0;
    let publishing = true;
    const publisher = (async () => {
      // ~1,000 messages/s, bounded by the trials below.
      while (publishing && next < 200_000) {
        for (let k = 0; k < 10; k++, next++) pub.publish(`kill/dev${next % 4}`, next, JSON.stringify({ id: next, t: T0 + next }));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const runAndKill = (delayMs: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', child, broker.url, clientId, spool, 'kill/+'], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        let armed = false;
        const bound = setTimeout(() => p.kill('SIGKILL'), 30_000);
        p.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (!armed && out.includes('connected')) {
            armed = true;
            setTimeout(() => p.kill('SIGKILL'), delayMs);
          }
        });
        p.once('error', reject);
        p.once('exit', (code, signal) => {
          clearTimeout(bound);
          if (armed && signal === 'SIGKILL') resolve();
          else reject(new Error(`gateway child ended before the kill (${code ?? signal})`));
        });
      });
    try {
      let kills = 0;
      for (let trial = 0; trial < 20; trial++) {
        await runAndKill(Math.floor(Math.random() * 400));
        kills++;
      }
      publishing = false;
      await publisher;
      await pub.settle();
      // Recovery as the gateway does it, then one clean run drains what the broker still holds.
      await recoverSpool(spool);
      const ctx = new SpoolContext(spool);
      drain = await started(killConfig, ctx);
      let missing: number[] = [];
      await waitFor('every acknowledged message in the spool', async () => {
        const have = new Set(ids(await readSpool(spool)));
        missing = [...pub.acked].filter((id) => !have.has(id));
        return missing.length === 0;
      }, 60_000).catch((err: Error) => {
        throw new Error(`${err.message}: ${missing.length} of ${pub.acked.size} missing, e.g. ${missing.slice(0, 10).join(', ')}; source ${JSON.stringify(drain?.status())}`);
      });
      await drain.stop();
      const readings = await readSpool(spool); // throws on any torn segment
      const c = counts(ids(readings));
      assert.deepEqual([...pub.acked].filter((id) => !c.has(id)), [], 'acknowledged by the broker but never spooled');
      // Dedupe by id: one reading per id, and every copy is the same reading.
      const byId = new Map<number, SourceReading>();
      for (const r of readings) {
        const seen = byId.get(r.value);
        if (seen) assert.deepEqual(r, seen, `copies of ${r.value} differ`);
        byId.set(r.value, r);
        assert.equal(r.ts, T0 + r.value);
        assert.equal(r.asset, `dev${r.value % 4}`);
      }
      assert.equal(byId.size, c.size);
      for (const id of byId.keys()) assert.ok(pub.sent.has(id), `spooled ${id} was never published`);
      const dupes = readings.length - byId.size;
      assert.equal(kills, 20);
      assert.ok(pub.acked.size > 1000, `${pub.acked.size} messages published during the trials`);
      assert.ok((await listSegments(spool)).length > 0);
      console.log(`# kill trials: 20; ${pub.acked.size} messages acknowledged by the broker; ${readings.length} spooled readings, ${dupes} duplicates (redelivered after a kill between fsync and PUBACK)`);
    } finally {
      publishing = false;
      await publisher;
      await drain?.stop();
      await pub.end();
      await cleanup();
    }
  });
});
