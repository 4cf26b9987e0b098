import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alarmToNotification, createOutbox, type AlarmEventRow } from '../../lib/notify/index.ts';
import { Mosquitto, mqttClient } from '../helpers/mosquitto.ts';
import { dedupe, SmtpSink } from './receivers.ts';
import { waitFor } from '../helpers/wait.ts';

const waitFor50 = (cond: () => boolean | Promise<boolean>, ms: number, what: string) => waitFor(cond, ms, what, 50);

const T0 = Date.parse('2024-03-01T10:00:00Z');

function rows(n: number, asset = 'press-7'): AlarmEventRow[] {
  return Array.from({ length: n }, (_, i) => ({
    ts: T0 + i * 30_000, source: 'oil-pressure-low', kind: 'alarm', asset, signal: 'oil_pressure', severity: 'error',
    from: T0 + i * 30_000 - 60_000, message: JSON.stringify({ state: i % 2 ? 'cleared' : 'active', value: 1.2 + i / 100, limit: 1.5, rule: 'oil-pressure-low' }),
  }));
}

test('e-mail over SMTP (aiosmtpd): sink stopped and restarted, every key once in order, Message-ID is the key, text and HTML', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-notify-smtp-'));
  const sink = await SmtpSink.start(join(dir, 'maildir'));
  const stop = new AbortController();
  try {
    const outbox = await createOutbox({
      dir: join(dir, 'outbox'),
      channels: { mail: { type: 'email', host: '127.0.0.1', port: sink.port, ignoreTLS: true, from: 'millwright@plant.example', to: ['maintenance@plant.example'], timeout: 3000 } },
      retry: { initial: 50, max: 300 },
      link: 'https://mw.example/assets/{asset}?from={from}&to={to}',
    });
    const running = outbox.run(stop.signal);
    const all = rows(24);
    for (const r of all.slice(0, 8)) await outbox.enqueue(r);
    await waitFor50(async () => (await sink.messages()).length >= 8, 15_000, '8 mails');
    await sink.stop();
    for (const r of all.slice(8, 16)) await outbox.enqueue(r);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal((await sink.messages()).length, 8, 'nothing arrives while the sink is down');
    assert.equal((await outbox.status()).mail!.pending, 8);
    await sink.launch();
    for (const r of all.slice(16)) await outbox.enqueue(r);
    await waitFor50(async () => (await sink.messages()).length >= 24, 20_000, '24 mails');
    stop.abort();
    await running;
    await outbox.close();
    const msgs = await sink.messages();
    const want = all.map((r) => alarmToNotification(r).key);
    assert.deepEqual(dedupe(msgs.map((m) => m.key)).unique, want, 'every key once, in order');
    for (const m of msgs) assert.equal(m.messageId, `<${m.key}@plant.example>`);
    const first = msgs[0]!;
    assert.equal(first.subject, '[millwright] ERROR oil-pressure-low active on press-7: oil_pressure 1.2 (limit 1.5)');
    assert.match(first.text, /Since: 2024-03-01T09:59:00\.000Z/);
    assert.match(first.raw, /text\/html/);
    assert.match(first.text, /https:\/\/mw\.example\/assets\/press-7\?from=2024-03-01T09%3A59%3A00\.000Z/);
  } finally {
    stop.abort();
    await sink.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('MQTT (mosquitto): QoS 1, key as MQTT 5 user property and in the payload; broker restarted, every key once in order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-notify-mqtt-'));
  const broker = await Mosquitto.start();
  const stop = new AbortController();
  // A persistent-session subscriber: the broker keeps its subscription and queue across the restart.
  const sub = await mqttClient(broker.url, { clientId: 'notify-observer', clean: false, properties: { sessionExpiryInterval: 600 } });
  const got: { key: string; prop: string; body: Record<string, unknown> }[] = [];
  sub.on('message', (_t, payload, packet) => {
    const body = JSON.parse(payload.toString()) as Record<string, unknown>;
    const prop = packet.properties?.userProperties?.['idempotency-key'];
    got.push({ key: String(body.key), prop: String(prop), body });
  });
  await sub.subscribeAsync('plant/alarms', { qos: 1 });
  try {
    const outbox = await createOutbox({
      dir: join(dir, 'outbox'),
      channels: { bus: { type: 'mqtt', url: broker.url, topic: 'plant/alarms', clientId: 'millwright-notify', timeout: 2000 } },
      retry: { initial: 50, max: 300 },
    });
    const running = outbox.run(stop.signal);
    const all = rows(30, 'compressor-2');
    for (const r of all.slice(0, 10)) await outbox.enqueue(r);
    await waitFor50(() => got.length >= 10, 15_000, '10 messages');
    await broker.stop();
    for (const r of all.slice(10, 20)) await outbox.enqueue(r);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal((await outbox.status()).bus!.pending, 10);
    await broker.restart();
    for (const r of all.slice(20)) await outbox.enqueue(r);
    await waitFor50(() => dedupe(got.map((g) => g.key)).unique.length >= 30, 30_000, '30 distinct keys');
    stop.abort();
    await running;
    await outbox.close();
    const want = all.map((r) => alarmToNotification(r).key);
    assert.deepEqual(dedupe(got.map((g) => g.key)).unique, want, 'every key once, in order');
    for (const g of got) assert.equal(g.prop, g.key, 'user property carries the key');
    assert.equal(got[0]!.body.asset, 'compressor-2');
    assert.equal(got[0]!.body.value, 1.2);
  } finally {
    stop.abort();
    await sub.endAsync(true).catch(() => {});
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});
