import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fitForest } from '../../lib/algorithms/forest/forest.ts';
import { forestCover } from '../../lib/algorithms/forest/tree-cover.ts';
import { forestShap, meanAbsShap } from '../../lib/algorithms/forest/tree-shap.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';
import { attributionAnalysis, attributionNdcg, checkAttributionDrift } from '../../reports/metrics/attribution-drift.ts';
import { driftReport } from '../../reports/presets.ts';

test('nDCG equals scikit-learn ndcg_score (baseline attributions as relevance, live as scores) on random rankings without ties', () => {
  const rng = mulberry32(4);
  const cases = Array.from({ length: 30 }, () => {
    const F = 3 + Math.floor(rng() * 18);
    return { base: Array.from({ length: F }, () => rng() * 10), live: Array.from({ length: F }, () => rng() * 10) };
  });
  const py = spawnSync('/usr/bin/python3', ['-c', 'import json,sys\nfrom sklearn.metrics import ndcg_score\nfor c in json.load(sys.stdin): print(repr(float(ndcg_score([c["base"]],[c["live"]]))))'], { input: JSON.stringify(cases), encoding: 'utf8' });
  assert.equal(py.status, 0, `python3 with scikit-learn is the reference: ${py.stderr}`);
  const want = py.stdout.trim().split('\n').map(Number);
  cases.forEach((c, i) => {
    const names = c.base.map((_, f) => `f${f}`);
    const got = attributionNdcg(Object.fromEntries(names.map((n, f) => [n, c.base[f]!])), Object.fromEntries(names.map((n, f) => [n, c.live[f]!])));
    assert.ok(Math.abs(got - want[i]!) < 1e-12, `case ${i}: ${got} vs sklearn ${want[i]}`);
  });
  assert.equal(attributionNdcg({ a: 3, b: 2, c: 1 }, { a: 30, b: 20, c: 10 }), 1);
});

function data(n: number, seed: number, freeze: number | undefined): { X: Float32Array; y: Float64Array } {
  const rng = mulberry32(seed);
  const F = 6;
  const X = new Float32Array(n * F);
  const y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < F; f++) X[r * F + f] = f === freeze ? 0.5 : rng();
    y[r] = 12 * X[r * F]! + 6 * X[r * F + 1]! + 3 * X[r * F + 2]! + X[r * F + 3]! + 0.3 * rng();
  }
  return { X, y };
}

test('attribution drift: same process keeps the ranking (no violation); the top driver frozen by a stuck sensor is a violation in the drift report', () => {
  const n = 3000;
  const F = 6;
  const train = data(n, 1, undefined);
  const Xc = new Float32Array(n * F);
  for (let r = 0; r < n; r++) for (let f = 0; f < F; f++) Xc[f * n + r] = train.X[r * F + f]!;
  const opts = { nEstimators: 20, maxDepth: 8, minSamplesLeaf: 5, maxFeatures: F, maxSamples: 1, bins: 255, seed: 2 };
  const forest = fitForest(Xc, n, F, { kind: 'regression', y: train.y }, opts);
  const cover = forestCover(forest, Xc, n, opts);
  const names = ['x0', 'x1', 'x2', 'x3', 'x4', 'x5'];
  const analysis = (X: Float32Array, rows: number) => {
    const shap = forestShap(forest, cover, X, rows);
    const imp = meanAbsShap(shap);
    return attributionAnalysis({ prediction: Object.fromEntries(names.map((nm, f) => [nm, imp[f]!])) }, { prediction: shap.base[0]! });
  };
  const baseline = analysis(train.X.subarray(0, 500 * F), 500);
  const same = analysis(data(500, 7, undefined).X, 500);
  const stuck = analysis(data(500, 8, 0).X, 500);
  assert.deepEqual(checkAttributionDrift(baseline, same), []);
  const v = checkAttributionDrift(baseline, stuck);
  assert.equal(v.length, 1);
  assert.equal(v[0]!.constraint_check_type, 'feature_attribution_drift_check');
  assert.equal(v[0]!.label, 'prediction');
  const score = attributionNdcg(baseline.explanations.tree_shap.prediction!.global_shap_values, stuck.explanations.tree_shap.prediction!.global_shap_values);
  assert.ok(score < 0.9, `stuck x0: nDCG ${score}`);
  // threshold edge: exactly at the threshold passes ("below 0.9" is the violation)
  assert.deepEqual(checkAttributionDrift(baseline, stuck, score), []);

  const table = { x0: [1, 2, 3] };
  const report = driftReport(table, table, { attributions: { baseline, current: stuck }, multivariate: false });
  const check = report.checks.find((c) => c.name === 'feature attribution drift')!;
  assert.equal(check.status, 'warn');
  assert.match(check.reason, /prediction: nDCG 0\.\d+ < 0\.9/);
  const okReport = driftReport(table, table, { attributions: { baseline, current: same }, multivariate: false });
  assert.equal(okReport.checks.find((c) => c.name === 'feature attribution drift')!.status, 'pass');
});
