import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alarmToNotification, createOutbox, deadLetters, outboxStatus, parseNotifyConfig, type AlarmEventRow } from '../../lib/notify/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { dedupe, WebhookReceiver } from './receivers.ts';
import { waitFor } from '../helpers/wait.ts';

const T0 = Date.parse('2024-03-01T10:00:00Z');

/** Alarm rows as the alarms module writes them: a rule going active and clearing on several pumps. */
function alarmRows(n: number): AlarmEventRow[] {
  return Array.from({ length: n }, (_, i) => {
    const state = i % 2 === 0 ? 'active' : 'cleared';
    return {
      ts: T0 + i * 60_000, source: 'bearing-hot', kind: 'alarm', asset: `pump-${(i % 3) + 1}`, signal: 'bearing_temp',
      severity: i % 4 === 0 ? 'critical' : 'warning', from: T0 + i * 60_000 - 120_000, to: state === 'cleared' ? T0 + i * 60_000 : undefined,
      message: JSON.stringify({ state, value: 80 + i / 10, limit: 85, rule: 'bearing-hot' }), id: `e${i}`,
    };
  });
}

test('alarmToNotification: title, value, limit, since, query, and a key stable per state change', () => {
  const [a, b] = alarmRows(2);
  const n = alarmToNotification(a!);
  assert.equal(n.title, 'CRITICAL bearing-hot active on pump-1: bearing_temp 80 (limit 85)');
  assert.equal(n.since, T0 - 120_000);
  assert.equal(n.value, 80);
  assert.equal(n.limit, 85);
  assert.match(n.query!, /asset = 'pump-1' AND signal = 'bearing_temp' AND ts BETWEEN '2024-03-01T08:58:00.000Z'/);
  assert.equal(alarmToNotification({ ...a!, id: 'another-copy' }).key, n.key, 'same state change, same key');
  assert.notEqual(alarmToNotification(b!).key, n.key);
  // A row read back through `millwright sql` (Dates, from_ts) gives the same notification.
  const viaSql = alarmToNotification({ ...a!, ts: new Date(a!.ts), from: undefined, from_ts: new Date(T0 - 120_000) });
  assert.deepEqual(viaSql, n);
  assert.throws(() => alarmToNotification({ ...a!, message: 'not json' }), (e) => isErrorCode(e, 'BAD_INPUT') && /message must be JSON/.test(e.message));
  assert.throws(() => alarmToNotification({ ...a!, severity: 'loud' }), /severity "loud" is not one of info, warning, error, critical/);
});

test('webhook: a receiver stopped for a while gets its backlog in order, once per key; restart of the outbox resumes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-notify-'));
  const rx = await WebhookReceiver.start();
  const stop = new AbortController();
  try {
    const channels = { hook: { type: 'webhook' as const, url: rx.url } };
    const retry = { initial: 20, max: 200 };
    let outbox = await createOutbox({ dir, channels, retry, link: 'https://mw.example/query' });
    let running = outbox.run(stop.signal);
    const rows = alarmRows(60);
    for (const r of rows.slice(0, 20)) await outbox.enqueue(r);
    await waitFor(() => rx.received.length >= 20, 10_000, '20 deliveries');
    await rx.stop(); // receiver down: the next 20 wait in the outbox
    for (const r of rows.slice(20, 40)) await outbox.enqueue(r);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(rx.received.length, 20);
    const st = (await outbox.status()).hook!;
    assert.equal(st.pending, 20);
    assert.ok(st.attempts > 0 && /ECONNREFUSED/.test(st.lastError ?? ''), `retrying: ${JSON.stringify(st)}`);
    // The delivering process stops too; a new outbox on the same folder resumes the backlog.
    stop.abort();
    await running;
    await outbox.close();
    await rx.listen();
    const stop2 = new AbortController();
    outbox = await createOutbox({ dir, channels, retry, link: 'https://mw.example/query' });
    running = outbox.run(stop2.signal);
    for (const r of rows.slice(40)) await outbox.enqueue(r);
    // Enqueuing the same events again (an alarms re-run) writes nothing new.
    const again = await outbox.enqueue(rows[5]!);
    assert.deepEqual(again.channels, []);
    assert.deepEqual(again.duplicates, ['hook']);
    await waitFor(() => rx.received.length >= 60, 15_000, '60 deliveries');
    stop2.abort();
    await running;
    await outbox.close();
    const want = rows.map((r) => alarmToNotification(r).key);
    const { unique } = dedupe(rx.received.map((r) => r.key));
    assert.deepEqual(unique, want, 'every key once, in enqueue order');
    const first = rx.received[0]!;
    assert.equal(first.body.key, first.key, 'the key is in the header and in the body');
    assert.equal(first.body.asset, 'pump-1');
    assert.equal(first.body.limit, 85);
    assert.equal(first.body.since, '2024-03-01T09:58:00.000Z');
    assert.match(String(first.body.link), /^https:\/\/mw\.example\/query\?query=SELECT%20/);
    assert.deepEqual(await outboxStatus(dir), { hook: { pending: 0, delivered: 60, dead: 0, attempts: 0 } });
  } finally {
    stop.abort();
    await rx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('webhook: a 4xx is dead-lettered with its reason and the queue moves on; 429 and 503 are retried', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-notify-'));
  const rx = await WebhookReceiver.start();
  const stop = new AbortController();
  const tries = new Map<string, number>();
  rx.status = (b) => {
    const k = String(b.key);
    const n = (tries.get(k) ?? 0) + 1;
    tries.set(k, n);
    if (b.asset === 'pump-2' && b.state === 'cleared') return 422;
    if (b.asset === 'pump-3' && n <= 2) return n === 1 ? 429 : 503;
    return 200;
  };
  try {
    const outbox = await createOutbox({ dir, channels: { hook: { type: 'webhook', url: rx.url } }, retry: { initial: 10, max: 50 } });
    const rows = alarmRows(12);
    for (const r of rows) await outbox.enqueue(r);
    const r = await outbox.run(stop.signal, { once: true });
    const rejected = rows.filter((x) => x.asset === 'pump-2' && JSON.parse(x.message!).state === 'cleared');
    assert.equal(rejected.length, 2);
    assert.deepEqual(r, { delivered: 10, dead: 2, gaveUp: [] });
    const dead = await deadLetters(dir, 'hook');
    assert.deepEqual(dead.map((d) => d.key), rejected.map((x) => alarmToNotification(x).key));
    assert.match(dead[0]!.reason, /HTTP 422 rejected: code 422/);
    assert.equal(dead[0]!.attempts, 1);
    assert.deepEqual(rx.received.map((x) => x.key), rows.filter((x) => !rejected.includes(x)).map((x) => alarmToNotification(x).key));
    for (const x of rows.filter((y) => y.asset === 'pump-3')) assert.equal(tries.get(alarmToNotification(x).key), 3, '429, 503, then 200');
    await outbox.close();
  } finally {
    await rx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('routes send severities and assets to their channels; a once-run gives up on a dead channel and keeps its backlog', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-notify-'));
  const all = await WebhookReceiver.start();
  const crit = await WebhookReceiver.start();
  const deadPort = await WebhookReceiver.start();
  await deadPort.stop();
  try {
    const cfg = parseNotifyConfig({
      outbox: 'ob',
      retry: { initial: '10ms', max: '20ms' },
      channels: {
        everything: { type: 'webhook', url: all.url },
        oncall: { type: 'webhook', url: crit.url },
        down: { type: 'webhook', url: deadPort.url },
      },
      routes: [
        { channel: 'everything' },
        { channel: 'oncall', severities: ['critical'], assets: ['pump-*'] },
        { channel: 'down', assets: ['pump-3'] },
      ],
    }, dir);
    assert.equal(cfg.outbox, join(dir, 'ob'));
    const outbox = await createOutbox({ dir: cfg.outbox, channels: cfg.channels, routes: cfg.routes, retry: cfg.retry });
    const rows = alarmRows(8);
    for (const r of rows) await outbox.enqueue(r);
    const res = await outbox.run(undefined, { once: true, giveUpAfter: 3 });
    assert.deepEqual(res.gaveUp, ['down']);
    assert.equal(all.received.length, 8);
    assert.deepEqual(crit.received.map((r) => r.body.severity), ['critical', 'critical']);
    const st = await outbox.status();
    assert.equal(st.down!.pending, rows.filter((r) => r.asset === 'pump-3').length);
    assert.equal(st.down!.attempts, 3);
    assert.deepEqual(await readdir(join(cfg.outbox, 'down', 'dead')), []);
    await outbox.close();
  } finally {
    await all.stop();
    await crit.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('config errors name the key path and what was expected', () => {
  const bad = {
    outbox: 'ob',
    channels: {
      hook: { type: 'webhook', url: 'ftp://x' },
      mail: { type: 'email', host: 'localhost', port: 70000, from: 'a@b', to: [] },
      bus: { type: 'mqtt', url: 'mqtt://127.0.0.1:1883', topic: 'alarms/#' },
      pager: { type: 'sms' },
    },
    routes: [{ channel: 'hook', severities: ['loud'] }, { channel: 'nope' }],
    retry: { initial: 'soon' },
  };
  assert.throws(() => parseNotifyConfig(bad, '/tmp'), (e) => {
    assert.ok(isErrorCode(e, 'BAD_INPUT'));
    const m = e.message;
    for (const want of ['channels.hook.url', 'channels.mail.port', 'channels.mail.to', 'channels.bus.topic: a publish topic cannot hold the wildcards', 'channels.pager.type', 'routes[0].severities[0]', 'retry.initial: expected a duration']) {
      assert.ok(m.includes(want), `missing ${want} in:\n${m}`);
    }
    return true;
  });
  assert.throws(
    () => parseNotifyConfig({ outbox: 'ob', channels: { hook: { type: 'webhook', url: 'http://127.0.0.1:1/h' } }, routes: [{ channel: 'nope' }] }, '/tmp'),
    /routes\[0\]\.channel: unknown channel "nope" \(defined: hook\)/,
  );
});
