import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../cli/main.ts';
import { sql } from '../../lib/store/index.ts';
import { captureIO } from '../helpers/io.ts';
import { energyFixture, GROUP, START, HOUR } from './helpers/energy-fixture.ts';

test('millwright predict --once runs the due slot into the predictions view; bad flags are usage errors', async (t) => {
  const fx = await energyFixture();
  t.after(fx.cleanup);
  // The CLI runs on the real clock: the slot due now lies after the fixture's data, so it is marked no-input and reported.
  const io = captureIO();
  const code = await main(['predict', '--group', GROUP, '--registry', fx.registry, '--store', fx.store, '--site', 'plant-a', '--every', '2h', '--window', '6h', '--horizon', '2h', '--once'], io);
  assert.equal(code, 0, io.stderr);
  const line = JSON.parse(io.stdout.trim().split('\n')[0]!) as { status: string; modelVersion: string; slot: string };
  assert.equal(line.status, 'no-input');
  assert.equal(line.modelVersion, '1');
  assert.equal(Date.parse(line.slot) % (2 * HOUR), 0);
  assert.ok(Date.parse(line.slot) > START);
  assert.equal((await sql('SELECT count(*) AS n FROM predictions', { root: fx.store })).rows[0]!.n, 0);
  // Run again: the slot is in the ledger, nothing runs.
  const again = captureIO();
  assert.equal(await main(['predict', '--group', GROUP, '--registry', fx.registry, '--store', fx.store, '--site', 'plant-a', '--every', '2h', '--window', '6h', '--horizon', '2h', '--once'], again), 0);
  assert.equal(again.stdout, '');
  const bad = captureIO();
  assert.equal(await main(['predict', '--group', GROUP, '--site', 'a', '--window', '6h', '--horizon', '2h'], bad), 2);
  assert.match(bad.stderr, /exactly one of --every/);
});
