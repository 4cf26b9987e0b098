import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { alarmToNotification, createOutbox, outboxStatus, type AlarmEventRow } from '../../lib/notify/index.ts';
import { dedupe, WebhookReceiver } from './receivers.ts';
import { cliArgs } from '../helpers/cli.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const T0 = Date.parse('2024-03-01T10:00:00Z');
const N = 120;
const TRIALS = 12;

function drain(config: string, cli = false): { child: ChildProcess; exited: Promise<number | null> } {
  const args = cli ? cliArgs('notify', 'drain', '--config', config) : ['--import', 'tsx', join(ROOT, 'test/notify/drain-child.ts'), config];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.resume();
  child.stderr?.resume();
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited };
}

test(`SIGKILL of the delivering process mid-delivery (${TRIALS} trials) loses no notification; copies at most one per kill`, { timeout: 170_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-notify-kill-'));
  const rx = await WebhookReceiver.start();
  rx.delayMs = 15; // a request stays open long enough to be killed in the middle of it
  try {
    const config = join(dir, 'notify.yaml');
    await writeFile(config, `outbox: outbox\nretry: { initial: 20ms, max: 100ms }\nchannels:\n  hook: { type: webhook, url: '${rx.url}' }\n`);
    const rows: AlarmEventRow[] = Array.from({ length: N }, (_, i) => ({
      ts: T0 + i * 10_000, source: 'motor-current-high', kind: 'alarm', asset: `motor-${i % 5}`, signal: 'current', severity: 'warning',
      from: T0 + i * 10_000 - 30_000, message: JSON.stringify({ state: 'active', value: 41 + (i % 7), limit: 40, rule: 'motor-current-high' }),
    }));
    const producer = await createOutbox({ dir: join(dir, 'outbox'), channels: { hook: { type: 'webhook', url: rx.url } } });
    for (const r of rows) await producer.enqueue(r);
    await producer.close();

    let kills = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const before = rx.received.length;
      const { child, exited } = drain(config);
      // Even trials: kill while a POST is open at the receiver (sent, not yet acknowledged).
      // Odd trials: kill a few ms after an acknowledgement, around the rename to done/.
      const nth = 1 + (trial % 4);
      let arrivals = 0;
      const killed = new Promise<void>((res) => {
        rx.onRequest = () => {
          if (++arrivals !== nth) return;
          const kill = () => {
            child.kill('SIGKILL');
            res();
          };
          if (trial % 2 === 0) kill();
          else setTimeout(kill, rx.delayMs + (trial % 3) * 2);
        };
      });
      const code = await Promise.race([exited, killed.then(() => exited)]);
      rx.onRequest = undefined;
      if (code === null) kills++;
      assert.ok(rx.received.length >= before, 'the receiver only gains');
    }
    assert.ok(kills >= 10, `at least 10 kills mid-delivery, got ${kills}`);
    assert.ok(rx.received.length < N, 'the kills interrupted the drain before it finished');
    // A last drain, left alone and through the CLI, finishes the backlog.
    const last = drain(config, true);
    assert.equal(await last.exited, 0);
    const want = rows.map((r) => alarmToNotification(r).key);
    const { unique, copies } = dedupe(rx.received.map((r) => r.key));
    assert.deepEqual(unique, want, 'every key arrived, first copies in enqueue order');
    t.diagnostic(`${kills} kills, ${copies} deliveries of ${N} keys (${copies - N} duplicates, dropped by key at the receiver)`);
    assert.ok(copies - N <= kills, `at most one extra copy per kill: ${copies - N} extra after ${kills} kills`);
    assert.deepEqual(await outboxStatus(join(dir, 'outbox')), { hook: { pending: 0, delivered: N, dead: 0, attempts: 0 } });
  } finally {
    rx.onRequest = undefined;
    await rx.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
