import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as aq from 'arquero';
import { summarizeFeatures, summarizeFeature } from '../../lib/model/index.ts';

const xs = [3.1, 1.2, 8.5, 4.4, 2.2, 9.9, 5.0, 7.3, 6.6, 0.5];

test('numeric baseline matches numpy (quantiles type 7, ddof=1 std, 10-bin histogram)', () => {
  const t = aq.table({ x: [...xs, null, Number.NaN], mode: ['a', 'b', 'a', 'a', 'c', 'a', 'b', 'a', 'a', 'a', null, 'b'] });
  const [x, mode] = summarizeFeatures(t);
  assert.equal(x!.kind, 'numeric');
  assert.equal(x!.count, 10);
  assert.equal(x!.missing, 2);
  const num = x!.numeric!;
  // Reference values computed with numpy 1.x on the same 10 numbers.
  const expected = { p01: 0.563, p05: 0.815, p25: 2.425, p50: 4.7, p75: 7.125, p95: 9.27, p99: 9.774 };
  for (const [k, v] of Object.entries(expected)) assert.ok(Math.abs(num.quantiles[k]! - v) < 1e-9, `${k}: ${num.quantiles[k]} vs ${v}`);
  assert.ok(Math.abs(num.mean - 4.87) < 1e-12);
  assert.ok(Math.abs(num.std - 3.170015772831422) < 1e-12);
  assert.equal(num.min, 0.5);
  assert.equal(num.max, 9.9);
  assert.deepEqual(num.histogram.counts, [2, 1, 1, 0, 2, 0, 1, 1, 1, 1]);
  assert.equal(num.histogram.edges.length, 11);
  assert.equal(num.histogram.edges[10], 9.9);
  assert.equal(mode!.kind, 'categorical');
  assert.equal(mode!.missing, 1);
  assert.deepEqual(mode!.categorical!.counts, { a: 7, b: 3, c: 1 });
});

test('histogram bins: auto picks Freedman-Diaconis within [10, 50]; explicit bins honoured; constant column has one bin', () => {
  const normalish = Array.from({ length: 20000 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 % 1);
  const auto = summarizeFeature('v', normalish).numeric!.histogram;
  assert.ok(auto.counts.length >= 10 && auto.counts.length <= 50, `bins ${auto.counts.length}`);
  assert.equal(auto.counts.reduce((a, b) => a + b, 0), 20000);
  assert.equal(summarizeFeature('v', normalish, { bins: 7 }).numeric!.histogram.counts.length, 7);
  const constant = summarizeFeature('c', [5, 5, 5]).numeric!;
  assert.deepEqual(constant.histogram, { edges: [5, 5], counts: [3] });
  assert.equal(constant.std, 0);
});

test('columns/exclude options, all-missing column, categorical cap and bad column name', () => {
  const t = aq.table({ a: [1, 2, 3], b: [null, null, null], y: [0, 1, 0] });
  const out = summarizeFeatures(t, { exclude: ['y'] });
  assert.deepEqual(out.map((b) => b.name), ['a', 'b']);
  assert.equal(out[1]!.count, 0);
  assert.equal(out[1]!.missing, 3);
  assert.equal(out[1]!.numeric, undefined);
  const cats = summarizeFeature('s', ['x', 'y', 'y', 'z', 'z', 'z'], { maxCategories: 2 });
  assert.deepEqual(cats.categorical!.counts, { z: 3, y: 2, '(other)': 1 });
  assert.throws(() => summarizeFeatures(t, { columns: ['nope'] }), /column "nope" is not in the table/);
});
