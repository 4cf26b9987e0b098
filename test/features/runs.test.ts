import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as aq from 'arquero';
import {
  segmentRuns, findRuns, runFeatures, labelRuns, dailySummary, dailyRunSummary, learnAlarmBands, flagReadings,
  operatingState, floatColumn,
} from '../../lib/features/index.ts';
import { quantileSorted } from '../../lib/stats/index.ts';
import { smallPlant } from './plant.ts';

test('segmentRuns: hysteresis keeps noisy runs whole, drops short blips, ends runs at gaps', () => {
  const ts = Float64Array.from({ length: 12 }, (_, i) => i * 1000);
  //                                 run 1 (dip to 700 is above off)   blip       run 2
  const v = Float64Array.of(0, 900, 850, 700, 950, 0, 0, 900, 0, 900, 900, 900);
  assert.deepEqual(segmentRuns(ts, v, { on: 800, off: 600, minDuration: 2000 }), [
    { start: 1000, end: 4000, startIndex: 1, endIndex: 4 },
    { start: 9000, end: 11000, startIndex: 9, endIndex: 11 },
  ]);
  // Without hysteresis the dip to 700 splits run 1 (and both parts are then too short).
  assert.equal(segmentRuns(ts, v, { on: 800, minDuration: 2000 }).length, 1);
  const gappy = Float64Array.from(ts);
  for (let i = 3; i < 12; i++) gappy[i] += 60_000;
  assert.deepEqual(segmentRuns(gappy, v, { on: 800, off: 600, maxGap: '10s' }).map((r) => r.endIndex), [2, 4, 7, 11]);
  assert.throws(() => segmentRuns(ts, v, { on: 500, off: 600 }), /off <= on/);
});

test('findRuns + runFeatures on a two-day plant: one production = one row', () => {
  const { table, runs: truth } = smallPlant();
  const runs = findRuns(table, { signal: 'speed', on: 700, off: 400, minDuration: '15m', maxGap: '1m' });
  // press-1's 35-44 h run is split by the 40-40.5 h outage: a gap is not production.
  const expected = truth.flatMap((r) => {
    const out = 40 * 3.6e6 + Date.UTC(2026, 0, 5);
    return r.start < out && r.end > out ? [{ ...r, end: out }, { ...r, start: out + 1800_000 }] : [r];
  }).sort((a, b) => a.asset.localeCompare(b.asset) || a.start - b.start);
  assert.equal(runs.numRows(), expected.length);
  const st = floatColumn(runs, 'start');
  const en = floatColumn(runs, 'end');
  expected.forEach((e, i) => {
    assert.equal(runs.get('asset', i), e.asset);
    assert.ok(Math.abs(st[i]! - e.start) <= 10_000, `run ${i} start ${st[i]} vs ${e.start}`);
    assert.ok(Math.abs(en[i]! - e.end) <= 10_000, `run ${i} end ${en[i]} vs ${e.end}`);
  });
  const per = runFeatures(table, runs, { stats: ['mean', 'max', 'count'] });
  assert.equal(per.numRows(), runs.numRows());
  // Cross-check run 0 against a plain arquero filter + rollup.
  const r0 = { a: runs.get('asset', 0), s: st[0]!, e: en[0]! };
  const ref = table
    .params(r0)
    .filter((d: { asset: string; ts: number; signal: string }, p: typeof r0) => d.asset === p.a && d.ts >= p.s && d.ts <= p.e && d.signal === 'current')
    .rollup({ mean: aq.op.mean('value'), max: aq.op.max('value'), n: aq.op.count() });
  assert.ok(Math.abs((per.get('current_mean', 0) as number) - (ref.get('mean', 0) as number)) < 1e-9);
  assert.equal(per.get('current_max', 0), ref.get('max', 0));
  assert.equal(per.get('current_count', 0), ref.get('n', 0));
  assert.ok((per.get('speed_mean', 0) as number) > 950);

  const labelled = labelRuns(table, runs);
  const inRun = labelled.filter((d: { run_id: number }) => d.run_id >= 0).numRows();
  const counts = floatColumn(per, 'speed_count').reduce((s, v) => s + v, 0) + floatColumn(per, 'current_count').reduce((s, v) => s + v, 0);
  assert.equal(inRun, counts);
});

test('dailySummary and dailyRunSummary agree with an independent arquero rollup', () => {
  const { table } = smallPlant();
  const daily = dailySummary(table);
  const ref = table
    .derive({ date: aq.escape((d: { ts: number }) => new Date(d.ts).toISOString().slice(0, 10)) })
    .groupby('date', 'asset', 'signal')
    .rollup({ count: aq.op.count(), mean: aq.op.mean('value'), std: aq.op.stdev('value'), min: aq.op.min('value'), max: aq.op.max('value') })
    .orderby('date', 'asset', 'signal');
  assert.equal(daily.numRows(), 8); // 2 days x 2 assets x 2 signals
  for (let i = 0; i < ref.numRows(); i++) {
    for (const k of ['date', 'asset', 'signal', 'count', 'min', 'max']) assert.equal(daily.get(k, i), ref.get(k, i), `${k} row ${i}`);
    for (const k of ['mean', 'std']) assert.ok(Math.abs((daily.get(k, i) as number) - (ref.get(k, i) as number)) < 1e-9);
  }
  const runs = findRuns(table, { signal: 'speed', on: 700, off: 400, minDuration: '15m', maxGap: '1m' });
  const perDay = dailyRunSummary(runs);
  // press-1 on day 1: 6-10 h and 11-15.5 h plus 22-24 h of the overnight run.
  const d1 = perDay.filter((d: { asset: string; date: string }) => d.asset === 'press-1' && d.date === '2026-01-05');
  assert.equal(d1.get('runs', 0), 3);
  assert.ok(Math.abs((d1.get('production_h', 0) as number) - 10.5) < 0.02, `production ${d1.get('production_h', 0)}`);
  // Asia/Seoul days shift the overnight run's split.
  const seoul = dailyRunSummary(runs, { utcOffsetMinutes: 540 });
  assert.notDeepEqual(seoul.objects(), perDay.objects());
});

test('alarm baseline: bands per asset/signal/state flag injected faults and nothing else', () => {
  const { table } = smallPlant();
  // No minimum duration here: the 3-minute blip is real motion and is normal while running.
  const withState = operatingState(table, { signal: 'speed', on: 700, off: 400 });
  const base = learnAlarmBands(withState, { method: 'sigma', k: 4, state: 'state' });
  assert.equal(base.numRows(), 8); // 2 assets x 2 signals x {running, idle}
  const running = base.filter((d: { asset: string; signal: string; state: string }) => d.asset === 'press-1' && d.signal === 'current' && d.state === 'running');
  assert.ok((running.get('low', 0) as number) > 30 && (running.get('high', 0) as number) < 50);
  // Inject: a running current of 60 A (overload) and an idle current of 20 A (a running-level
  // current would be normal while running but not while idle).
  const value = Float64Array.from(floatColumn(withState, 'value'));
  const state = withState.array('state') as string[];
  const sig = withState.array('signal') as string[];
  const runIdx = state.findIndex((s, i) => s === 'running' && sig[i] === 'current');
  const idleIdx = state.findIndex((s, i) => s === 'idle' && sig[i] === 'current');
  value[runIdx] = 60;
  value[idleIdx] = 20;
  const flagged = flagReadings(withState.assign({ value }), base);
  const alarms = (flagged.array('alarm') as boolean[]).flatMap((a, i) => (a ? [i] : []));
  assert.deepEqual(alarms, [runIdx, idleIdx].sort((a, b) => a - b));
  // Quantile method: linear interpolation like numpy.
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
  assert.equal(quantileSorted([1, 2, 3, 4], 1), 4);
  const q = learnAlarmBands(table, { method: 'quantile', quantiles: [0.01, 0.99] });
  assert.equal(q.get('state', 0), 'all');
  assert.throws(() => learnAlarmBands(table, { quantiles: [0.9, 0.1] }), /quantiles/);
});
