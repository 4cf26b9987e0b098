import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  computeBaseline, checkConstraints, qualityReport, driftReport, driftReportFromFeatureSummary, modelReport, SensorFaultsMetric, toFrame,
  MultivariateDriftMetric, runningState, joinGroundTruth, regressionMetrics, rocAuc, readCapture, generateReports, chooseTest,
} from '../../reports/index.ts';
import { summarizeFeatures } from '../../lib/model/index.ts';
import { captureRecord } from '../../lib/capture/index.ts';
import * as aq from 'arquero';

// Deterministic pseudo-random numbers (tests must not flake).
function rng(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return { u, normal: () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) };
}

/** A press line: power and temperature depend on whether it runs; mode is categorical. */
function plant(n: number, seed: number, runningShare: number, opts: { tempShift?: number; newMode?: boolean } = {}) {
  const r = rng(seed);
  const power: number[] = [];
  const temp: number[] = [];
  const mode: string[] = [];
  const count: number[] = [];
  for (let i = 0; i < n; i++) {
    const running = r.u() < runningShare;
    power.push(running ? 120 + 10 * r.normal() : 4 + r.normal());
    temp.push((running ? 70 : 30) + 3 * r.normal() + (opts.tempShift ?? 0));
    mode.push(opts.newMode && i % 10 === 0 ? 'turbo' : running ? (r.u() < 0.7 ? 'auto' : 'manual') : 'off');
    count.push(Math.floor(r.u() * 5));
  }
  return { power, temp, mode, count };
}

test('baseline files use SageMaker Model Monitor field layout and catch every violation type', () => {
  const train = plant(2000, 1, 0.6);
  const { statistics, constraints } = computeBaseline(train);
  assert.equal(statistics.dataset.item_count, 2000);
  const power = statistics.features.find((f) => f.name === 'power')!;
  assert.equal(power.inferred_type, 'Fractional');
  const ns = power.numerical_statistics!;
  assert.equal(ns.common.num_present, 2000);
  assert.equal(ns.distribution.kll.buckets.length, 10);
  assert.equal(ns.distribution.kll.buckets.reduce((s, b) => s + b.count, 0), 2000);
  assert.deepEqual(ns.distribution.kll.sketch.parameters, { c: 0.64, k: 2048 });
  assert.equal(statistics.features.find((f) => f.name === 'count')!.inferred_type, 'Integral');
  const mode = statistics.features.find((f) => f.name === 'mode')!;
  assert.equal(mode.string_statistics!.distinct_count, 3);
  assert.deepEqual(constraints.features.find((f) => f.name === 'mode')!.string_constraints!.domains, ['auto', 'manual', 'off']);
  assert.equal(constraints.features.find((f) => f.name === 'temp')!.num_constraints!.is_non_negative, true);
  assert.equal(constraints.monitoring_config.distribution_constraints.comparison_method, 'Robust');

  assert.deepEqual(checkConstraints(plant(500, 2, 0.6), { statistics, constraints }), [], 'same process: no violation');
  const bad = plant(500, 3, 0.6, { tempShift: -60, newMode: true });
  const current: Record<string, unknown[]> = { power: bad.power.map((v, i) => (i % 4 === 0 ? null : v)), temp: bad.temp, mode: bad.mode, count: bad.count.map((c, i) => (i === 7 ? 2.5 : c)), extra: bad.temp };
  const types = new Set(checkConstraints(current, { statistics, constraints }).map((v) => `${v.feature_name}:${v.constraint_check_type}`));
  for (const t of ['power:completeness_check', 'temp:non_negative_check', 'temp:baseline_drift_check', 'mode:categorical_values_check', 'count:data_type_check', 'extra:extra_column_check']) {
    assert.ok(types.has(t), `expected ${t} in ${[...types].join(', ')}`);
  }
  const missing = checkConstraints({ power: bad.power, mode: bad.mode, count: bad.count }, { statistics, constraints });
  assert.ok(missing.some((v) => v.feature_name === 'temp' && v.constraint_check_type === 'missing_column_check'));
});

test('sensor faults: stuck, gap, out-of-range, duplicate and level change are found where injected, and nowhere else', () => {
  const r = rng(7);
  const rows = { ts: [] as number[], asset: [] as string[], signal: [] as string[], value: [] as number[] };
  const t0 = Date.UTC(2024, 2, 1);
  const add = (signal: string, i: number, v: number) => {
    rows.ts.push(t0 + i * 60_000);
    rows.asset.push('press-1');
    rows.signal.push(signal);
    rows.value.push(v);
  };
  for (let i = 0; i < 2000; i++) {
    add('clean', i, 50 + 2 * r.normal());
    // faulty: stuck 300..399, gap 800..859 missing, spike at 1000, level +40 from 1500, duplicate at 1200
    if (i >= 800 && i < 860) continue;
    let v = 50 + 2 * r.normal();
    if (i >= 300 && i < 400) v = 51.25;
    if (i === 1000) v = 400;
    if (i >= 1500) v += 40;
    add('faulty', i, v);
    if (i === 1200) add('faulty', i, v + 1);
  }
  const m = new SensorFaultsMetric({ ranges: { faulty: { min: 0, max: 150 }, clean: { min: 0, max: 150 } } });
  const res = m.compute(toFrame(rows));
  const clean = res.series.find((s) => s.series === 'press-1/clean')!;
  const faulty = res.series.find((s) => s.series === 'press-1/faulty')!;
  assert.deepEqual([clean.stuck, clean.gap, clean.out_of_range, clean.duplicate, clean.level_change], [0, 0, 0, 0, 0], 'no false alarms on a clean signal');
  assert.equal(faulty.stuck, 1);
  assert.equal(faulty.gap, 1);
  assert.equal(faulty.out_of_range, 1);
  assert.equal(faulty.duplicate, 1);
  assert.ok(faulty.level_change >= 1, 'level change found');
  const at = (kind: string) => res.events.filter((e) => e.kind === kind && e.series === 'press-1/faulty');
  assert.equal(at('stuck')[0]!.readings, 100);
  assert.equal(at('gap')[0]!.start, t0 + 799 * 60_000);
  assert.ok(at('level_change').some((e) => Math.abs(e.end - (t0 + 1500 * 60_000)) <= 2 * 60_000), 'level change located at the step');
  assert.equal(m.checks(res)[0]!.status, 'fail');
});

test('drift: a shifted column drifts, stable ones do not; the default test follows column type and sample size', () => {
  const ref = plant(3000, 11, 0.6);
  const same = driftReport(plant(3000, 12, 0.6), ref);
  assert.equal(same.status, 'pass', JSON.stringify(same.checks));
  const shifted = driftReport(plant(3000, 13, 0.6, { tempShift: 8 }), ref);
  const cols = (shifted.metrics[0] as unknown as { columns: { column: string; drifted: boolean; test: string }[] }).columns;
  assert.deepEqual(cols.filter((c) => c.drifted).map((c) => c.column), ['temp']);
  assert.equal(cols.find((c) => c.column === 'temp')!.test, 'wasserstein');
  assert.equal(cols.find((c) => c.column === 'mode')!.test, 'jensenshannon');
  assert.equal(chooseTest('numeric', 800, 50), 'ks');
  assert.equal(chooseTest('categorical', 800, 3), 'chisquare');
  assert.equal(chooseTest('categorical', 1000, 2), 'ztest');
  assert.equal(chooseTest('numeric', 1001, 2), 'jensenshannon');
  const small = driftReport(plant(300, 14, 0.6, { tempShift: 8 }), plant(300, 15, 0.6));
  const t = (small.metrics[0] as unknown as { columns: { column: string; test: string; drifted: boolean }[] }).columns.find((c) => c.column === 'temp')!;
  assert.equal(t.test, 'ks');
  assert.equal(t.drifted, true);
});

test('drift by operating state: a plant that simply ran less is not reported as drift', () => {
  const ref = plant(4000, 21, 0.7);
  const ranLess = plant(4000, 22, 0.3);
  const naive = driftReport(ranLess, ref, { multivariate: false });
  assert.equal(naive.status, 'fail', 'without states, idling more looks like drift in power and temperature');
  const byState = driftReport(ranLess, ref, { state: runningState('power', 50), exclude: ['power', 'mode'], multivariate: false });
  assert.equal(byState.checks[0]!.status, 'pass', JSON.stringify(byState.checks));
  assert.match(byState.checks[1]!.reason, /idle 30% → 7\d%/);
  const hotter = plant(4000, 23, 0.3, { tempShift: 6 });
  const real = driftReport(hotter, ref, { state: runningState('power', 50), exclude: ['power', 'mode'], multivariate: false });
  assert.notEqual(real.checks[0]!.status, 'pass', 'a real temperature change is still found within states');
  // Calibration per state (each state's own reference rows) keeps both verdicts.
  const calOpts = { state: runningState('power', 50), exclude: ['power', 'mode'], multivariate: false as const, calibrate: true };
  assert.equal(driftReport(ranLess, ref, calOpts).checks[0]!.status, 'pass');
  const cal = driftReport(hotter, ref, calOpts);
  assert.notEqual(cal.checks[0]!.status, 'pass');
  const temp = (cal.metrics[0] as unknown as { columns: { column: string; states: { state: string; calibrated?: boolean; drifted: boolean }[] }[] }).columns.find((c) => c.column === 'temp')!;
  assert.ok(temp.states.every((st) => st.drifted), JSON.stringify(temp.states));
});

test('multivariate drift: PCA reconstruction error flags a broken correlation that per-column tests miss', () => {
  const make = (n: number, seed: number, broken: boolean) => {
    const r = rng(seed);
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    for (let i = 0; i < n; i++) {
      const x = r.normal();
      a.push(x + 0.1 * r.normal());
      b.push((broken ? r.normal() : x) + 0.1 * r.normal());
      c.push(x + 0.1 * r.normal());
    }
    return { a, b, c };
  };
  const ref = toFrame(make(5000, 31, false));
  const m = new MultivariateDriftMetric();
  assert.equal(m.compute(toFrame(make(5000, 32, false)), ref).drifted, false);
  const broken = m.compute(toFrame(make(5000, 33, true)), ref);
  assert.equal(broken.drifted, true);
  assert.ok(broken.ratio > 2, `ratio ${broken.ratio}`);
  const perColumn = driftReport(make(5000, 33, true), make(5000, 31, false), { multivariate: false });
  assert.equal(perColumn.status, 'pass', 'each column alone still looks the same');
});

test('drift against a model manifest baseline (histograms from lib/profile)', () => {
  const ref = plant(5000, 41, 0.6);
  const baseline = summarizeFeatures(aq.table(ref));
  const ok = driftReportFromFeatureSummary(plant(3000, 42, 0.6), baseline);
  assert.equal(ok.status, 'pass', JSON.stringify(ok.checks));
  const moved = driftReportFromFeatureSummary(plant(3000, 43, 0.6, { tempShift: 10 }), baseline);
  const cols = (moved.metrics[0] as unknown as { columns: { column: string; drifted: boolean; approximate: boolean }[] }).columns;
  assert.deepEqual(cols.filter((c) => c.drifted).map((c) => c.column), ['temp']);
  assert.ok(cols.find((c) => c.column === 'temp')!.approximate);
});

test('model quality: metrics, AUC and comparison with training metrics; ground truth joined by time', () => {
  assert.deepEqual(regressionMetrics([1, 2, 3, 4], [1, 2, 3, 8]), { mae: 1, rmse: 2, r2: 1 - 16 / 5, mape: 25, n: 4 });
  assert.equal(rocAuc([true, false, true, false], [0.9, 0.1, 0.4, 0.6]), 0.75);
  const preds = { ts: [0, 60_000, 120_000, 180_000], prediction: [10, 20, 30, 40] };
  const truth = { ts: [1_000, 61_000, 119_000, 400_000], target: [11, 19, 33, 99] };
  const joined = joinGroundTruth(preds, truth, { on: 'ts', toleranceMs: 5_000 });
  assert.equal(joined.rows, 3);
  const rep = modelReport(joined, { task: 'regression', trainingMetrics: { mae: 1, rmse: 1.2 } });
  assert.equal(rep.status, 'fail', 'mae 1.67 vs training 1.0 is a 67% degradation');
  const cls = modelReport({ target: ['a', 'b', 'a', 'b', 'b'], prediction: ['a', 'b', 'b', 'b', 'b'], score: [0.9, 0.2, 0.4, 0.3, 0.1] }, { task: 'classification', positiveLabel: 'a', score: 'score', trainingMetrics: { accuracy: 0.8 } });
  const m = (cls.metrics[0] as unknown as { metrics: Record<string, number> }).metrics;
  assert.equal(m.accuracy, 0.8);
  assert.equal(m.recall, 0.5);
  assert.equal(m.precision, 1);
  assert.equal(m.auc, 1);
  assert.equal(cls.status, 'pass');
});

test('capture JSON Lines from the server are read back and generateReports writes every report it can', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-capture-'));
  try {
    const features = [{ name: 'power', type: 'number' as const }, { name: 'temp', type: 'number' as const }];
    const p = plant(400, 51, 0.6, { tempShift: 12 });
    const lines: string[] = [];
    for (let i = 0; i < 400; i += 4) {
      const body = [0, 1, 2, 3].map((k) => `${p.power[i + k]},${p.temp[i + k]}`).join('\n');
      lines.push(JSON.stringify(captureRecord({ endpoint: 'press', inputContentType: 'text/csv', input: body, outputContentType: 'application/json', output: JSON.stringify({ predictions: [1, 2, 3, 4] }), inferenceTime: new Date(Date.UTC(2024, 0, 1, 0, i)) })));
    }
    lines.push('{"not":"a capture record"}');
    const capDir = join(dir, 'capture', 'press', 'AllTraffic', '2024', '01', '01', '00');
    await mkdir(capDir, { recursive: true });
    await writeFile(join(capDir, '00-00-000-x.jsonl'), lines.join('\n') + '\n');
    const read = await readCapture(join(dir, 'capture'), { features });
    assert.equal(read.frame.rows, 400);
    assert.equal(read.skipped.length, 1);
    assert.deepEqual(read.frame.names.sort(), ['capturedAt', 'eventId', 'inferenceId', 'power', 'prediction', 'temp']);
    const ref = plant(3000, 52, 0.6);
    const res = await generateReports({
      captureDir: join(dir, 'capture'), outDir: join(dir, 'reports'),
      manifest: { format: 1, name: 'press', version: '1', algorithm: 'x', task: 'regression', features, hyperparameters: {}, trainingData: { rows: 3000 }, metrics: { training: {} }, baseline: summarizeFeatures(aq.table({ power: ref.power, temp: ref.temp })), createdAt: '', codeVersion: '', files: {} },
      baseline: computeBaseline({ power: ref.power, temp: ref.temp }),
      now: new Date(Date.UTC(2024, 0, 2)),
    });
    assert.deepEqual(res.reports.map((r) => r.kind), ['quality', 'drift']);
    assert.equal(res.reports.find((r) => r.kind === 'drift')!.status, 'fail', 'temperature moved by 12 degrees');
    assert.equal(res.notProduced[0]!.kind, 'model');
    assert.match(res.summary, /400 captured rows/);
    const q = qualityReport(read.frame, undefined, { faults: false });
    assert.equal(q.kind, 'quality');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
