import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGatewayConfig, startGateway } from '../../lib/gateway/index.ts';
import { sql } from '../../lib/store/index.ts';
import { alarmToNotification, outboxStatus, type AlarmEventRow } from '../../lib/notify/index.ts';
import { runCli } from '../helpers/io.ts';
import { pushType } from './push-source.ts';
import { dedupe, WebhookReceiver } from './receivers.ts';
import { waitFor } from '../helpers/wait.ts';

const T0 = Date.parse('2024-03-01T10:00:00Z');
const MIN = 60_000;

/** 30 minutes of temperature on m0..m5: m0 hot from minute 5 to 10, m1..m5 all hot from minute 20 (a flood). */
function temperature(minute: number, asset: number): number {
  if (asset === 0) return minute >= 5 && minute < 10 ? 90 : 60;
  return minute >= 20 ? 95 : 60;
}

test('gateway with alarms: and notify: delivers each alarm state change to the webhook, a flood as one summary; alarms run --notify sends the same keys, once', { timeout: 90_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-alarm-notify-'));
  const rx = await WebhookReceiver.start();
  try {
    await writeFile(join(dir, 'rules.yaml'), 'flood: { max: 3, window: 1h }\nrules:\n  - { name: hot, kind: limit, signals: temperature, hi: 80, severity: critical }\n');
    await writeFile(join(dir, 'notify.yaml'), `outbox: outbox\nretry: { initial: 20ms, max: 200ms }\nchannels:\n  hook: { type: webhook, url: '${rx.url}' }\n`);
    await writeFile(join(dir, 'notify-run.yaml'), `outbox: outbox-run\nchannels:\n  hook: { type: webhook, url: '${rx.url}' }\n`);
    const push = pushType();
    const bad = parseGatewayConfig({ site: 'plant-a', spool: { dir: 'spool', maxBytes: '64mb' }, store: 'store', notify: 'notify.yaml', sources: [{ name: 'p', type: 'push' }] }, dir, 'gw', [push.type]);
    await assert.rejects(bad, /notify: needs an alarms rule file/);
    const config = await parseGatewayConfig(
      { site: 'plant-a', spool: { dir: 'spool', maxBytes: '64mb', flushEvery: '1h' }, store: 'store', alarms: 'rules.yaml', notify: 'notify.yaml', sources: [{ name: 'p', type: 'push' }] },
      dir, 'test gateway config', [push.type],
    );
    const gw = await startGateway(config, { types: [push.type] });
    for (let m = 0; m < 30; m++) {
      await push.ctx().emit(Array.from({ length: 6 }, (_, a) => ({ ts: T0 + m * MIN, asset: `m${a}`, signal: 'temperature', value: temperature(m, a), quality: 0 })));
    }
    // m0 active, m0 cleared, m1..m3 active, the flood summary; m4 and m5 fall in the summarised window
    await waitFor(() => rx.received.length >= 6, 30_000, '6 notifications');
    await gw.stop();
    const titles = rx.received.map((r) => String(r.body.title));
    assert.deepEqual(titles.slice(0, 2), ['CRITICAL hot unack-active on m0: temperature 90 (limit 80)', 'CRITICAL hot cleared-unack on m0: temperature 60 (limit 80)']);
    assert.deepEqual(rx.received.slice(2, 5).map((r) => r.body.asset), ['m1', 'm2', 'm3']);
    assert.match(titles[5]!, /^ERROR alarm flood: more than 3 alarms from 2024-03-01T10:00:00.000Z to 2024-03-01T11:00:00.000Z/);
    assert.equal(rx.received.length, 6, 'nothing more: m4 and m5 are inside the flood window');
    // the keys are those of the rows in the events table (the same state changes)
    const { rows } = await sql("SELECT epoch_ms(ts) AS ts, source, kind, severity, asset, signal, epoch_ms(from_ts) AS from_ts, epoch_ms(to_ts) AS to_ts, message FROM events WHERE kind IN ('alarm', 'alarm-flood') ORDER BY ts, asset NULLS LAST", { root: join(dir, 'store') });
    assert.equal(rows.length, 8, 'every state change is in the events table, suppressed ones too');
    const stored = new Set(rows.map((r) => alarmToNotification(r as unknown as AlarmEventRow).key));
    for (const r of rx.received) assert.ok(stored.has(r.key), `key ${r.key} of "${String(r.body.title)}" is a row of the events table`);
    assert.equal((await outboxStatus(join(dir, 'outbox'))).hook!.delivered, 6);
    const gwKeys = rx.received.map((r) => r.key);

    // alarms run --notify over the store the gateway wrote: the same notifications, by key
    const args = ['alarms', 'run', '--rules', 'rules.yaml', '--store', 'store', '--notify', 'notify-run.yaml'];
    const first = await runCli([...args, '--state', 'state-1'], dir);
    assert.equal(first.code, 0, first.err);
    assert.match(first.out, /notify: 6 notification\(s\) queued in .*outbox-run \(0 already there, 2 inside flood windows\)\nnotify: delivered 6, dead-lettered 0\n/);
    assert.deepEqual(rx.received.slice(6).map((r) => r.key), gwKeys, 'alarms run sent the gateway\'s keys, in the same order');
    // a re-run over the same range (fresh state) finds every key in the outbox: nothing is sent again
    const again = await runCli([...args, '--state', 'state-2'], dir);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /notify: 0 notification\(s\) queued .*\(6 already there, 2 inside flood windows\)\nnotify: delivered 0/);
    assert.equal(rx.received.length, 12);
    assert.equal(dedupe(rx.received.map((r) => r.key)).unique.length, 6);

    // deliver: false: the gateway only enqueues; another deliverer (here notify drain) sends it
    await writeFile(join(dir, 'notify-q.yaml'), `outbox: outbox-q\nchannels:\n  hook: { type: webhook, url: '${rx.url}' }\n`);
    const push2 = pushType();
    const quiet = await startGateway(await parseGatewayConfig(
      { site: 'plant-a', spool: { dir: 'spool-q', maxBytes: '64mb', flushEvery: '1h' }, store: 'store-q', alarms: 'rules.yaml', notify: { config: 'notify-q.yaml', deliver: false }, sources: [{ name: 'p', type: 'push' }] },
      dir, 'test gateway config', [push2.type],
    ), { types: [push2.type] });
    await push2.ctx().emit([{ ts: T0, asset: 'm9', signal: 'temperature', value: 99, quality: 0 }]);
    await quiet.stop();
    assert.equal(rx.received.length, 12, 'nothing delivered by the gateway');
    assert.equal((await outboxStatus(join(dir, 'outbox-q'))).hook!.pending, 1);
    const drained = await runCli(['notify', 'drain', '--config', 'notify-q.yaml'], dir);
    assert.equal(drained.code, 0, drained.err);
    assert.equal(rx.received.length, 13);
    assert.equal(rx.received[12]!.body.title, 'CRITICAL hot unack-active on m9: temperature 99 (limit 80)');
  } finally {
    await rx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
