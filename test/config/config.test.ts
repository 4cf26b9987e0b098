// The one configuration table and reader: docs/configuration.md in step with it, one rule for
// empty values everywhere, and a relative MILLWRIGHT_DATA_DIR that fails with a fixable message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CONFIG_VARS, configurationMarkdown, dataDir, firstEnv, mlBase, processStartDir, readEnv, registryDir, servedModelDir, spoolDir, storeRoot, type ConfigVar } from '../../lib/config/index.ts';
import { resolveRegistry } from '../../lib/model/registry.ts';
import { resolveDataDir } from '../../datasets/data-dir.ts';
import { isErrorCode } from '../../lib/errors/index.ts';

test('every variable has what it sets, a default and who reads it', () => {
  for (const name of Object.keys(CONFIG_VARS) as ConfigVar[]) {
    assert.match(name, /^(MILLWRIGHT|SM|SAGEMAKER|MODEL_SERVER)_[A-Z_]+$/);
    const v = CONFIG_VARS[name];
    for (const field of ['sets', 'default', 'readBy'] as const) assert.ok(v[field].length > 0, `${name}.${field}`);
  }
});

test('docs/configuration.md is generated from the table (run npm run docs:tables after changing it)', async () => {
  const onDisk = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  assert.equal(onDisk, configurationMarkdown(), 'docs/configuration.md is out of date: run npm run docs:tables');
});

test('one rule: an empty value is unset, for every resolver', () => {
  const empty = Object.fromEntries(Object.keys(CONFIG_VARS).map((k) => [k, '']));
  assert.equal(readEnv('MILLWRIGHT_STORE', empty), undefined);
  assert.equal(firstEnv(['SAGEMAKER_BIND_TO_PORT', 'MILLWRIGHT_PORT'], { SAGEMAKER_BIND_TO_PORT: '', MILLWRIGHT_PORT: '9000' })?.name, 'MILLWRIGHT_PORT');
  assert.equal(storeRoot(undefined, empty, '/w'), '/w/.millwright/store');
  assert.equal(spoolDir(undefined, empty, '/w'), '/w/.millwright/spool');
  assert.equal(registryDir(undefined, empty, '/w'), '/w/.millwright/registry');
  assert.equal(mlBase(undefined, empty, '/w'), '/opt/ml');
  assert.equal(servedModelDir(undefined, empty, '/w'), '/opt/ml/model');
  // The library's public resolvers read through the same rule.
  assert.equal(resolveRegistry({ env: empty, cwd: '/w' }), '/w/.millwright/registry');
  assert.equal(spoolDir(undefined, empty, '/w'), '/w/.millwright/spool');
  assert.equal(mlBase(undefined, { MILLWRIGHT_ML_BASE: 'ml', SM_BASE: '' }, '/w'), '/w/ml');
  // Flags win over the environment; set values are used as given.
  assert.equal(storeRoot('s', { MILLWRIGHT_STORE: '/elsewhere' }, '/w'), '/w/s');
  assert.equal(storeRoot(undefined, { MILLWRIGHT_STORE: '/data/store' }, '/w'), '/data/store');
});

test('a relative data dir resolves against the start directory; a missing one names the variable, the value and the path tried', async () => {
  const start = processStartDir();
  const dir = await mkdtemp(join(tmpdir(), 'mw-config-'));
  try {
    assert.equal(dataDir(dir), dir);
    const chdirBack = process.cwd();
    process.chdir(dir);
    try {
      // Captured once: changing directory later does not move a relative setting.
      assert.equal(processStartDir(), start);
      assert.equal(resolveDataDir('.', {}), start);
    } finally {
      process.chdir(chdirBack);
    }
    const value = '../no-such-shared/datasets';
    assert.throws(
      () => resolveDataDir(undefined, { MILLWRIGHT_DATA_DIR: value }),
      (err: unknown) =>
        isErrorCode(err, 'NOT_FOUND') &&
        err.message.includes(`MILLWRIGHT_DATA_DIR="${value}"`) &&
        err.message.includes(resolve(start, value)) &&
        /absolute path/.test(err.message),
    );
    assert.throws(() => resolveDataDir(undefined, { MILLWRIGHT_DATA_DIR: '' }), /no data directory/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
