import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGatewayConfig, startGateway, type SourceContext } from '../../lib/gateway/index.ts';
import { sql } from '../../lib/store/index.ts';
import { outboxStatus } from '../../lib/notify/index.ts';
import { AlarmSession, loadAlarmRules } from '../../lib/alarms/index.ts';
import { runCli } from '../helpers/io.ts';
import { pushType } from './push-source.ts';
import { WebhookReceiver } from './receivers.ts';
import { waitFor } from '../helpers/wait.ts';

const T0 = Date.parse('2024-03-01T10:00:00Z');
const MIN = 60_000;

const reading = (minute: number, asset: string, value: number) => ({ ts: T0 + minute * MIN, asset, signal: 'temperature', value, quality: 0 as const });

test('gateway restart (and alarms run split) inside a summarised flood window: the feed\'s windows are restored from the alarm state, so no per-alarm notification and no second summary', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-feed-restart-'));
  const rx = await WebhookReceiver.start();
  try {
    await writeFile(join(dir, 'rules.yaml'), 'flood: { max: 3, window: 1h }\nrules:\n  - { name: hot, kind: limit, signals: temperature, hi: 80, severity: critical }\n');
    await writeFile(join(dir, 'notify.yaml'), `outbox: outbox\nretry: { initial: 20ms, max: 200ms }\nchannels:\n  hook: { type: webhook, url: '${rx.url}' }\n`);
    const run = async (emit: (ctx: SourceContext) => Promise<void>) => {
      const push = pushType();
      const gw = await startGateway(await parseGatewayConfig(
        { site: 'plant-a', spool: { dir: 'spool', maxBytes: '64mb', flushEvery: '1h' }, store: 'store', alarms: 'rules.yaml', notify: 'notify.yaml', sources: [{ name: 'p', type: 'push' }] },
        dir, 'test gateway config', [push.type],
      ), { types: [push.type] });
      await emit(push.ctx());
      return gw;
    };
    // First run: m1..m4 go hot at minute 1: each notified, the 4th (4 > 3) followed by the summary of the window.
    const first = await run(async (ctx) => {
      await ctx.emit(['m1', 'm2', 'm3', 'm4', 'm5'].map((a) => reading(0, a, 60)));
      await ctx.emit(['m1', 'm2', 'm3', 'm4'].map((a) => reading(1, a, 95)));
    });
    await waitFor(() => rx.received.length >= 5, 30_000, '5 notifications');
    await first.stop();
    assert.equal(rx.received.length, 5);
    assert.match(String(rx.received[4]!.body.title), /^ERROR alarm flood: more than 3 alarms from 2024-03-01T10:00:00.000Z to 2024-03-01T11:00:00.000Z/);
    const saved = JSON.parse(await readFile(join(dir, 'spool', '.alarms', 'alarms-state.json'), 'utf8')) as { attached?: { notify?: { floods: number[][] } } };
    assert.deepEqual(saved.attached?.notify?.floods, [[T0, T0 + 3_600_000]], 'the summarised window is saved beside the alarm state');

    // Second run, same spool and outbox, still inside the window: m5 goes hot, m1 clears.
    const second = await run(async (ctx) => {
      await ctx.emit([reading(10, 'm5', 95), reading(10, 'm1', 60)]);
    });
    await second.stop();
    // a state change outside the window is notified as usual (and tells us the deliverer ran)
    const after = await run(async (ctx) => {
      await ctx.emit([reading(70, 'm6', 60)]);
      await ctx.emit([reading(71, 'm6', 99)]);
    });
    await waitFor(() => rx.received.length >= 6, 30_000, 'the notification of m6');
    await after.stop();
    const titles = rx.received.map((r) => String(r.body.title));
    assert.deepEqual(titles.slice(5), ['CRITICAL hot unack-active on m6: temperature 99 (limit 80)'], 'm5 and m1 (inside the window) not notified, the summary not repeated');
    // the suppressed state changes are rows of the events table all the same
    const { rows } = await sql("SELECT asset, kind, message FROM events WHERE kind IN ('alarm', 'alarm-flood') ORDER BY ts, asset NULLS LAST", { root: join(dir, 'store') });
    assert.deepEqual(rows.map((r) => `${String(r.kind)} ${String(r.asset ?? '-')}`), ['alarm-flood -', 'alarm m1', 'alarm m2', 'alarm m3', 'alarm m4', 'alarm m1', 'alarm m5', 'alarm m6']);
    assert.equal((await outboxStatus(join(dir, 'outbox'))).hook!.delivered, 6);

    // alarms run --notify in two runs split inside the window (same --state): the second run restores
    // the first one's flood windows from the state directory and suppresses m1 and m5 as the gateway did.
    await writeFile(join(dir, 'notify-run.yaml'), `outbox: outbox-run\nchannels:\n  hook: { type: webhook, url: '${rx.url}' }\n`);
    const args = ['alarms', 'run', '--rules', 'rules.yaml', '--store', 'store', '--notify', 'notify-run.yaml', '--state', 'state-run'];
    const cut = String(T0 + 5 * MIN);
    const a = await runCli([...args, '--to', cut], dir);
    assert.equal(a.code, 0, a.err);
    assert.match(a.out, /notify: 5 notification\(s\) queued in .*outbox-run \(0 already there, 0 inside flood windows\)\nnotify: delivered 5,/);
    const b = await runCli([...args, '--from', cut, '--to', String(T0 + 80 * MIN)], dir);
    assert.equal(b.code, 0, b.err);
    assert.match(b.out, /notify: 1 notification\(s\) queued in .*outbox-run \(0 already there, 2 inside flood windows\)\nnotify: delivered 1,/);
    assert.deepEqual(rx.received.slice(6).map((r) => r.key), rx.received.slice(0, 6).map((r) => r.key), 'the gateway\'s keys, in the same order');
  } finally {
    await rx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('alarm rows saved as pending with the state (a crash before the spool and the outbox had them) are written and notified at the next start', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-feed-pending-'));
  const rx = await WebhookReceiver.start();
  let gw: { stop(): Promise<void> } | undefined;
  try {
    await writeFile(join(dir, 'rules.yaml'), 'rules:\n  - { name: hot, kind: limit, signals: temperature, hi: 80, severity: critical }\n');
    await writeFile(join(dir, 'notify.yaml'), `outbox: outbox\nretry: { initial: 20ms, max: 200ms }\nchannels:\n  hook: { type: webhook, url: '${rx.url}' }\n`);
    // What the gateway's first step leaves when it dies right after it: the state and its rows, in one write.
    const session = await AlarmSession.open(await loadAlarmRules(join(dir, 'rules.yaml')), { site: 'plant-a', stateDir: join(dir, 'spool', '.alarms') });
    const rows = session.evaluator.process({ ts: Float64Array.of(T0, T0 + MIN), asset: ['m1', 'm1'], signal: ['temperature', 'temperature'], value: Float64Array.of(60, 97), quality: Uint8Array.of(0, 0) });
    assert.equal(rows.length, 1);
    await session.commit({ pending: rows });
    const push = pushType();
    gw = await startGateway(await parseGatewayConfig(
      { site: 'plant-a', spool: { dir: 'spool', maxBytes: '64mb', flushEvery: '1h' }, store: 'store', alarms: 'rules.yaml', notify: 'notify.yaml', sources: [{ name: 'p', type: 'push' }] },
      dir, 'test gateway config', [push.type],
    ), { types: [push.type] });
    await waitFor(() => rx.received.length >= 1, 30_000, 'the pending row\'s notification');
    await gw.stop();
    assert.deepEqual(rx.received.map((r) => r.body.title), ['CRITICAL hot unack-active on m1: temperature 97 (limit 80)']);
    const ev = await sql("SELECT asset, kind FROM events WHERE kind = 'alarm'", { root: join(dir, 'store') });
    assert.deepEqual(ev.rows.map((r) => r.asset), ['m1'], 'the pending row is in the events table');
    const saved = JSON.parse(await readFile(join(dir, 'spool', '.alarms', 'alarms-state.json'), 'utf8')) as { attached?: { pending?: unknown } };
    assert.equal(saved.attached?.pending, undefined, 'cleared once written');
  } finally {
    await gw?.stop();
    await rx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
