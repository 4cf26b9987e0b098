import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realDataDir, noRealData } from '../helpers/data.ts';
import {
  CWRU_SAMPLE_RATE,
  IMS_SAMPLE_RATE,
  loadAi4i,
  loadCmapss,
  loadCwru,
  loadImsFeatures,
  loadImsRaw,
  loadNab,
  loadNabWindows,
  loadSkab,
  loadSteel,
  rmsPeakKurtosis,
} from '../../datasets/index.ts';

const skip = noRealData();
const dir = () => realDataDir()!;
const iso = (ms: number) => new Date(ms).toISOString();

function steps(ts: ArrayLike<number>): Map<number, number> {
  const m = new Map<number, number>();
  for (let i = 1; i < ts.length; i++) m.set(ts[i]! - ts[i - 1]!, (m.get(ts[i]! - ts[i - 1]!) ?? 0) + 1);
  return m;
}

test('steel: 35,040 rows, 2018-01-01 00:15 .. 2019-01-01 00:00 Seoul, strictly increasing 15-min steps', { skip }, () => {
  const t = loadSteel(dir());
  assert.equal(t.numRows(), 35_040);
  const ts = t.array('ts') as Float64Array;
  // 00:15 KST = 15:15 UTC the day before; Seoul has no DST, so every step is exactly 15 min.
  assert.equal(iso(ts[0]!), '2017-12-31T15:15:00.000Z');
  assert.equal(iso(ts[ts.length - 1]!), '2018-12-31T15:00:00.000Z');
  assert.deepEqual([...steps(ts)], [[900_000, 35_039]]);
  // The row published as "1/1/2018 0:00" (after 23:45 of Jan 1) is midnight starting Jan 2, Seoul.
  const midnight = t.filter((d: { nsm: number }) => d.nsm === 0).array('ts') as Float64Array;
  assert.equal(midnight.length, 365);
  assert.equal(iso(midnight[0]!), '2018-01-01T15:00:00.000Z');
  const first = t.object(0) as Record<string, unknown>;
  assert.equal(first.usage_kwh, 3.17);
  assert.equal(first.load_type, 'Light_Load');
});

test('NAB machine temperature: 22,695 rows at 5 min, 4 anomaly windows, the repeated hour', { skip }, () => {
  const t = loadNab(dir());
  assert.equal(t.numRows(), 22_695);
  const ts = t.array('ts') as Float64Array;
  assert.equal(iso(ts[0]!), '2013-12-02T21:15:00.000Z');
  assert.equal(iso(ts[ts.length - 1]!), '2014-02-19T15:25:00.000Z');
  const windows = loadNabWindows(dir());
  assert.equal(windows.length, 4);
  assert.equal(iso(windows[0]!.start), '2013-12-10T06:25:00.000Z');
  const anomalies = (t.array('anomaly') as Float64Array).reduce((s, v) => s + v, 0);
  assert.equal(anomalies, 2268);
  // The file repeats 2014-01-07 02:00..02:55: 12 duplicate stamps, one backward step of 55 min.
  assert.equal(steps(ts).get(-3_300_000), 1);
  const dedup = loadNab(dir(), { dropDuplicateTimes: true });
  assert.equal(dedup.numRows(), 22_683);
  const dts = dedup.array('ts') as Float64Array;
  for (let i = 1; i < dts.length; i++) assert.ok(dts[i]! > dts[i - 1]!, `not increasing at ${i}`);
  assert.equal(loadNab(dir(), { series: 'ambient_temperature' }).numRows(), 7267);
});

test('SKAB: 35 experiments, 46,806 rows, ; separator, labels', { skip }, () => {
  const t = loadSkab(dir());
  assert.equal(t.numRows(), 46_806);
  assert.equal(new Set(t.array('experiment') as string[]).size, 35);
  const sum = (c: string) => (t.array(c) as Float64Array).reduce((s, v) => s + v, 0);
  assert.equal(sum('anomaly'), 13_067);
  assert.equal(sum('changepoint'), 129);
  const valve1 = loadSkab(dir(), { groups: ['valve1'] });
  assert.equal(new Set(valve1.array('experiment') as string[]).size, 16);
  const first = valve1.object(0) as Record<string, number | string>;
  assert.equal(first.experiment, 'valve1/0');
  // Zone-less "2020-03-09 10:14:33" read as UTC by default; Moscow time on request.
  assert.equal(iso(first.ts as number), '2020-03-09T10:14:33.000Z');
  assert.equal(first.volume_flow_rate_rms, 32);
  const moscow = loadSkab(dir(), { groups: ['valve1'], utcOffsetMinutes: 180 });
  assert.equal(iso((moscow.object(0) as { ts: number }).ts), '2020-03-09T07:14:33.000Z');
  assert.throws(() => loadSkab(dir(), { groups: ['valve9' as 'valve1'] }), /SKAB group "valve9" is unknown/);
});

test('CWRU: four recordings at 12 kHz with the expected sample counts', { skip }, () => {
  const t = loadCwru(dir());
  assert.equal(t.numRows(), 609_765);
  const counts = t.groupby('fault').count().objects() as { fault: string; count: number }[];
  assert.deepEqual(Object.fromEntries(counts.map((c) => [c.fault, c.count])), { normal: 243_938, inner_race: 121_265, ball: 122_571, outer_race: 121_991 });
  assert.equal(CWRU_SAMPLE_RATE, 12_000);
  const ir = loadCwru(dir(), { faults: ['inner_race'] });
  const time = ir.array('time_s') as Float64Array;
  assert.ok(Math.abs(time[time.length - 1]! - 121_264 / 12_000) < 1e-9);
  // Inner-race faults ring louder than the healthy bearing on the drive end.
  const rms = (x: Float64Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  const normal = loadCwru(dir(), { faults: ['normal'] });
  assert.ok(rms(ir.array('de_g') as Float64Array) > 2 * rms(normal.array('de_g') as Float64Array));
  assert.ok((normal.array('ba_g') as Float64Array).every(Number.isNaN));
});

test('IMS: raw snapshots at 20 kHz named by time, features for all 984 snapshots', { skip }, () => {
  const raw = loadImsRaw(dir());
  assert.equal(raw.numRows(), 3 * 20_480);
  const snapshots = [...new Set(raw.array('snapshot') as Float64Array)].map(iso);
  assert.deepEqual(snapshots, ['2004-02-12T10:32:39.000Z', '2004-02-12T10:42:39.000Z', '2004-02-12T10:52:39.000Z']);
  const ts = raw.array('ts') as Float64Array;
  // Epoch ms near 1e12 resolve ~0.1 µs, so the sample clock matches to well under a sample.
  assert.ok(Math.abs(ts[20_479]! - ts[0]! - (20_479 * 1000) / IMS_SAMPLE_RATE) < 1e-3);
  assert.deepEqual(raw.object(0), { snapshot: ts[0], sample: 0, ts: ts[0], b1: -0.049, b2: -0.071, b3: -0.132, b4: -0.01 });
  const f = loadImsFeatures(dir());
  assert.equal(f.numRows(), 984);
  const fts = f.array('ts') as Float64Array;
  assert.equal(iso(fts[0]!), '2004-02-12T10:32:39.000Z');
  assert.equal(iso(fts[983]!), '2004-02-19T06:22:39.000Z');
  assert.deepEqual([...steps(fts)], [[600_000, 983]]);
  assert.equal((f.object(983) as { ttf_hours: number }).ttf_hours, 0);
  // Bearing 1 fails at the end: its RMS in the last day dwarfs the first day's.
  const b1 = f.array('b1_rms') as Float64Array;
  assert.ok(Math.max(...b1.slice(-144)) > 3 * Math.max(...b1.slice(0, 144)));
});

test('AI4I: 10,000 rows (not a time series), 339 failures, BOM stripped', { skip }, () => {
  const t = loadAi4i(dir());
  assert.equal(t.numRows(), 10_000);
  assert.equal(t.columnNames()[0], 'udi');
  assert.equal((t.array('machine_failure') as Float64Array).reduce((s, v) => s + v, 0), 339);
  assert.deepEqual(t.object(0), {
    udi: 1, product_id: 'M14860', type: 'M', air_temperature_k: 298.1, process_temperature_k: 308.6, rotational_speed_rpm: 1551,
    torque_nm: 42.8, tool_wear_min: 0, machine_failure: 0, twf: 0, hdf: 0, pwf: 0, osf: 0, rnf: 0,
  });
});

test('C-MAPSS FD001: 26 columns despite trailing spaces, RUL for train and test', { skip }, () => {
  const train = loadCmapss(dir());
  assert.equal(train.numRows(), 20_631);
  assert.equal(train.numCols(), 27);
  const unit = train.array('unit') as Float64Array;
  const rul = train.array('rul') as Float64Array;
  assert.equal(new Set(unit).size, 100);
  // Every unit runs to failure: its last row has RUL 0, its first RUL = cycles - 1.
  assert.equal(rul[0], 191);
  assert.equal(rul.filter((v) => v === 0).length, 100);
  const test = loadCmapss(dir(), { split: 'test' });
  assert.equal(test.numRows(), 13_096);
  const tu = test.array('unit') as Float64Array;
  const tr = test.array('rul') as Float64Array;
  const lastOfUnit1 = tu.lastIndexOf(1);
  assert.equal(tr[lastOfUnit1], 112); // first line of RUL_FD001.txt
  assert.equal(tr[0], 112 + 30); // unit 1 has 31 test cycles
});

test('a missing data directory or file names the expected path', () => {
  assert.throws(() => loadSteel('/nonexistent/datasets'), (err: Error & { code?: string }) => err.code === 'NOT_FOUND' && /\/nonexistent\/datasets does not exist/.test(err.message));
  const saved = process.env.MILLWRIGHT_DATA_DIR;
  delete process.env.MILLWRIGHT_DATA_DIR;
  try {
    assert.throws(() => loadNab(), /set MILLWRIGHT_DATA_DIR/);
  } finally {
    if (saved !== undefined) process.env.MILLWRIGHT_DATA_DIR = saved;
  }
});

test('window features: RMS, peak and kurtosis of known signals', () => {
  const n = 12_000;
  const sine = Float64Array.from({ length: n }, (_, i) => 2 * Math.sin((2 * Math.PI * 50 * i) / 12_000));
  const f = rmsPeakKurtosis(sine, 1200);
  assert.equal(f.rms.length, 10);
  for (let w = 0; w < 10; w++) {
    assert.ok(Math.abs(f.rms[w]! - Math.SQRT2) < 1e-9);
    assert.ok(Math.abs(f.peak[w]! - 2) < 1e-9);
    assert.ok(Math.abs(f.kurtosis[w]! - 1.5) < 1e-9); // a sine's kurtosis is 3/2; impacts push it far above 3
  }
  const impacts = Float64Array.from({ length: 1200 }, (_, i) => (i % 200 === 0 ? 10 : 0.01 * Math.sin(i)));
  assert.ok(rmsPeakKurtosis(impacts, 1200).kurtosis[0]! > 20);
  assert.equal(rmsPeakKurtosis(sine, 5000).rms.length, 2); // incomplete trailing window dropped
  assert.throws(() => rmsPeakKurtosis(sine, 1), /window size 1 must be an integer >= 2/);
});
