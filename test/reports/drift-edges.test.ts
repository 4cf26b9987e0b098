import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { driftReport } from '../../reports/presets.ts';
import type { DataDriftResult } from '../../reports/metrics/drift.ts';
import { psi, fillEmptyShares } from '../../reports/stats/distances.ts';

// Written by fixtures/make_drift_edges.py: Evidently's stat-test definitions restated with numpy/scipy.
const fx = JSON.parse(readFileSync(new URL('./fixtures/drift_edges.json', import.meta.url), 'utf8')) as {
  cases: { name: string; ref: number[]; cur: number[]; test: string; wasserstein_norm: number; psi: number; jensenshannon: number; chisquare_p: number | null; ks_p: number; z?: number; z_p?: number; z_p_evidently?: number }[];
};

/** The fixture's column generator, reproduced exactly. */
function column(n: number, seed: number, values: number, scale: number, offset: number): Float64Array {
  let s = BigInt(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245n + 12345n) % 2147483648n;
    out[i] = offset + scale * Number((s >> 8n) % BigInt(values));
  }
  return out;
}

function near(got: number | null | undefined, want: number, what: string): void {
  assert.ok(got !== null && got !== undefined && Math.abs(got - want) <= 1e-13 * Math.max(1, Math.abs(want)), `${what}: millwright ${got}, reference ${want}`);
}

test('the default test per column and every statistic agree with Evidently\'s definitions at the edges (constant, 3/6/20/21 distinct, empty bins)', () => {
  for (const c of fx.cases) {
    const ref = column(c.ref[0]!, c.ref[1]!, c.ref[2]!, c.ref[3]!, c.ref[4]!);
    const cur = column(c.cur[0]!, c.cur[1]!, c.cur[2]!, c.cur[3]!, c.cur[4]!);
    const r = driftReport({ x: cur }, { x: ref }, { multivariate: false });
    const col = (r.metrics[0] as DataDriftResult).columns[0]!;
    assert.equal(col.test, c.test, `${c.name}: test`);
    near(col.psi, c.psi, `${c.name}: psi`);
    near(col.jensenShannon, c.jensenshannon, `${c.name}: jensen-shannon (base 2)`);
    if (col.ks !== null) {
      near(col.wassersteinNormed, c.wasserstein_norm, `${c.name}: wasserstein normed`);
      near(col.ks.pValue, c.ks_p, `${c.name}: ks p`);
    } else if (c.test !== 'ztest') near(col.chiSquare?.pValue, c.chisquare_p!, `${c.name}: chi-square p`);
    if (c.z_p !== undefined) {
      near(col.zTest?.statistic, c.z!, `${c.name}: z`);
      near(col.zTest?.pValue, c.z_p, `${c.name}: z-test p (2 sf|z|)`);
      // Evidently's own 2 (1 - cdf|z|) is the same number up to the rounding of 1 - cdf near 1.
      assert.ok(Math.abs(col.zTest!.pValue - c.z_p_evidently!) <= 1e-15, `${c.name}: ${col.zTest!.pValue} vs Evidently ${c.z_p_evidently}`);
    }
  }
  // The cases cross every switch of the binary rule: 1000 / 1001 reference rows, 1, 2 and 3 values.
  const tests = new Set(fx.cases.map((c) => c.test));
  assert.ok(tests.has('ztest') && tests.has('chisquare') && tests.has('jensenshannon'));
});

test('binary columns: the z-test, not chi-square, decides; a drift chi-square would call is no drift for the two-sample test', () => {
  const c = fx.cases.find((x) => x.name.startsWith('2 distinct, small reference'))!;
  const ref = column(c.ref[0]!, c.ref[1]!, c.ref[2]!, c.ref[3]!, c.ref[4]!);
  const cur = column(c.cur[0]!, c.cur[1]!, c.cur[2]!, c.cur[3]!, c.cur[4]!);
  const col = ((driftReport({ x: cur }, { x: ref }, { multivariate: false }).metrics[0] as DataDriftResult).columns[0])!;
  assert.equal(col.test, 'ztest');
  assert.ok(col.chiSquare!.pValue < 0.05 && col.value! > 0.05 && !col.drifted, `chi-square p ${col.chiSquare!.pValue}, z p ${col.value}`);
  // Categorical strings behave the same as a 0/1 numeric column.
  const s = (a: Float64Array) => Array.from(a, (v) => (v === 0 ? 'open' : 'closed'));
  const cat = ((driftReport({ x: s(cur) }, { x: s(ref) }, { multivariate: false }).metrics[0] as DataDriftResult).columns[0])!;
  assert.equal(cat.test, 'ztest');
  near(cat.value, c.z_p!, 'categorical z p');
  // A p-value exactly at the threshold is no drift, like the other p-value tests.
  const atThreshold = ((driftReport({ x: cur }, { x: ref }, { multivariate: false, thresholds: { ztest: col.value! } }).metrics[0] as DataDriftResult).columns[0])!;
  assert.equal(atThreshold.drifted, false);
});

test('the Wasserstein scale floor is stated in the result, and is what makes a near-constant column unit-dependent', () => {
  const ref = column(1500, 3, 30, 0.00001, 5);
  const cur = column(1500, 4, 30, 0.00001, 5.0004);
  const volts = (driftReport({ x: cur }, { x: ref }, { multivariate: false }).metrics[0] as DataDriftResult).columns[0]!;
  assert.equal(volts.wassersteinFloored, true);
  assert.equal(volts.wassersteinScale, 0.001);
  assert.equal(volts.drifted, true);
  const k = 1000; // the same signal in mV: std above the floor, the verdict is the scale-free one
  const milli = (driftReport({ x: cur.map((v) => v * k) }, { x: ref.map((v) => v * k) }, { multivariate: false }).metrics[0] as DataDriftResult).columns[0]!;
  assert.equal(milli.wassersteinFloored, false);
  assert.ok(milli.wassersteinNormed! > volts.wassersteinNormed!, `${milli.wassersteinNormed} vs ${volts.wassersteinNormed}`);
});

test('PSI empty bins: filled per side as Evidently does; a bin empty on both sides adds nothing', () => {
  assert.deepEqual(fillEmptyShares([5, 0, 5]), [0.5, 1e-4, 0.5]);
  // smallest non-empty share <= 1e-4: the fill is a millionth of it
  const tiny = fillEmptyShares([1, 0, 19999]);
  assert.equal(tiny[1], 5e-5 / 1e6);
  assert.ok(Math.abs(psi([5, 0, 5], [3, 0, 7]) - psi([5, 5], [3, 7])) < 1e-15);
  assert.ok(Math.abs(psi([5, 0, 5], [3, 0, 7], 1e-4) - psi([5, 5], [3, 7])) < 1e-15);
});

test('a p-value exactly at the threshold is not drift (drift is p < threshold); a distance exactly at it is drift (>=)', () => {
  const ref = column(300, 9, 6, 1, 0);
  const cur = column(250, 10, 6, 1, 0);
  const first = (driftReport({ x: cur }, { x: ref }, { multivariate: false }).metrics[0] as DataDriftResult).columns[0]!;
  assert.equal(first.test, 'ks');
  const p = first.ks!.pValue;
  const atP = (driftReport({ x: cur }, { x: ref }, { multivariate: false, thresholds: { ks: p } }).metrics[0] as DataDriftResult).columns[0]!;
  assert.equal(atP.drifted, false);
  const aboveP = (driftReport({ x: cur }, { x: ref }, { multivariate: false, thresholds: { ks: p * (1 + 1e-12) } }).metrics[0] as DataDriftResult).columns[0]!;
  assert.equal(aboveP.drifted, true);
  const w = (driftReport({ x: cur }, { x: ref }, { multivariate: false, numericTest: 'wasserstein' }).metrics[0] as DataDriftResult).columns[0]!;
  const atW = (driftReport({ x: cur }, { x: ref }, { multivariate: false, numericTest: 'wasserstein', thresholds: { wasserstein: w.wassersteinNormed! } }).metrics[0] as DataDriftResult).columns[0]!;
  assert.equal(atW.drifted, true);
});
