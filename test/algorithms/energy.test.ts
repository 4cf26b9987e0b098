import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as aq from 'arquero';
import * as energy from '../../lib/algorithms/energy-load-curve/train.ts';
import * as energyPredict from '../../lib/algorithms/energy-load-curve/predict.ts';
import { hourlyTotals } from '../../lib/algorithms/energy-load-curve/hourly.ts';
import { localCalendar } from '../../lib/algorithms/energy-load-curve/calendar.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';
import { cvRmse, nmbe } from '../../lib/algorithms/metrics.ts';
import type { ModelManifest } from '../../lib/model/contract.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { scratch, trainContext } from './context.ts';

/**
 * An hourly plant in Berlin (DST!) whose production volume is known: two shifts on weekdays,
 * one on Saturdays, orders vary day to day; consumption = base load + per-tonne energy + idle
 * losses that rise with poor scheduling (the waste the best-achievable curve should expose).
 */
function plant(days: number, seed: number): aq.ColumnTable {
  const rng = mulberry32(seed);
  const start = Date.UTC(2024, 0, 1) - 3_600_000; // 2024-01-01 00:00 Berlin
  const ts: number[] = [];
  const production: number[] = [];
  const kwh: number[] = [];
  const cal = localCalendar(Float64Array.from({ length: days * 24 }, (_, i) => start + i * 3_600_000), 'Europe/Berlin');
  let orders = 1;
  for (let i = 0; i < days * 24; i++) {
    const h = cal.hour[i]!;
    const wd = cal.weekday[i]!;
    if (h === 0) orders = 0.6 + 0.8 * rng();
    const shifts = wd < 5 ? 2 : wd === 5 ? 1 : 0;
    const working = shifts > 0 && h >= 6 && h < 6 + 8 * shifts;
    const tonnes = working ? 10 * orders * (0.9 + 0.2 * rng()) : 0;
    const waste = working ? 40 * rng() : 5 * rng();
    ts.push(start + i * 3_600_000);
    production.push(Math.round(tonnes * 100) / 100);
    kwh.push(120 + 55 * tonnes + waste + 8 * (rng() - 0.5));
  }
  return aq.table({ ts, production_t: production, kwh });
}

test('energy load curve meets Guideline 14 when production volume is a driver', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const data = plant(140, 3);
  const cut = 112 * 24;
  const train = data.slice(0, cut).reify();
  const test_ = data.slice(cut).reify();
  const ctx = await trainContext(s.base, { train, validation: test_ }, { target: 'kwh', timezone: 'Europe/Berlin', drivers: ['production_t'], n_estimators: 60 });
  const out = await energy.train(ctx as never);
  assert.equal(out.task, 'energy');
  assert.deepEqual(out.features.map((f) => f.name), ['ts', 'production_t']);
  const h = out.metrics.holdout!;
  t.diagnostic(`synthetic plant hourly holdout: CV(RMSE) ${h.cv_rmse!.toFixed(1)} %, NMBE ${h.nmbe!.toFixed(2)} %`);
  assert.equal(h.guideline14, 1);
  // production correlates strongly with energy here: a warning, not a refusal
  assert.ok(ctx.log.messages.some((m) => m.level === 'warn' && /production_t/.test(m.message)));

  const model = await energyPredict.load(ctx.modelDir, {} as ModelManifest);
  const preds = (await energyPredict.predict(model, test_, {})) as { expected: number; best: number }[];
  const actual = test_.array('kwh') as number[];
  assert.ok(cvRmse(actual, preds.map((p) => p.expected)) <= 30);
  assert.ok(Math.abs(nmbe(actual, preds.map((p) => p.expected))) <= 10);
  // best-achievable: below expected while working, close to the base load when idle
  const working = preds.filter((_p, i) => (test_.array('production_t') as number[])[i]! > 0);
  const gap = working.reduce((sum, p) => sum + (p.expected - p.best), 0) / working.length;
  assert.ok(gap > 5 && gap < 40, `mean expected - best while producing: ${gap}`);

  // calendar alone (no production) is much worse on this plant: the driver matters
  const cal = await trainContext(s.base, { train, validation: test_ }, { target: 'kwh', timezone: 'Europe/Berlin', n_estimators: 60 }, 'calendar-only');
  const calOut = await energy.train(cal as never);
  assert.ok(calOut.metrics.holdout!.cv_rmse! > h.cv_rmse! * 1.5, `calendar-only ${calOut.metrics.holdout!.cv_rmse}`);
});

test('hourlyTotals sums interval-end readings into the hour they belong to', () => {
  const t0 = Date.UTC(2024, 0, 1);
  const q = 900_000;
  const table = aq.table({ ts: [1, 2, 3, 4, 5, 6, 7, 8].map((k) => t0 + k * q), kwh: [1, 2, 3, 4, 10, 20, 30, 40], shift: ['a', 'a', 'a', 'a', 'b', 'b', 'b', 'b'] });
  const h = hourlyTotals(table, { value: 'kwh', intervalEnd: true, keep: { shift: 'first' } });
  assert.deepEqual(Array.from(h.array('ts') as Float64Array), [t0, t0 + 3_600_000]);
  assert.deepEqual(Array.from(h.array('kwh') as Float64Array), [10, 100]);
  assert.deepEqual(h.array('shift'), ['a', 'b']);
  // without intervalEnd the 01:00 reading starts the second hour, which is then incomplete
  assert.equal(hourlyTotals(table, { value: 'kwh' }).numRows(), 1);
});

test('energy load curve rejects bad input clearly', async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const data = plant(20, 1);
  const expectErr = async (hp: Record<string, unknown>, re: RegExp, table = data): Promise<void> => {
    const ctx = await trainContext(s.base, { train: table }, hp, `m${Math.random().toString(36).slice(2)}`);
    await assert.rejects(energy.train(ctx as never), (err: unknown) => err instanceof MillwrightError && err.code === 'BAD_INPUT' && re.test(err.message));
  };
  await expectErr({ target: 'kwh', timezone: 'Mars/Olympus' }, /IANA time zone/);
  await expectErr({ target: 'kwh', holidays: ['25.12.2024'] }, /YYYY-MM-DD/);
  await expectErr({ target: 'kwh', calendar: ['hour', 'moon'] }, /"calendar"/);
  await expectErr({ target: 'kwh', drivers: ['kwh'] }, /own driver/);
  await expectErr({ target: 'kwh', drivers: ['tonnes'] }, /missing column.*"tonnes"/);
  await expectErr({ target: 'kwh', best_quantile: 0.9 }, /best_quantile/);
  await expectErr({ target: 'kwh' }, /no numeric values/, data.derive({ kwh: () => NaN }));
});
