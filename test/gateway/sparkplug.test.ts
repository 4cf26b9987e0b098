/**
 * The Sparkplug B source against a real mosquitto: an edge node simulated in the test encodes
 * NBIRTH/DBIRTH/NDATA/DDATA/DDEATH/NDEATH with sparkplug-payload; aliases resolve, deaths restate
 * stale values, a seq jump is a gap, unknown aliases and DATA before BIRTH get a rebirth NCMD
 * (observed on the broker), malformed protobuf is rejected, and the birth state survives a restart.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import type * as SparkplugPayload from 'sparkplug-payload';
import { createSparkplugSource, sparkplugSchema, sparkplugSourceType, type SparkplugSourceConfig } from '../../lib/gateway/sources/sparkplug.ts';
import { SparkplugState } from '../../lib/gateway/sources/sparkplug-state.ts';
import { SOURCE_TYPES } from '../../lib/gateway/sources/index.ts';
import { QUALITY, type Source } from '../../lib/gateway/source.ts';
import { Mosquitto, Publisher, mqttClient } from '../helpers/mosquitto.ts';
import { MemoryContext, tempDir, waitFor } from './helpers/mqtt-context.ts';

type Codec = NonNullable<ReturnType<typeof SparkplugPayload.get>>;
const spB = (createRequire(import.meta.url)('sparkplug-payload') as { get(ns: string): Codec }).get('spBv1.0');
const enc = (p: Parameters<Codec['encodePayload']>[0]): Buffer => Buffer.from(spB.encodePayload(p));

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
let broker: Mosquitto;

before(async () => {
  broker = await Mosquitto.start();
});
after(async () => {
  await broker?.close();
});

async function started(cfg: SparkplugSourceConfig, ctx: MemoryContext): Promise<Source> {
  const source = createSparkplugSource(cfg, { reconnectMs: 100 });
  await source.start(ctx);
  await waitFor('connected', () => source.status().state === 'connected');
  await new Promise((r) => setTimeout(r, 100));
  return source;
}

const nbirth = (seq: number, bdSeq: number): Buffer =>
  enc({
    timestamp: T0,
    seq,
    metrics: [
      { name: 'bdSeq', type: 'UInt64', value: bdSeq },
      { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
      { name: 'Supply/Voltage', alias: 1, type: 'Double', value: 230.5 },
      { name: 'Firmware', alias: 2, type: 'String', value: 'v1.2' },
    ],
  });
const dbirth = (seq: number): Buffer =>
  enc({
    timestamp: T0 + 1,
    seq,
    metrics: [
      { name: 'Pressure', alias: 10, type: 'Float', value: 3.5 },
      { name: 'Running', alias: 11, type: 'Boolean', value: true },
      { name: 'Count', alias: 12, type: 'Int64', value: 41 },
    ],
  });

describe('sparkplug config', () => {
  test('is listed in SOURCE_TYPES; ids are checked', () => {
    assert.ok(SOURCE_TYPES.includes(sparkplugSourceType as never));
    const bad = sparkplugSchema.safeParse({ name: 's', type: 'sparkplug', url: 'mqtt://b:1883', groupId: 'Plant/1' });
    assert.equal(bad.success, false);
    assert.equal(bad.error!.issues[0].path.join('.'), 'groupId');
    const ok = sparkplugSchema.parse({ name: 's', type: 'sparkplug', url: 'mqtt://b:1883', groupId: 'Plant1' });
    assert.equal(ok.assetFrom, 'device');
  });

  test('assetFrom maps metrics to assets by device, node or metric-name prefix', () => {
    const payload = enc({ seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }, { name: 'Line2/Press3/Temperature', type: 'Double', value: 1, timestamp: T0 }, { name: 'Flat', type: 'Double', value: 2, timestamp: T0 }] });
    const names = (from: 'device' | 'node' | 'metric-prefix') =>
      new SparkplugState('G', from, undefined, () => {}).decode('spBv1.0/G/NBIRTH/edge1', payload, T0).readings.map((r) => `${r.asset}|${r.signal}`);
    assert.deepEqual(names('device'), ['edge1|Line2/Press3/Temperature', 'edge1|Flat']);
    assert.deepEqual(names('metric-prefix'), ['Line2/Press3|Temperature', 'edge1|Flat']);
    const dev = new SparkplugState('G', 'node', undefined, () => {});
    dev.decode('spBv1.0/G/NBIRTH/edge1', payload, T0);
    const d = dev.decode('spBv1.0/G/DBIRTH/edge1/pump', enc({ seq: 1, metrics: [{ name: 'Speed', type: 'Int32', value: 1500, timestamp: T0 }] }), T0);
    assert.deepEqual(d.readings.map((r) => `${r.asset}|${r.signal}|${r.value}`), ['edge1|pump/Speed|1500']);
  });
});

describe('sparkplug source against mosquitto', () => {
  test('births, aliased data, seq gap, deaths with stale values, rebirth requests, malformed payloads', async () => {
    const { dir, cleanup } = await tempDir('mw-spb-');
    const ctx = new MemoryContext('plant-a', dir);
    const cfg = sparkplugSchema.parse({ name: 'scada', type: 'sparkplug', url: broker.url, groupId: 'Plant1', clientId: 'mw-spb-1' });
    let source = await started(cfg, ctx);
    const ncmds: { topic: string; rebirth: unknown }[] = [];
    const observer = await mqttClient(broker.url, { clientId: 'ncmd-observer' });
    await observer.subscribeAsync('spBv1.0/Plant1/NCMD/#', { qos: 0 });
    observer.on('message', (topic, payload) => {
      const m = spB.decodePayload(payload).metrics?.find((x) => x.name === 'Node Control/Rebirth');
      ncmds.push({ topic, rebirth: m?.value });
    });
    const pub = await Publisher.connect(broker.url, 'edge-sim');
    try {
      let id = 0;
      const send = (topic: string, payload: Buffer) => pub.publish(`spBv1.0/Plant1/${topic}`, id++, payload);
      send('NBIRTH/edge1', nbirth(0, 5));
      send('DBIRTH/edge1/press1', dbirth(1));
      send('DDATA/edge1/press1', enc({ timestamp: T0 + 10, seq: 2, metrics: [{ alias: 10, type: 'Float', value: 4.25 }, { alias: 12, type: 'Int64', value: 42, timestamp: T0 + 9 }] }));
      send('NDATA/edge1', enc({ timestamp: T0 + 20, seq: 3, metrics: [{ alias: 1, type: 'Double', value: 231 }] }));
      send('DDATA/edge1/press1', enc({ timestamp: T0 + 30, seq: 4, metrics: [{ alias: 10, type: 'Float', value: 9, properties: { Quality: { type: 'Int32', value: 0 } } }] }));
      // seq 5 and 6 never arrive: a gap
      send('DDATA/edge1/press1', enc({ timestamp: T0 + 40, seq: 7, metrics: [{ alias: 11, type: 'Boolean', value: false }] }));
      send('DDATA/edge1/press1', enc({ timestamp: T0 + 50, seq: 8, metrics: [{ alias: 99, type: 'Double', value: 1 }, { alias: 10, type: 'Float', value: 5 }] }));
      send('NDATA/edge9', enc({ timestamp: T0 + 55, seq: 0, metrics: [{ alias: 1, type: 'Double', value: 1 }] }));
      send('DDATA/edge1/press1', Buffer.from([1, 2, 3, 4, 5, 255]));
      send('DDEATH/edge1/press1', enc({ timestamp: T0 + 60, seq: 9 }));
      send('NDEATH/edge1', enc({ metrics: [{ name: 'bdSeq', type: 'UInt64', value: 4 }] })); // an older session's will: ignored
      send('NDEATH/edge1', enc({ metrics: [{ name: 'bdSeq', type: 'UInt64', value: 5 }] }));
      await pub.settle();
      await waitFor('the NDEATH', () => ctx.eventsOf('disconnected').length === 2);
      await waitFor('2 rebirth requests', () => ncmds.length >= 2);

      const rs = ctx.readings.map((r) => [r.ts > T0 + 1e6 ? 'now' : r.ts - T0, r.asset, r.signal, r.value, r.quality]);
      assert.deepEqual(rs, [
        [0, 'edge1', 'Supply/Voltage', 230.5, QUALITY.good],
        [1, 'press1', 'Pressure', 3.5, QUALITY.good],
        [1, 'press1', 'Running', 1, QUALITY.good],
        [1, 'press1', 'Count', 41, QUALITY.good],
        [10, 'press1', 'Pressure', 4.25, QUALITY.good],
        [9, 'press1', 'Count', 42, QUALITY.good],
        [20, 'edge1', 'Supply/Voltage', 231, QUALITY.good],
        [30, 'press1', 'Pressure', 9, QUALITY.bad],
        [40, 'press1', 'Running', 0, QUALITY.good],
        [50, 'press1', 'Pressure', 5, QUALITY.good],
        // DDEATH: every known metric of press1 re-stated, stale
        ['now', 'press1', 'Pressure', 5, QUALITY.stale],
        ['now', 'press1', 'Running', 0, QUALITY.stale],
        ['now', 'press1', 'Count', 42, QUALITY.stale],
        // NDEATH (bdSeq 5): the node's own metric (press1 is already dead)
        ['now', 'edge1', 'Supply/Voltage', 231, QUALITY.stale],
      ]);
      const gap = ctx.eventsOf('gap');
      assert.equal(gap.length, 1);
      assert.match(gap[0].message!, /seq 7 after 4: 2 messages of node edge1 missing/);
      assert.equal(gap[0].from, T0 + 30);
      assert.equal(gap[0].to, T0 + 40);
      const rejects = ctx.eventsOf('reject').map((e) => e.message!);
      assert.equal(rejects.length, 4, rejects.join('\n'));
      assert.match(rejects[0], /NBIRTH of edge1: metrics not stored \(not numeric\): Firmware \(String\)/);
      assert.match(rejects[1], /DDATA has metrics its BIRTH did not define: alias 99; rebirth requested/);
      assert.match(rejects[2], /NDATA before the NBIRTH of node edge9 .*rebirth requested/);
      assert.match(rejects[3], /^topic spBv1\.0\/Plant1\/DDATA\/edge1\/press1: malformed Sparkplug B payload \(protobuf: /);
      assert.deepEqual(ncmds.map((n) => n.topic).sort(), ['spBv1.0/Plant1/NCMD/edge1', 'spBv1.0/Plant1/NCMD/edge9']);
      assert.ok(ncmds.every((n) => n.rebirth === true));
      assert.deepEqual(ctx.eventsOf('connected').filter((e) => e.asset).map((e) => e.asset), ['edge1', 'press1']);
      assert.deepEqual(ctx.eventsOf('disconnected').map((e) => e.asset), ['press1', 'edge1']);

      // A new birth, then a gateway restart: the saved births still resolve aliases (an
      // acknowledged NBIRTH is never redelivered), without a rebirth request.
      send('NBIRTH/edge1', nbirth(0, 6));
      send('DBIRTH/edge1/press1', dbirth(1));
      await pub.settle();
      await waitFor('rebirth readings', () => ctx.readings.length === 14 + 4);
      await source.stop();
      const ctx2 = new MemoryContext('plant-a', dir);
      source = await started(cfg, ctx2);
      const before = ncmds.length;
      send('DDATA/edge1/press1', enc({ timestamp: T0 + 100, seq: 2, metrics: [{ alias: 10, type: 'Float', value: 6.5 }] }));
      await pub.settle();
      await waitFor('aliased reading after restart', () => ctx2.readings.length === 1);
      assert.deepEqual(ctx2.readings[0], { ts: T0 + 100, asset: 'press1', signal: 'Pressure', value: 6.5, quality: QUALITY.good });
      assert.equal(ctx2.eventsOf('reject').length, 0);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(ncmds.length, before, 'no rebirth needed');
    } finally {
      await source.stop();
      await pub.end();
      await observer.endAsync();
      await cleanup();
    }
  });
});
