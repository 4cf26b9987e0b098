import { test } from 'node:test';
import assert from 'node:assert/strict';
import { f } from '../../reports/render/sections.ts';

test('report numbers keep their whole-number part (6010.2 kWh is never shown as 601)', () => {
  assert.equal(f(6010.238), '6,010');
  assert.equal(f(5999.7), '6,000');
  assert.equal(f(12345.6), '12,346');
  assert.equal(f(-6010.2), '-6,010');
  assert.equal(f(126.94), '126.9');
  assert.equal(f(10.5), '10.5');
  assert.equal(f(0.00123), '0.00123');
  assert.equal(f(2e7), '2.00e+7');
  assert.equal(f(null), '–');
});
