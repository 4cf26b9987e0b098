import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantileSorted } from '../../lib/stats/index.ts';

test('quantileSorted: numpy linear interpolation, exact ends, NaN for no values, arrays and typed arrays alike', () => {
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
  assert.equal(quantileSorted(Float64Array.of(1, 2, 3, 4), 1), 4);
  assert.equal(quantileSorted(Float64Array.of(1, 2, 3, 4).subarray(1, 3), 0.5), 2.5);
  assert.equal(quantileSorted([7], 0.9), 7);
  assert.ok(Number.isNaN(quantileSorted([], 0.5)));
  assert.ok(Number.isNaN(quantileSorted(new Float64Array(0), 0)));
  // The ends are the values themselves, not value + 0 * (a difference), which an infinite end would turn into NaN.
  assert.equal(quantileSorted([0, Infinity], 1), Infinity);
});
