import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main, commands } from '../../cli/main.ts';
import { captureIO } from '../helpers/io.ts';

test('no command prints the overview and exits 2 (usage)', async () => {
  const io = captureIO();
  assert.equal(await main([], io), 2);
  assert.match(io.stdout, /Usage: millwright <command>/);
});

test('unknown command is a usage error naming the command', async () => {
  const io = captureIO();
  assert.equal(await main(['frobnicate'], io), 2);
  assert.match(io.stderr, /unknown command "frobnicate"/);
});

test('every command answers --help with its usage and exit 0', async () => {
  for (const c of commands) {
    const io = captureIO();
    assert.equal(await main([c.name, '--help'], io), 0, c.name);
    assert.ok(io.stdout.includes('millwright'), `${c.name} usage mentions millwright`);
  }
});
