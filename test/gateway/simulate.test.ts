import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { WindowPollClient } from '../../lib/gateway/index.ts';
import { waitFor } from './helpers.ts';
import { runCli } from '../helpers/io.ts';
import { cliArgs } from '../helpers/cli.ts';

test('millwright gateway simulate window-poll serves the protocol until SIGTERM', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, cliArgs('gateway', 'simulate', 'window-poll', '--port', '0', '--window', '2s', '--tags', '4,5', '--period', '10ms'), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    await waitFor('the simulator to listen', () => /window-poll simulator on 127\.0\.0\.1:\d+/.test(err), 30_000);
    assert.match(err, /tags 4, 5, one reading every 10 ms, keeps 2000 ms/);
    const port = Number(/127\.0\.0\.1:(\d+)/.exec(err)![1]);
    const client = new WindowPollClient('127.0.0.1', port, 5000);
    await client.connect();
    const info = await client.info();
    assert.equal(info.windowMs, 2000);
    assert.deepEqual(info.tags, [4, 5]);
    await new Promise((r) => setTimeout(r, 300));
    const data = await client.read([4, 5, 6]);
    assert.equal(data.heldAfter, data.deviceNow - 2000);
    assert.ok(data.tags[0].readings.length >= 10, `${data.tags[0].readings.length} readings after 300 ms`);
    assert.ok(data.tags[0].readings.every((r, i, a) => r.ts % 10 === 0 && r.ts > data.heldAfter && (i === 0 || r.ts === a[i - 1].ts + 10)));
    assert.equal(data.tags[2].status, 1, 'tag 6 is unknown');
    client.close();
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0);
  const bad = await runCli(['gateway', 'simulate', 'modbus'], process.cwd());
  assert.equal(bad.code, 2);
  assert.match(bad.err, /expected "window-poll"/);
});
