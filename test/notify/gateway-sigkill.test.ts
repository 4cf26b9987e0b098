import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from '../../lib/store/index.ts';
import { alarmToNotification, outboxStatus, type AlarmEventRow } from '../../lib/notify/index.ts';
import { Mosquitto, Publisher } from '../helpers/mosquitto.ts';
import { dedupe, WebhookReceiver } from './receivers.ts';
import { cliArgs } from '../helpers/cli.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const T0 = Date.parse('2024-03-01T10:00:00Z');
const TRIALS = 6;
const ASSETS = 4;
/** Each asset alternates 5 readings hot, 5 normal: a state change every 5th reading of it. */
const hot = (i: number) => Math.floor(Math.floor(i / ASSETS) / 5) % 2 === 1;

function gatewayChild(config: string, log: string[]): { child: ChildProcess; exited: Promise<number | null>; connected: Promise<void> } {
  const child = spawn(process.execPath, cliArgs('gateway', '--config', config), { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let out = '';
  const connected = new Promise<void>((res) => {
    child.stderr!.on('data', (d: Buffer) => {
      log.push(d.toString());
      out += d.toString();
      if (out.includes('line: connected')) res();
    });
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, connected };
}

test(`SIGKILL of the gateway while it enqueues alarm notifications (${TRIALS} trials, MQTT from mosquitto): every alarm state change in the events table is delivered to the webhook, by key, none missing, in order`, { timeout: 150_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-notify-gw-kill-'));
  const broker = await Mosquitto.start();
  const rx = await WebhookReceiver.start();
  const log: string[] = [];
  let pub: Publisher | undefined;
  try {
    await writeFile(join(dir, 'rules.yaml'), 'rules:\n  - { name: hot, kind: limit, signals: temperature, hi: 80, severity: critical }\n');
    await writeFile(join(dir, 'notify.yaml'), `outbox: outbox\nretry: { initial: 20ms, max: 200ms }\nchannels:\n  hook: { type: webhook, url: '${rx.url}' }\n`);
    const config = join(dir, 'gateway.yaml');
    await writeFile(config, [
      'site: plant-a',
      'spool: { dir: spool, maxBytes: 64mb, flushEvery: 500ms, linger: 2ms }',
      'store: store',
      'alarms: rules.yaml',
      'notify: notify.yaml',
      'sources:',
      `  - { name: line, type: mqtt, url: "${broker.url}", clientId: mw-notify-kill, topics: [ { topic: "plant/+/temperature", format: json, asset: "{1}", signal: temperature, value: "$.v", ts: "$.t" } ] }`,
      '',
    ].join('\n'));
    // The broker session (and its subscription) exists before the first message is published.
    const first = gatewayChild(config, log);
    await first.connected;
    first.child.kill('SIGKILL');
    await first.exited;

    pub = await Publisher.connect(broker.url, 'pub-notify-kill');
    let next = 0;
    let publishing = true;
    const publisher = (async () => {
      // ~50 readings/s over 4 assets: ~10 alarm state changes/s
      while (publishing) {
        for (let k = 0; k < 5; k++, next++) pub!.publish(`plant/p${next % ASSETS}/temperature`, next, JSON.stringify({ v: hot(next) ? 95 : 60, t: T0 + next * 1000 }));
        await sleep(100);
      }
    })();
    let seed = Number(process.env.MW_KILL_SEED ?? Date.now() % 100_000);
    const seedUsed = seed;
    const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    let kills = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const g = gatewayChild(config, log);
      await Promise.race([g.connected, g.exited.then((c) => assert.fail(`trial ${trial}: the gateway exited (${c}) before it connected: ${log.join('').slice(-2000)}`))]);
      await sleep(200 + Math.floor(rand() * 1500));
      g.child.kill('SIGKILL');
      if ((await g.exited) === null) kills++;
      await sleep(Math.floor(rand() * 400)); // the publisher goes on while the gateway is down
    }
    publishing = false;
    await publisher;
    await pub.settle();
    // A last run, left alone: it takes what the broker kept, enqueues and delivers the rest.
    const last = gatewayChild(config, log);
    await last.connected;
    let prev = -1;
    for (let stable = 0; stable < 8; ) {
      await sleep(250);
      const n = dedupe(rx.received.map((r) => r.key)).unique.length;
      const st = await outboxStatus(join(dir, 'outbox'));
      stable = n === prev && st.hook!.pending === 0 ? stable + 1 : 0;
      prev = n;
    }
    last.child.kill('SIGTERM');
    assert.equal(await last.exited, 0, log.join('').slice(-3000));

    const { rows } = await sql("SELECT epoch_ms(ts) AS ts, source, kind, severity, asset, signal, epoch_ms(from_ts) AS from_ts, epoch_ms(to_ts) AS to_ts, message FROM events WHERE kind = 'alarm' ORDER BY ts, asset", { root: join(dir, 'store') });
    const want = dedupe(rows.map((r) => alarmToNotification(r as unknown as AlarmEventRow).key)).unique;
    assert.ok(want.length >= 50, `${want.length} alarm state changes in the events table (seed ${seedUsed})`);
    const { unique, copies } = dedupe(rx.received.map((r) => r.key));
    const got = new Set(unique);
    const missing = want.filter((k) => !got.has(k));
    assert.deepEqual(missing, [], `state changes in the events table never notified (seed ${seedUsed})`);
    const stored = new Set(want);
    assert.deepEqual(unique.filter((k) => !stored.has(k)), [], 'every notification is a row of the events table');
    assert.deepEqual(unique, want, 'first copies in the order of the state changes');
    const st = await outboxStatus(join(dir, 'outbox'));
    assert.equal(st.hook!.dead, 0);
    t.diagnostic(`seed ${seedUsed}: ${kills} kills, ${next} readings published, ${want.length} state changes, ${copies} deliveries of ${unique.length} keys`);
  } finally {
    await pub?.end().catch(() => {});
    await rx.stop();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});
