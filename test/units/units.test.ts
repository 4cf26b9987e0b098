import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseSize } from '../../lib/units/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';

test('parseDuration: one grammar, units ms s m|min h d in any case, fractions, numbers are ms', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration(' 1.5s '), 1500);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('10min'), 600_000);
  assert.equal(parseDuration('2H'), 7_200_000);
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration(250), 250);
  assert.equal(parseDuration('0s'), 0);
});

test('parseDuration: what a bare number means is the caller\'s explicit choice', () => {
  assert.equal(parseDuration('30', { bareNumber: 's' }), 30_000);
  assert.equal(parseDuration('30', { bareNumber: 'ms' }), 30);
  assert.throws(() => parseDuration('30', { what: 'maxGap' }), /^MillwrightError: maxGap: "30" is not a duration \(expected e\.g\. "500ms", "10s", "1m", "1h", "1d"; must be >= 0\)$/);
  assert.throws(() => parseDuration('30'), (e: unknown) => isErrorCode(e, 'BAD_INPUT'));
});

test('parseDuration: range, whole-ms and error code options; messages name the key and what was expected', () => {
  const flag = { what: '--timeout', bareNumber: 's', positive: true, whole: 'round', code: 'USAGE' } as const;
  assert.equal(parseDuration('0.0015s', flag), 2);
  assert.throws(() => parseDuration('0', flag), (e: unknown) => isErrorCode(e, 'USAGE') && e.message === '--timeout: "0" is not a duration (expected e.g. "500ms", "10s", "1m", "1h", "1d"; a bare number is seconds; must be greater than zero)');
  const bucket = { what: 'every', positive: true, whole: 'require' } as const;
  assert.equal(parseDuration('1.5s', bucket), 1500);
  for (const bad of ['1.5ms', 0, 0.5, '0s', '-1m', '1w', '', 'm', Number.NaN, Infinity]) {
    assert.throws(() => parseDuration(bad, bucket), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /^every: .* is not a duration \(.*whole number of milliseconds >= 1\)$/.test(e.message), String(bad));
  }
  assert.throws(() => parseDuration(-1), /duration: -1 is not a duration/);
});

test('parseSize: binary units, bare bytes, rounded, > 0', () => {
  assert.equal(parseSize('6mb'), 6 * 1024 ** 2);
  assert.equal(parseSize('512K'), 512 * 1024);
  assert.equal(parseSize('1gb'), 1024 ** 3);
  assert.equal(parseSize('100'), 100);
  assert.throws(() => parseSize('lots', { what: '--max-body' }), (e: unknown) => isErrorCode(e, 'USAGE') && /^--max-body: "lots" is not a size; expected e\.g\. 6mb, 512kb$/.test(e.message));
  assert.throws(() => parseSize('0', { what: '--max-body' }), /--max-body: must be greater than zero/);
});
