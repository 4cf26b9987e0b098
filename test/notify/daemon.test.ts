import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { alarmToNotification, createOutbox, outboxStatus, type AlarmEventRow } from '../../lib/notify/index.ts';
import { dedupe, WebhookReceiver } from './receivers.ts';
import { waitFor } from '../helpers/wait.ts';
import { cliArgs } from '../helpers/cli.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const T0 = Date.parse('2024-03-01T10:00:00Z');
const BURST = 30;
const TRIALS = 6;

function daemon(config: string, cli = false): { child: ChildProcess; exited: Promise<number | null>; out: () => string } {
  const args = cli ? cliArgs('notify', 'run', '--channels', config) : ['--import', 'tsx', join(ROOT, 'test/notify/daemon-child.ts'), 'run', '--channels', config];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, out: () => out };
}

const rowsOf = (burst: number): AlarmEventRow[] => Array.from({ length: BURST }, (_, k) => {
  const i = burst * BURST + k;
  return {
    ts: T0 + i * 10_000, source: 'bearing-hot', kind: 'alarm', asset: `pump-${i % 4}`, signal: 'bearing_temp', severity: 'critical',
    from: T0 + i * 10_000 - 30_000, message: JSON.stringify({ state: 'unack-active', value: 86 + (i % 5), limit: 85, rule: 'bearing-hot' }),
  };
});

test(`notify run: the delivery daemon picks up what another process enqueues, survives ${TRIALS} SIGKILLs and a receiver outage, stops on SIGTERM`, { timeout: 150_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-notify-daemon-'));
  const rx = await WebhookReceiver.start();
  rx.delayMs = 15;
  try {
    const config = join(dir, 'notify.yaml');
    await writeFile(config, `outbox: outbox\nretry: { initial: 20ms, max: 200ms }\nchannels:\n  hook: { type: webhook, url: '${rx.url}' }\n`);
    // The producer is this process (as the gateway or alarms run would be); the daemon is a child.
    const producer = await createOutbox({ dir: join(dir, 'outbox'), channels: { hook: { type: 'webhook', url: rx.url } } });
    const rows: AlarmEventRow[] = [];
    let kills = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const d = daemon(config);
      if (trial < 3) {
        const burst = rowsOf(trial);
        rows.push(...burst);
        for (const r of burst) await producer.enqueue(r); // while the daemon starts and delivers
      }
      if (trial === 3) {
        // The receiver is down while the daemon starts: it retries with backoff, then delivers.
        await rx.stop();
        await new Promise((r) => setTimeout(r, 1500));
        await rx.listen();
      }
      const before = rx.received.length;
      const nth = 1 + (trial % 3);
      let arrivals = 0;
      const killed = new Promise<void>((res) => {
        rx.onRequest = () => {
          if (++arrivals !== nth) return;
          const kill = () => (d.child.kill('SIGKILL'), res());
          if (trial % 2 === 0) kill(); // a POST open at the receiver
          else setTimeout(kill, rx.delayMs + 2); // just after an acknowledgement, around the rename to done/
        };
      });
      const code = await Promise.race([d.exited, killed.then(() => d.exited)]);
      rx.onRequest = undefined;
      if (code === null) kills++;
      assert.ok(rx.received.length >= before, 'the receiver only gains');
    }
    await producer.close();
    assert.ok(kills >= TRIALS - 1, `kills mid-delivery: ${kills}`);
    const want = rows.map((r) => alarmToNotification(r).key);
    assert.ok(dedupe(rx.received.map((r) => r.key)).unique.length < want.length, 'the kills interrupted delivery');
    // The real CLI, left alone, delivers the rest and stops cleanly on SIGTERM.
    const last = daemon(config, true);
    await waitFor(() => dedupe(rx.received.map((r) => r.key)).unique.length === want.length, 60_000, 'every key');
    last.child.kill('SIGTERM');
    assert.equal(await last.exited, 0, last.out());
    assert.match(last.out(), /notify: stopped: delivered \d+, dead-lettered 0/);
    const { unique, copies } = dedupe(rx.received.map((r) => r.key));
    assert.deepEqual(unique, want, 'every key arrived, first copies in enqueue order');
    assert.ok(copies - want.length <= kills, `at most one extra copy per kill: ${copies - want.length} after ${kills} kills`);
    for (const r of rx.received) assert.equal(r.body.key, r.key, 'the key travels in the header and the body');
    assert.deepEqual(await outboxStatus(join(dir, 'outbox')), { hook: { pending: 0, delivered: want.length, dead: 0, attempts: 0 } });
    t.diagnostic(`${kills} kills, ${copies} deliveries of ${want.length} keys`);
  } finally {
    rx.onRequest = undefined;
    await rx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
