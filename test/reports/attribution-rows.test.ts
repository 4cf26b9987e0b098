import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultAttributionRows, ATTRIBUTION_MIN_ROWS, ATTRIBUTION_SAMPLE_ROWS, ATTRIBUTION_STEP_BUDGET } from '../../reports/index.ts';

test('default attribution rows follow the model size: the step budget, between the floor and the cap', () => {
  assert.equal(ATTRIBUTION_SAMPLE_ROWS, 2000);
  assert.equal(ATTRIBUTION_MIN_ROWS, 48);
  // a small forest (20 trees of depth 6: ~7.7e3 steps a row) is capped at 2000
  assert.equal(defaultAttributionRows(7_680), 2000);
  // 50 trees of depth 8 (~1e5 steps a row): the budget decides
  assert.equal(defaultAttributionRows(99_820), Math.floor(ATTRIBUTION_STEP_BUDGET / 99_820));
  assert.equal(defaultAttributionRows(99_820), 300);
  // 100 trees of depth 10 (~7.2e5 steps a row) would get 41: the floor of two an hour holds
  assert.equal(defaultAttributionRows(724_400), 48);
  // no trees (or a model with no steps): the cap
  assert.equal(defaultAttributionRows(0), 2000);
  assert.equal(defaultAttributionRows(Number.NaN), 2000);
});
