import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sortedFinite, valueSort } from '../../reports/stats/sort.ts';
import { ksAndWasserstein, wasserstein, histogramSorted, searchSorted } from '../../reports/stats/distances.ts';
import { ksStatistic } from '../../reports/stats/ks.ts';
import { meanStd, distinctSorted, warmSortedStats } from '../../reports/data.ts';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
}

// Shapes that take each path of valueSort: spread values (counting passes + insertion), few
// distinct values, heavy tails and lone outliers (radix fallback), and extreme ranges.
const shapes: Record<string, (u: () => number) => number> = {
  bimodal: (u) => (u() < 0.7 ? 50 : 10) + Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()),
  integers: (u) => Math.floor(u() * 100) - 50,
  binary: (u) => (u() < 0.5 ? 0 : 1),
  heavyTail: (u) => (u() - 0.5) / u() ** 3,
  outlier: (u) => (u() < 1e-4 ? 1e300 : u()),
  fullRange: (u) => (u() - 0.5) * 1.7e308 * 2,
  negative: (u) => -1e-300 * u(),
};

test('valueSort and sortedFinite order large columns exactly like Float64Array#sort', () => {
  const n = 120_000;
  for (const [name, gen] of Object.entries(shapes)) {
    const u = lcg(name.length * 7919);
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = gen(u);
    const expected = a.slice().sort();
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of a) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const viaValue = valueSort(a.slice(), lo, hi);
    // -0 and +0 are equal values; compare with === so either order passes.
    for (let i = 0; i < n; i++) assert.ok(viaValue[i] === expected[i], `${name}: valueSort differs at ${i}`);
    const withMissing = a.slice();
    withMissing[5] = Number.NaN;
    withMissing[6] = Infinity;
    const sorted = sortedFinite(withMissing);
    assert.equal(sorted.length, n - 2, name);
    for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i - 1]! <= sorted[i]!, `${name}: sortedFinite not ascending at ${i}`);
  }
});

test('the fused KS + Wasserstein merge and the binned histogram agree with the plain walks', () => {
  const u = lcg(42);
  for (const [n, m, ties] of [[2000, 3000, false], [5000, 5000, true], [1, 700, true]] as const) {
    const a = new Float64Array(n);
    const b = new Float64Array(m);
    for (let i = 0; i < n; i++) a[i] = ties ? Math.round(u() * 20) : u() * 10;
    for (let i = 0; i < m; i++) b[i] = ties ? Math.round(u() * 22) - 1 : u() * 11 - 0.5;
    a.sort();
    b.sort();
    const fused = ksAndWasserstein(a, b);
    // Bit-identical, not just close: the report figures must not move.
    assert.equal(fused.ks, ksStatistic(a, b));
    assert.equal(fused.wasserstein, wasserstein(a, b));
    const edges = [-0.5, 2, 2, 5, 7.25, 10, 21];
    const counts = histogramSorted(b, edges);
    const walk = edges.slice(0, -1).map((e, k) => b.filter((x) => x >= e && (x < edges[k + 1]! || (k === edges.length - 2 && x === edges[k + 1]!))).length);
    assert.deepEqual(Array.from(counts), walk);
  }
  const s = Float64Array.of(1, 2, 2, 3);
  assert.deepEqual([searchSorted(s, 2, 'left'), searchSorted(s, 2, 'right'), searchSorted(s, 0, 'left'), searchSorted(s, 9, 'right')], [1, 3, 0, 4]);
});

test('moments computed two columns at a time are bit-identical to one column at a time', () => {
  const u = lcg(9);
  const cols = [1000, 1003, 999, 5].map((n) => {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.round(u() * 50) / 3 - 4;
    return a.sort();
  });
  const alone = cols.map((a) => {
    const c = a.slice();
    return { ...meanStd(c), distinct: distinctSorted(c) };
  });
  warmSortedStats(cols);
  cols.forEach((a, i) => {
    const together = { ...meanStd(a), distinct: distinctSorted(a) };
    for (const k of ['mean', 'std', 'sum', 'distinct'] as const) assert.ok(Object.is(together[k], alone[i]![k]), `column ${i} ${k}: ${together[k]} vs ${alone[i]![k]}`);
  });
  assert.equal(alone[0]!.distinct, new Set(cols[0]).size);
});
