import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main, allCommands, commandsByModule, COMMAND_MODULES } from '../../cli/main.ts';
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

test('every command is listed under the module that defines it, so `millwright NAME` loads only that module', async () => {
  const found: Record<string, string> = {};
  for (const [module, list] of Object.entries(await commandsByModule())) for (const c of list) found[c.name] = module;
  assert.deepEqual(found, COMMAND_MODULES);
});

test('every command answers --help with its usage and exit 0', async () => {
  for (const c of await allCommands()) {
    const io = captureIO();
    assert.equal(await main([c.name, '--help'], io), 0, c.name);
    assert.ok(io.stdout.includes('millwright'), `${c.name} usage mentions millwright`);
    // Its own usage, not the overview: starts with the command line, names its flags.
    assert.ok(io.stdout.startsWith(`millwright ${c.name}`), `${c.name} --help starts with "millwright ${c.name}": ${io.stdout.slice(0, 80)}`);
    assert.equal(io.stdout.trimEnd(), c.usage.trimEnd(), `${c.name} --help prints its usage`);
    assert.doesNotMatch(io.stdout, /Usage: millwright <command>/, `${c.name} --help is not the overview`);
    const flags = c.usage.match(/--[a-z][a-z-]*/g) ?? [];
    assert.ok(flags.length > 0, `${c.name} usage documents its flags`);
    for (const flag of flags) assert.ok(io.stdout.includes(flag), `${c.name} --help mentions ${flag}`);
    assert.equal(io.stderr, '', `${c.name} --help writes nothing to stderr`);
  }
});

test('--version prints the package version', async () => {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  const io = captureIO();
  assert.equal(await main(['--version'], io), 0);
  assert.equal(io.stdout, `${pkg.version}\n`);
});
