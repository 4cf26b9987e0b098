import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertSnapshot } from '../helpers/snapshot.ts';

function withEnv(env: Record<string, string | undefined>, fn: () => void): void {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try {
    fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

test('snapshot helper: a missing golden file fails under CI and is not written', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-snap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.svg');
  withEnv({ CI: 'true', UPDATE_SNAPSHOTS: undefined }, () => {
    assert.throws(() => assertSnapshot(file, '<svg/>'), /a\.svg is missing; under CI it is not written/);
  });
  assert.equal(existsSync(file), false);
});

test('snapshot helper: a missing golden file is written outside CI', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-snap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.svg');
  withEnv({ CI: undefined, UPDATE_SNAPSHOTS: undefined }, () => assertSnapshot(file, '<svg/>'));
  assert.equal(readFileSync(file, 'utf8'), '<svg/>');
});

test('snapshot helper: a mismatch writes <name>-changed.<ext> and fails naming both files', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-snap-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'a.svg');
  const changed = join(dir, 'a-changed.svg');
  writeFileSync(file, '<svg/>');
  withEnv({ CI: 'true', UPDATE_SNAPSHOTS: undefined }, () => {
    assert.throws(
      () => assertSnapshot(file, '<svg width="1"/>'),
      (e: Error) => e.message.includes(changed) && e.message.includes(file),
    );
    assert.equal(readFileSync(changed, 'utf8'), '<svg width="1"/>');
    assert.equal(readFileSync(file, 'utf8'), '<svg/>', 'the golden file is untouched');
    assertSnapshot(file, '<svg/>');
  });
  assert.equal(existsSync(changed), false, 'a match removes the stale -changed file');
});
