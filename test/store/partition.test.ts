import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { validatePartitionValue, writeReadings } from '../../lib/store/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { tempDir } from './fixtures.ts';

const badSites: [string, unknown, RegExp][] = [
  ['empty', '', /it is empty/],
  ['whitespace only', '   ', /only whitespace/],
  ['dot', '.', /relative path segment/],
  ['dot-dot', '..', /relative path segment/],
  ['dot-dot inside', 'a..b', /contains "\.\."/],
  ['slash', 'a/b', /contains "\/"/],
  ['traversal', '../../etc', /"\.\."/],
  ['absolute', '/etc', /contains "\/"/],
  ['backslash', 'a\\b', /contains "\\"/],
  ['newline', 'a\nb', /control character/],
  ['NUL', 'a\u0000b', /control character/],
  ['DEL', 'a\u007fb', /control character/],
  ['C1 control', 'a\u0085b', /control character/],
  ['equals', 'a=b', /contains "="/],
  ['percent', 'a%2Fb', /contains "%"/],
  ['too long', 'x'.repeat(201), /longer than 200/],
  ['not a string', 42, /must be a string/],
  ['null', null, /must be a string, got null/],
];

for (const [name, value, why] of badSites) {
  test(`validatePartitionValue refuses a site that is ${name}`, () => {
    assert.throws(
      () => validatePartitionValue('site', value),
      (err: unknown) => isErrorCode(err, 'BAD_INPUT') && why.test(err.message) && /expected a non-empty name/.test(err.message),
    );
  });
}

test('validatePartitionValue accepts ordinary site names and real dates', () => {
  for (const s of ['plant-1', 'Plant_A', 'site.7', 'München', '101']) assert.equal(validatePartitionValue('site', s), s);
  assert.equal(validatePartitionValue('date', '2024-02-29'), '2024-02-29');
});

for (const bad of ['2024-02-30', '2023-02-29', '2024-13-01', '20240301', '2024-3-1', '2024-03-01T00:00', '']) {
  test(`validatePartitionValue refuses date ${JSON.stringify(bad)}`, () => {
    assert.throws(
      () => validatePartitionValue('date', bad),
      (err: unknown) => isErrorCode(err, 'BAD_INPUT') && /expected a UTC date as YYYY-MM-DD/.test(err.message),
    );
  });
}

test('writeReadings refuses a traversal site, writes nothing inside or outside the root', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const root = join(dir, 'store');
    const batch = {
      ts: Float64Array.of(Date.UTC(2024, 2, 1), Date.UTC(2024, 2, 1, 1)),
      site: ['plant-1', '../escape'],
      asset: ['m1', 'm1'],
      signal: ['t', 't'],
      value: Float64Array.of(1, 2),
    };
    await assert.rejects(writeReadings(root, batch), (err: unknown) => isErrorCode(err, 'BAD_INPUT') && /"\.\.\/escape"/.test(err.message));
    assert.deepEqual(await readdir(dir), [], 'neither the root nor an escaped directory was created');
  } finally {
    await cleanup();
  }
});

test('writeReadings refuses malformed batches with a reason', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const ok = { ts: Float64Array.of(Date.UTC(2024, 2, 1)), site: ['p'], asset: ['a'], signal: ['s'], value: Float64Array.of(1) };
    const cases: [string, object, RegExp][] = [
      ['length mismatch', { ...ok, asset: ['a', 'b'] }, /"asset" has 2 entries, expected 1/],
      ['NaN ts', { ...ok, ts: Float64Array.of(NaN) }, /ts NaN is not epoch milliseconds/],
      ['microseconds', { ...ok, ts: Float64Array.of(Date.UTC(2024, 2, 1) * 1000) }, /not epoch milliseconds/],
      ['empty asset', { ...ok, asset: [''] }, /asset must be a non-empty string/],
      ['signal not a string', { ...ok, signal: [7] }, /signal must be a non-empty string/],
      ['quality length', { ...ok, quality: new Uint8Array(3) }, /"quality" has 3 entries/],
    ];
    for (const [name, batch, why] of cases) {
      await assert.rejects(writeReadings(dir, batch as never), (err: unknown) => isErrorCode(err, 'BAD_INPUT') && why.test(err.message), name);
    }
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await cleanup();
  }
});
