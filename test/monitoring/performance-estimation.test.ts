import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toFrame } from '../../reports/data.ts';
import { PerformanceEstimationMetric, isotonicCalibration, clearDleFits, dleFitStats } from '../../reports/metrics/performance-estimation.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 5);

function gauss(rng: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/** Regression: the model predicts the mean exactly; the noise grows with x1, so the error depends on where traffic is. */
function regression(seed: number, chunks: number, perChunk: number, shiftFrom = Infinity) {
  const rng = mulberry32(seed);
  const cols = { capturedAt: [] as number[], x1: [] as number[], x2: [] as number[], prediction: [] as number[], target: [] as number[] };
  for (let c = 0; c < chunks; c++) {
    for (let i = 0; i < perChunk; i++) {
      const x1 = c >= shiftFrom ? 0.6 + 0.4 * rng() : rng();
      const x2 = rng();
      const mean = 10 + 5 * x1 - 3 * x2;
      cols.capturedAt.push(T0 + c * HOUR + Math.floor(rng() * HOUR));
      cols.x1.push(x1);
      cols.x2.push(x2);
      cols.prediction.push(mean);
      cols.target.push(mean + (0.2 + 2 * x1) * gauss(rng));
    }
  }
  return cols;
}

function classification(seed: number, chunks: number, perChunk: number, shiftFrom = Infinity) {
  const rng = mulberry32(seed);
  const cols = { capturedAt: [] as number[], score: [] as number[], prediction: [] as string[], target: [] as string[] };
  for (let c = 0; c < chunks; c++) {
    for (let i = 0; i < perChunk; i++) {
      // After the shift, traffic sits near the decision boundary, where the model is unsure.
      const x = c >= shiftFrom ? 0.4 * gauss(rng) : 1.5 * gauss(rng);
      const p = 1 / (1 + Math.exp(-2 * x));
      const score = 1 / (1 + Math.exp(-x)); // miscalibrated on purpose: CBPE must calibrate it
      cols.capturedAt.push(T0 + c * HOUR + Math.floor(rng() * HOUR));
      cols.score.push(score);
      cols.prediction.push(score >= 0.5 ? '1' : '0');
      cols.target.push(rng() < p ? '1' : '0');
    }
  }
  return cols;
}

function coverage(chunks: { period: string; realised: number | null; lower: number | null; upper: number | null }[]): number {
  const a = chunks.filter((c) => c.period === 'analysis');
  return a.filter((c) => c.realised !== null && c.realised >= c.lower! && c.realised <= c.upper!).length / a.length;
}

test('DLE: realised MAE and RMSE inside the band in >= 90 % of chunks without shift, and no alert', () => {
  const reference = toFrame(regression(1, 24, 300));
  const current = toFrame(regression(2, 40, 300));
  for (const metric of ['mae', 'rmse'] as const) {
    const r = new PerformanceEstimationMetric({ task: 'regression', metric, features: ['x1', 'x2'] }).compute(current, reference);
    assert.equal(r.method, 'DLE');
    assert.equal(r.chunks.filter((c) => c.period === 'analysis').length, 40);
    const cov = coverage(r.chunks);
    assert.ok(cov >= 0.9, `${metric}: realised inside the band in ${(cov * 100).toFixed(0)} % of chunks`);
    assert.ok(r.alerts <= 1, `${metric}: ${r.alerts} alerts on unshifted traffic`);
  }
});

test('DLE: a shift into the region where the model is worse raises the estimate and alerts', () => {
  const reference = toFrame(regression(1, 24, 300));
  const current = toFrame(regression(3, 30, 300, 15));
  const r = new PerformanceEstimationMetric({ task: 'regression', features: ['x1', 'x2'] }).compute(current, reference);
  const a = r.chunks.filter((c) => c.period === 'analysis');
  const before = a.slice(0, 15);
  const after = a.slice(15);
  assert.ok(before.filter((c) => c.alert).length <= 1);
  assert.ok(after.every((c) => c.alert), `alerts after the shift: ${after.filter((c) => c.alert).length} of ${after.length}`);
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  // Realised MAE after the shift is ~1.6 x before; the estimate follows it.
  assert.ok(mean(after.map((c) => c.estimate!)) > 1.4 * mean(before.map((c) => c.estimate!)));
  assert.ok(coverage(r.chunks) >= 0.9, `coverage ${coverage(r.chunks)}`);
  assert.equal(new PerformanceEstimationMetric({ task: 'regression', features: ['x1', 'x2'] }).checks(r)[0]!.status, 'fail');
});

test('CBPE: realised accuracy and F1 inside the band in >= 90 % of chunks; a shift to the boundary lowers the estimate and alerts', () => {
  const reference = toFrame(classification(11, 24, 400));
  const steady = toFrame(classification(12, 40, 400));
  for (const metric of ['accuracy', 'f1'] as const) {
    const r = new PerformanceEstimationMetric({ task: 'classification', metric }).compute(steady, reference);
    assert.equal(r.method, 'CBPE');
    const cov = coverage(r.chunks);
    assert.ok(cov >= 0.9, `${metric}: realised inside the band in ${(cov * 100).toFixed(0)} % of chunks`);
    assert.ok(r.alerts <= 1);
  }
  const shifted = toFrame(classification(13, 30, 400, 15));
  const r = new PerformanceEstimationMetric({ task: 'classification' }).compute(shifted, reference);
  const a = r.chunks.filter((c) => c.period === 'analysis');
  assert.ok(a.slice(15).every((c) => c.alert && c.estimate! < r.thresholds.lower));
  assert.ok(a.slice(0, 15).filter((c) => c.alert).length <= 1);
  assert.ok(coverage(r.chunks) >= 0.9, `coverage after shift ${coverage(r.chunks)}`);
});

test('isotonic calibration is monotone and matches the observed rate of pooled blocks', () => {
  const cal = isotonicCalibration([0.1, 0.2, 0.3, 0.4], [false, true, false, true]);
  assert.equal(cal(0.1), 0);
  assert.equal(cal(0.25), 0.5);
  assert.equal(cal(0.3), 0.5);
  assert.equal(cal(0.9), 1);
});

test('bad input: no reference, too few chunks', () => {
  const m = new PerformanceEstimationMetric({ task: 'regression', features: ['x1', 'x2'] });
  const cur = toFrame(regression(2, 2, 50));
  assert.throws(() => m.compute(cur), /labelled reference/);
  assert.throws(() => m.compute(cur, toFrame(regression(1, 1, 50))), /at least 2 are needed/);
});

test('DLE: the cached loss model (memory, then disk) gives exactly the result of a fresh fit; another reference is fitted anew', () => {
  const reference = toFrame(regression(1, 24, 300));
  const current = toFrame(regression(3, 30, 300, 15));
  const opts = { task: 'regression' as const, features: ['x1', 'x2'] };
  const fresh = new PerformanceEstimationMetric({ ...opts, reuseFit: false }).compute(current, reference);
  const dir = mkdtempSync(join(tmpdir(), 'mw-dle-cache-'));
  try {
    clearDleFits();
    const s0 = { ...dleFitStats };
    const first = new PerformanceEstimationMetric({ ...opts, fitCacheDir: dir }).compute(current, reference);
    assert.equal(dleFitStats.fitted, s0.fitted + 1);
    assert.deepEqual(first, fresh);
    // Same reference in new frames (as each scheduled run loads it): from memory.
    const again = new PerformanceEstimationMetric({ ...opts, fitCacheDir: dir }).compute(toFrame(regression(3, 30, 300, 15)), toFrame(regression(1, 24, 300)));
    assert.equal(dleFitStats.memory, s0.memory + 1);
    assert.deepEqual(again, fresh);
    // A new process (memory empty): from the file beside.
    clearDleFits();
    const files = readdirSync(dir);
    assert.equal(files.length, 1);
    assert.match(files[0]!, /^dle-[0-9a-f]{64}\.json$/);
    const fromDisk = new PerformanceEstimationMetric({ ...opts, fitCacheDir: dir }).compute(current, reference);
    assert.equal(dleFitStats.disk, s0.disk + 1);
    assert.deepEqual(fromDisk, fresh);
    // One changed target value is another reference: fitted, not taken from the cache.
    const changed = regression(1, 24, 300);
    changed.target[17]! += 1;
    const other = new PerformanceEstimationMetric({ ...opts, fitCacheDir: dir }).compute(current, toFrame(changed));
    assert.equal(dleFitStats.fitted, s0.fitted + 2);
    assert.deepEqual(other, new PerformanceEstimationMetric({ ...opts, reuseFit: false }).compute(current, toFrame(changed)));
    assert.notDeepEqual(other, fresh);
    // A damaged file is refitted and rewritten, never trusted.
    clearDleFits();
    writeFileSync(join(dir, files[0]!), '{"v":"dle-1","refPred":[');
    assert.deepEqual(new PerformanceEstimationMetric({ ...opts, fitCacheDir: dir }).compute(current, reference), fresh);
    assert.equal(dleFitStats.fitted, s0.fitted + 3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
