/**
 * The energy load curve on the real steel plant (UCI Steel Industry Energy, DAEWOO Steel 2018):
 * train on Jan-Sep, evaluate HOURLY on Oct-Dec against ASHRAE Guideline 14 and the naive
 * hour-of-week average. Drivers are exogenous only: the local calendar, Korean public holidays and
 * the plant's WeekStatus schedule. The meter's own registers (reactive energy, power factors, CO2)
 * are never drivers; Load_Type is discussed below.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnTable } from 'arquero';
import { loadSteel, STEEL_HOLIDAYS_2018 } from '../../datasets/steel.ts';
import * as energy from '../../lib/algorithms/energy-load-curve/train.ts';
import * as energyPredict from '../../lib/algorithms/energy-load-curve/predict.ts';
import { hourlyTotals } from '../../lib/algorithms/energy-load-curve/hourly.ts';
import { localCalendar } from '../../lib/algorithms/energy-load-curve/calendar.ts';
import { cvRmse, meetsGuideline14Hourly, nmbe } from '../../lib/algorithms/metrics.ts';
import type { ModelManifest } from '../../lib/model/contract.ts';
import { noRealData, realDataDir } from '../helpers/data.ts';
import { scratch, trainContext } from './context.ts';


const SEOUL = 9 * 3_600_000;
const OCT_1 = Date.UTC(2018, 9, 1) - SEOUL;
const JAN_1_2019 = Date.UTC(2019, 0, 1) - SEOUL;

function split(hourly: ColumnTable): { train: ColumnTable; test: ColumnTable } {
  const train = hourly.params({ OCT_1 }).filter((d: { ts: number }, $: { OCT_1: number }) => d.ts < $.OCT_1).reify();
  const test_ = hourly.params({ OCT_1, JAN_1_2019 }).filter((d: { ts: number }, $: { OCT_1: number; JAN_1_2019: number }) => d.ts >= $.OCT_1 && d.ts < $.JAN_1_2019).reify();
  return { train, test: test_ };
}

function naiveHourOfWeek(train: ColumnTable, test_: ColumnTable): Float64Array {
  const how = (t: ColumnTable) => {
    const c = localCalendar(t.array('ts') as Float64Array, 'Asia/Seoul');
    return Int32Array.from(c.hour, (h, i) => c.weekday[i]! * 24 + h);
  };
  const sums = new Float64Array(168);
  const counts = new Float64Array(168);
  const trHow = how(train);
  const trY = train.array('usage_kwh') as Float64Array;
  trHow.forEach((h, i) => {
    sums[h]! += trY[i]!;
    counts[h]!++;
  });
  return Float64Array.from(how(test_), (h) => sums[h]! / counts[h]!);
}

test('steel plant: hourly load curve from exogenous drivers beats the hour-of-week average', { skip: noRealData() }, async (t) => {
  const s = await scratch();
  t.after(s.cleanup);
  const steel = loadSteel(realDataDir());
  // the file's ts is the END of each 15-min interval
  const hourly = hourlyTotals(steel, { value: 'usage_kwh', intervalEnd: true, keep: { week_status: 'first', load_type: 'first' } });
  const { train, test: test_ } = split(hourly);
  assert.equal(train.numRows(), 273 * 24);
  assert.equal(test_.numRows(), 92 * 24);

  const actual = test_.array('usage_kwh') as Float64Array;
  const naive = naiveHourOfWeek(train, test_);
  const naiveCv = cvRmse(actual, naive);
  const naiveBias = nmbe(actual, naive);
  assert.ok(naiveCv > 55 && naiveCv < 75, `naive hour-of-week CV(RMSE) ${naiveCv}`); // about 65 % on this split

  const hp = { target: 'usage_kwh', timezone: 'Asia/Seoul', holidays: STEEL_HOLIDAYS_2018, drivers: ['week_status'], seed: 1 };
  const ctx = await trainContext(s.base, { train, validation: test_ }, hp);
  const out = await energy.train(ctx as never);
  const model = await energyPredict.load(ctx.modelDir, {} as ModelManifest);
  const preds = (await energyPredict.predict(model, test_, {})) as { expected: number; best: number }[];
  const expected = Float64Array.from(preds, (p) => p.expected);
  const cv = cvRmse(actual, expected);
  const bias = nmbe(actual, expected);
  assert.ok(Math.abs(cv - out.metrics.holdout!.cv_rmse!) < 1e-9, 'holdout metric = recomputed metric');
  const g14 = meetsGuideline14Hourly({ cvRmse: cv, nmbe: bias });
  t.diagnostic(`steel Oct-Dec hourly: model CV(RMSE) ${cv.toFixed(1)} %, NMBE ${bias.toFixed(1)} %; naive hour-of-week CV(RMSE) ${naiveCv.toFixed(1)} %, NMBE ${naiveBias.toFixed(1)} %; Guideline 14 hourly met: ${g14}`);
  assert.ok(cv < naiveCv, `model CV(RMSE) ${cv} should beat naive ${naiveCv}`);
  // honest expectation: without production volume the steel curve is far from Guideline 14's 30 %
  assert.equal(g14, false);

  // the best-achievable curve lies below the expected one and about best_quantile of hours fall under it
  assert.ok(preds.every((p) => p.best <= p.expected));
  const below = preds.filter((p, i) => actual[i]! < p.best).length / preds.length;
  t.diagnostic(`share of Oct-Dec hours below the best-achievable curve: ${(below * 100).toFixed(1)} % (q = 0.1)`);
  assert.ok(below > 0.02 && below < 0.3, `below-best share ${below}`);

  // Load_Type: in this file it is not a pure tariff calendar (the same month/weekday/time carries
  // different labels on different days) and it tracks the consumption level (Light ~9, Medium ~38,
  // Maximum ~59 kWh per 15 min): measured, not planned. We keep it out; this shows what it would do.
  const lt = await trainContext(s.base, { train, validation: test_ }, { ...hp, drivers: ['week_status', 'load_type'] }, 'with-load-type');
  const ltOut = await energy.train(lt as never);
  t.diagnostic(`with Load_Type as a driver: CV(RMSE) ${ltOut.metrics.holdout!.cv_rmse!.toFixed(1)} %, NMBE ${ltOut.metrics.holdout!.nmbe!.toFixed(1)} %`);

  // a register of the meter itself (CO2 = kWh x emission factor) is flagged, and shows why it must
  // stay out: it "predicts" the curve almost perfectly because it IS the curve
  const co2 = hourlyTotals(steel, { value: 'usage_kwh', intervalEnd: true, keep: { co2_tco2: 'sum' } });
  const c = split(co2);
  const circular = await trainContext(s.base, { train: c.train, validation: c.test }, { target: 'usage_kwh', drivers: ['co2_tco2'], n_estimators: 30 }, 'circular');
  const cOut = await energy.train(circular as never);
  assert.ok(circular.log.messages.some((m) => m.level === 'warn' && /co2_tco2.*register of the same meter/.test(m.message)));
  t.diagnostic(`circular (CO2 as driver, NOT used): CV(RMSE) ${cOut.metrics.holdout?.cv_rmse?.toFixed(1)} %`);
});
