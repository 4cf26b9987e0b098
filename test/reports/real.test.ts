import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as aq from 'arquero';
import { join } from 'node:path';
import { realDataDir, noRealData, repoRoot } from '../helpers/data.ts';
import { loadNab, loadNabWindows } from '../../datasets/nab.ts';
import { loadSteel, STEEL_UTC_OFFSET_MINUTES } from '../../datasets/steel.ts';
import { hourlyTotals } from '../../lib/algorithms/energy-load-curve/hourly.ts';
import { trainPackage } from '../../lib/model/index.ts';
import { driftReport, energyReport, writeReport, addPredictions, toFrame, filterFrame, type DataDriftResult, type EnergyDeviationResult } from '../../reports/index.ts';
import { STEEL_DRIVERS, STEEL_SPLIT } from './steel.ts';

/** Korean public holidays 2018 (as in test/algorithms/energy-steel.test.ts). */
const KOREAN_HOLIDAYS_2018 = [
  '2018-01-01', '2018-02-15', '2018-02-16', '2018-02-17', '2018-03-01', '2018-05-05', '2018-05-07', '2018-05-22',
  '2018-06-06', '2018-06-13', '2018-08-15', '2018-09-23', '2018-09-24', '2018-09-25', '2018-09-26', '2018-10-03',
  '2018-10-09', '2018-12-25',
];

const out = join(repoRoot, 'test-output', 'reports');

function nab() {
  const dir = realDataDir()!;
  const t = loadNab(dir);
  return { ts: t.array('ts') as ArrayLike<number>, value: t.array('value') as ArrayLike<number>, windows: loadNabWindows(dir) };
}

test('NAB machine temperature: readings during the anomaly windows drift from the normal ones', { skip: noRealData() }, async () => {
  const { ts, value, windows } = nab();
  const normal: number[] = [];
  const during: number[] = [];
  for (let i = 0; i < ts.length; i++) (windows.some((w) => ts[i]! >= w.start && ts[i]! <= w.end) ? during : normal).push(value[i]!);
  for (const calibrate of [false, true]) {
    const r = driftReport({ value: during }, { value: normal }, { calibrate });
    const c = (r.metrics[0] as DataDriftResult).columns[0]!;
    assert.equal(c.drifted, true, `calibrate=${calibrate}: ${JSON.stringify(r.checks)}`);
    assert.ok(c.value! > 2 * c.threshold, `clear margin: ${c.value} vs ${c.threshold}`);
    assert.ok(c.ks!.pValue < 1e-50);
    if (calibrate) {
      await mkdir(out, { recursive: true });
      await writeReport(r, join(out, 'nab-drift'));
    }
  }
});

test('NAB machine temperature: two halves of the longest stable stretch do not drift (with calibration)', { skip: noRealData() }, () => {
  const { ts, value, windows } = nab();
  // Longest stretch between two anomaly windows (Dec 17 - Jan 27, ~41 days of normal running).
  let best = { from: 0, to: 0 };
  for (let k = 0; k + 1 < windows.length; k++) if (windows[k + 1]!.start - windows[k]!.end > best.to - best.from) best = { from: windows[k]!.end, to: windows[k + 1]!.start };
  const idx: number[] = [];
  for (let i = 0; i < ts.length; i++) if (ts[i]! > best.from && ts[i]! < best.to) idx.push(i);
  assert.ok(idx.length > 10_000);
  const half = idx.length >> 1;
  const first = idx.slice(0, half).map((i) => value[i]!);
  const second = idx.slice(half).map((i) => value[i]!);
  const calibrated = driftReport({ value: second }, { value: first }, { calibrate: true });
  const c = (calibrated.metrics[0] as DataDriftResult).columns[0]!;
  assert.equal(c.drifted, false, JSON.stringify(calibrated.checks));
  assert.equal(c.calibrated, true);
  // Honest note: Evidently's fixed 0.1 threshold on normalised Wasserstein calls this stable
  // stretch drifted, because a real temperature series wanders; calibration is why it does not here.
  const fixed = (driftReport({ value: second }, { value: first }).metrics[0] as DataDriftResult).columns[0]!;
  assert.equal(fixed.drifted, true);
  assert.ok(c.value! < fixed.threshold * 10 && c.value! < c.threshold / 2, `${c.value} vs calibrated ${c.threshold}`);
});

test('steel plant Oct-Dec 2018 with the energy-load-curve model: weekday day shifts far above best-achievable are flagged; Guideline 14 stated honestly', { skip: noRealData(), timeout: 180_000 }, async () => {
  // Train the built-in energy-load-curve package on Jan-Sep (hourly), exactly as a user would
  // (SageMaker layout, verified artifact), then predict Oct-Dec through the loaded model.
  const steel = loadSteel(realDataDir()!);
  const hourly = hourlyTotals(steel, { value: 'usage_kwh', intervalEnd: true, keep: { week_status: 'first', lagging_reactive_kvarh: 'sum', leading_reactive_kvarh: 'sum', lagging_pf: 'mean', leading_pf: 'mean' } });
  const ts = hourly.array('ts') as ArrayLike<number>;
  const trainRows = Array.from(ts, (t) => t < STEEL_SPLIT);
  const base = await mkdtemp(join(tmpdir(), 'mw-steel-energy-'));
  try {
    await mkdir(join(base, 'input', 'data', 'train'), { recursive: true });
    await writeFile(join(base, 'input', 'data', 'train', 'train.csv'), hourly.filter(aq.escape((d: { ts: number }) => d.ts < STEEL_SPLIT)).toCSV());
    const trained = await trainPackage({
      package: 'energy-load-curve', base,
      hyperparameters: { target: 'usage_kwh', timezone: 'Asia/Seoul', holidays: KOREAN_HOLIDAYS_2018, drivers: ['week_status'], n_estimators: 60, seed: 1, holdout_fraction: 0 },
    });
    assert.equal(trained.manifest.algorithm, 'energy-load-curve');
    const all = toFrame(hourly);
    const reference = filterFrame(all, trainRows);
    const current = await addPredictions(filterFrame(all, trainRows.map((x) => !x)), trained.modelDir);
    assert.ok(current.columns.has('expected') && current.columns.has('best'), 'the model returned {expected, best}');
    const report = energyReport(current, reference, {
      actual: 'usage_kwh', expected: 'expected', best: 'best', drivers: STEEL_DRIVERS, utcOffsetMinutes: STEEL_UTC_OFFSET_MINUTES,
      pricePerKwh: 0.1, currency: 'USD', co2KgPerKwh: 0.45, title: 'Steel plant energy, Oct-Dec 2018 (energy-load-curve)',
    });
    const r = report.metrics[0] as EnergyDeviationResult;
    assert.equal(r.hours.length, 92 * 24);
    const dayShift = (slot: string) => !/^(Sat|Sun)/.test(slot) && +slot.slice(4, 6) >= 8 && +slot.slice(4, 6) < 18;
    const inShift = r.hours.filter((h) => dayShift(h.slot));
    const outside = r.hours.filter((h) => !dayShift(h.slot));
    const rate = (hs: typeof r.hours) => hs.filter((h) => h.flagged).length / hs.length;
    assert.ok(rate(inShift) > 0.5, `most weekday day-shift hours are flagged: ${rate(inShift)}`);
    assert.ok(rate(inShift) > 3 * rate(outside), `flag rate day shift ${rate(inShift)} vs other hours ${rate(outside)}`);
    const excess = (hs: typeof r.hours) => hs.filter((h) => h.flagged).reduce((s, h) => s + h.excessOverBestKwh!, 0);
    assert.ok(excess(inShift) > 0.5 * r.totals.flaggedExcessKwh, 'most of the flagged excess energy is in weekday day shifts');
    // Per recurring slot, Saturday afternoons and weekday evenings also rank high (the plant ran on
    // Q4 Saturdays its curve calls weekend, and late shifts): real findings, reported as such.
    const top = r.topSlots.slice(0, 3);
    assert.ok(top.some((s) => dayShift(s.slot)), `worst slots ${top.map((s) => s.slot).join(', ')}`);
    // Flagged means well above best-achievable, by the threshold.
    for (const h of r.hours.filter((x) => x.flagged)) assert.ok(h.excessOverBestPct! > 25);
    assert.ok(Math.abs(r.totals.cost! - 0.1 * r.totals.flaggedExcessKwh) < 1e-6);
    assert.ok(Math.abs(r.totals.co2Kg! - 0.45 * r.totals.flaggedExcessKwh) < 1e-6);
    const last = r.hours[r.hours.length - 1]!;
    assert.ok(Math.abs(last.cusumKwh! - r.totals.excessVsExpectedKwh!) < 1e-6);
    // Guideline 14: the verdict agrees with its own numbers and the statement says which way it went.
    // (Without production volume as a driver this plant's curve does not meet it: stated, not hidden.)
    const g = r.guideline14;
    assert.equal(g.meets, g.cvRmsePct! <= 30 && Math.abs(g.nmbePct!) <= 10);
    assert.match(g.statement, g.meets ? /meets ASHRAE Guideline 14/ : /does NOT meet ASHRAE Guideline 14/);
    assert.equal(report.checks.find((c) => c.name === 'ASHRAE Guideline 14')!.status, g.meets ? 'pass' : 'warn');
    assert.ok(r.hours.some((h) => h.flagged && h.hints.some((x) => /robust SDs/.test(x))), 'driver hints name the drivers');
    await mkdir(out, { recursive: true });
    await writeReport(report, join(out, 'steel-energy'));
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
