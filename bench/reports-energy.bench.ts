/**
 * Energy model accuracy on the real steel plant (hourly, train Jan-Sep 2018, test Oct-Dec), next
 * to two references computed in the same run on the same drivers: the hour-of-week average and
 * scikit-learn's HistGradientBoostingRegressor (Debian python3-sklearn, benchmark only). Target
 * (issue 16): beat the hour-of-week baseline and be within 5 % (relative) of the gradient-boosting
 * CV(RMSE). Drivers are exogenous only: local hour, weekday, Korean holidays, the WeekStatus column.
 */
import { spawnSync } from 'node:child_process';
import type { ColumnTable } from 'arquero';
import { loadSteel, STEEL_HOLIDAYS_2018 } from '../datasets/steel.ts';
import { resolveDataDir } from '../datasets/data-dir.ts';
import { realDataDir } from '../test/helpers/data.ts';
import * as energy from '../lib/algorithms/energy-load-curve/train.ts';
import * as energyPredict from '../lib/algorithms/energy-load-curve/predict.ts';
import { hourlyTotals } from '../lib/algorithms/energy-load-curve/hourly.ts';
import { calendarColumns, holidaySet, localCalendar } from '../lib/algorithms/energy-load-curve/calendar.ts';
import { cvRmse, nmbe } from '../lib/algorithms/metrics.ts';
import type { ModelManifest } from '../lib/model/contract.ts';
import { scratch, trainContext } from '../test/algorithms/context.ts';

const SEOUL = 9 * 3_600_000;
const OCT_1 = Date.UTC(2018, 9, 1) - SEOUL;
const JAN_1_2019 = Date.UTC(2019, 0, 1) - SEOUL;
const TZ = 'Asia/Seoul';

function features(t: ColumnTable): number[][] {
  const cal = calendarColumns(t.array('ts') as Float64Array, ['hour', 'weekday', 'holiday'], TZ, holidaySet(STEEL_HOLIDAYS_2018));
  const week = t.array('week_status') as string[];
  return Array.from({ length: t.numRows() }, (_, i) => [cal[0]![i]!, cal[1]![i]!, cal[2]![i]!, week[i] === 'Weekend' ? 1 : 0]);
}

function hourOfWeek(train: ColumnTable, test: ColumnTable): Float64Array {
  const how = (t: ColumnTable) => {
    const c = localCalendar(t.array('ts') as Float64Array, TZ);
    return Int32Array.from(c.hour, (h, i) => c.weekday[i]! * 24 + h);
  };
  const sums = new Float64Array(168);
  const counts = new Float64Array(168);
  const y = train.array('usage_kwh') as Float64Array;
  how(train).forEach((h, i) => {
    sums[h]! += y[i]!;
    counts[h]!++;
  });
  return Float64Array.from(how(test), (h) => sums[h]! / counts[h]!);
}

export default async function bench(): Promise<void> {
  // MILLWRIGHT_DATA_DIR, else ../shared/datasets as the other benches and the tests find it; else resolveDataDir's error
  const steel = loadSteel(realDataDir() ?? resolveDataDir());
  const hourly = hourlyTotals(steel, { value: 'usage_kwh', intervalEnd: true, keep: { week_status: 'first' } });
  const train = hourly.params({ OCT_1 }).filter((d: { ts: number }, $: { OCT_1: number }) => d.ts < $.OCT_1).reify();
  const test = hourly.params({ OCT_1, JAN_1_2019 }).filter((d: { ts: number }, $: { OCT_1: number; JAN_1_2019: number }) => d.ts >= $.OCT_1 && d.ts < $.JAN_1_2019).reify();
  const actual = test.array('usage_kwh') as Float64Array;

  const s = await scratch();
  try {
    const t0 = performance.now();
    const hp = { target: 'usage_kwh', timezone: TZ, holidays: STEEL_HOLIDAYS_2018, drivers: ['week_status'], seed: 1 };
    const ctx = await trainContext(s.base, { train, validation: test }, hp);
    await energy.train(ctx as never);
    const model = await energyPredict.load(ctx.modelDir, {} as ModelManifest);
    const preds = (await energyPredict.predict(model, test, {})) as { expected: number }[];
    const trainSeconds = (performance.now() - t0) / 1000;
    const ours = Float64Array.from(preds, (p) => p.expected);

    const input = JSON.stringify({ train: { X: features(train), y: Array.from(train.array('usage_kwh') as Float64Array) }, test: { X: features(test) }, categorical: [false, true, false, true] });
    const py = spawnSync('/usr/bin/python3', [new URL('./energy_reference.py', import.meta.url).pathname], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (py.status !== 0) throw new Error(`energy_reference.py failed: ${py.stderr}`);
    const ref = JSON.parse(py.stdout) as { pred: number[]; seconds: number; sklearn: string };
    const hgb = Float64Array.from(ref.pred);
    const naive = hourOfWeek(train, test);

    const rows = [
      ['millwright energy-load-curve', cvRmse(actual, ours), nmbe(actual, ours), trainSeconds],
      [`HistGradientBoostingRegressor (scikit-learn ${ref.sklearn})`, cvRmse(actual, hgb), nmbe(actual, hgb), ref.seconds],
      ['hour-of-week average', cvRmse(actual, naive), nmbe(actual, naive), 0],
    ] as const;
    console.log(`steel plant, hourly, train Jan-Sep 2018 (${train.numRows()} h), test Oct-Dec (${test.numRows()} h); drivers: local hour, weekday, holiday, WeekStatus`);
    for (const [name, cv, bias, sec] of rows) console.log(`  ${name.padEnd(58)} CV(RMSE) ${cv.toFixed(2).padStart(6)} %  NMBE ${bias.toFixed(2).padStart(6)} %  fit ${sec.toFixed(2)} s`);
    const ratio = rows[0][1] / rows[1][1];
    console.log(`  energy model vs gradient boosting: CV(RMSE) ratio ${ratio.toFixed(3)} (target <= 1.05: ${ratio <= 1.05 ? 'met' : 'NOT met'}); vs hour-of-week ${(rows[0][1] / rows[2][1]).toFixed(3)} (target < 1: ${rows[0][1] < rows[2][1] ? 'met' : 'NOT met'})`);
  } finally {
    await s.cleanup();
  }
}
