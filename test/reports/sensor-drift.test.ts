import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realDataDir, noRealData } from '../helpers/data.ts';
import { loadNab, loadNabWindows } from '../../datasets/nab.ts';
import { loadSkab } from '../../datasets/skab.ts';
import { sensorDrift, effectiveSampleSize, integratedEffectiveSize, lag1Autocorrelation } from '../../reports/metrics/sensor-drift.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';

const DAY = 86_400_000;

/** NAB machine temperature, longest stretch between anomaly windows: first 35 % reference, rest current. */
function nabStable() {
  const dir = realDataDir()!;
  const t = loadNab(dir);
  const ts = t.array('ts') as ArrayLike<number>;
  const value = t.array('value') as ArrayLike<number>;
  const windows = loadNabWindows(dir);
  let best = { from: 0, to: 0 };
  for (let k = 0; k + 1 < windows.length; k++) if (windows[k + 1]!.start - windows[k]!.end > best.to - best.from) best = { from: windows[k]!.end, to: windows[k + 1]!.start };
  const idx: number[] = [];
  for (let i = 0; i < ts.length; i++) if (ts[i]! > best.from && ts[i]! < best.to) idx.push(i);
  const split = Math.floor(idx.length * 0.35);
  const part = (a: number[]) => ({ ts: a.map((i) => ts[i]!), value: a.map((i) => value[i]!) });
  return { ref: part(idx.slice(0, split)), cur: part(idx.slice(split)) };
}

test('effective sample size: an AR(1) series with r = 0.9 counts about n (1 - r) / (1 + r) readings', () => {
  const rng = mulberry32(3);
  const x = new Float64Array(20_000);
  for (let i = 1; i < x.length; i++) x[i] = 0.9 * x[i - 1]! + (rng() - 0.5);
  const r = lag1Autocorrelation(x);
  assert.ok(Math.abs(r - 0.9) < 0.02, `r ${r}`);
  const lag1 = effectiveSampleSize(x);
  assert.ok(Math.abs(lag1 - (20_000 * 0.1) / 1.9) < 150, `lag-1 n_eff ${lag1}`);
  const integrated = integratedEffectiveSize(x);
  assert.ok(Math.abs(integrated / lag1 - 1) < 0.25, `integrated ${integrated} vs lag-1 ${lag1}`);
  const white = Float64Array.from({ length: 5000 }, () => rng());
  assert.ok(integratedEffectiveSize(white) > 4500);
});

test('NAB stable stretch, day and shift chunks: today\'s test alarms on every chunk, the autocorrelation-aware test on at most 5 %, the band and CUSUM stay quiet', { skip: noRealData() }, () => {
  const { ref, cur } = nabStable();
  for (const chunk of ['day', 'shift'] as const) {
    const r = sensorDrift(ref, cur, { chunk });
    const n = r.chunks.length;
    const naive = r.chunks.filter((c) => c.naivePValue < 0.05).length;
    const aware = r.chunks.filter((c) => c.drifted).length;
    const band = r.chunks.filter((c) => c.outsideBand).length;
    // measured: day 27 chunks, naive 27, aware 0; shift 80 chunks, naive 80, aware 0
    assert.ok(n >= (chunk === 'day' ? 25 : 75), `${chunk}: ${n} chunks`);
    assert.equal(naive, n, `${chunk}: independent-readings KS alarms on ${naive} of ${n}`);
    assert.ok(aware <= 0.05 * n, `${chunk}: autocorrelation-aware alarms ${aware} of ${n}`);
    assert.ok(band <= 0.05 * n, `${chunk}: band alarms ${band} of ${n}`);
    assert.equal(r.sequential, null, `${chunk}: CUSUM ${JSON.stringify(r.sequential)}`);
  }
});

test('NAB: a slow drift of 2 °C per day injected at a known onset is caught by the CUSUM with a measured delay, its start dated near the onset', { skip: noRealData() }, () => {
  const { ref, cur } = nabStable();
  const onsetIdx = Math.floor(cur.ts.length * 0.3);
  const onset = cur.ts[onsetIdx]!;
  const drifted = { ts: cur.ts, value: cur.value.map((v, i) => (i < onsetIdx ? v : v + (2 * (cur.ts[i]! - onset)) / DAY)) };
  const r = sensorDrift(ref, drifted, { chunk: 'day' });
  assert.ok(r.sequential !== null, 'CUSUM alarm');
  const delayDays = (r.sequential.alarmAt - onset) / DAY;
  const startError = (r.sequential.startedAt - onset) / DAY;
  // measured: alarm 10 days after the onset (the drift is then +20 °C, no single day had crossed the band before), start dated 5 days after
  assert.ok(delayDays > 0 && delayDays <= 12, `delay ${delayDays} days`);
  assert.ok(Math.abs(startError) <= 6, `start ${startError} days from the onset`);
  const firstBand = r.chunks.find((c) => c.outsideBand);
  assert.ok(firstBand === undefined || firstBand.start >= r.sequential.alarmAt - DAY, 'the sequential detector is not later than the band');
});

test('SKAB anomaly-free runs, 10-minute chunks per signal: at most 5 % false alarms where the independent-readings KS alarms on most chunks', { skip: noRealData() }, () => {
  const t = loadSkab(realDataDir()!, { groups: ['anomaly-free'] });
  const ts = t.array('ts') as ArrayLike<number>;
  // The thermocouple warms up through the whole run (every current reading above every reference
  // one, KS D = 1): that is a trend, not a stable signal, and every test calls it drift; checked apart.
  const signals = ['accelerometer1_rms', 'accelerometer2_rms', 'current', 'pressure', 'temperature', 'voltage', 'volume_flow_rate_rms'];
  const split = Math.floor(ts.length * 0.4);
  let chunks = 0;
  let naive = 0;
  let aware = 0;
  for (const s of signals) {
    const v = t.array(s) as ArrayLike<number>;
    const ref = { ts: Array.from({ length: split }, (_, i) => ts[i]!), value: Array.from({ length: split }, (_, i) => v[i]!) };
    const cur = { ts: Array.from({ length: ts.length - split }, (_, i) => ts[split + i]!), value: Array.from({ length: ts.length - split }, (_, i) => v[split + i]!) };
    const r = sensorDrift(ref, cur, { chunk: 10 * 60_000 });
    chunks += r.chunks.length;
    naive += r.chunks.filter((c) => c.naivePValue < 0.05).length;
    aware += r.chunks.filter((c) => c.drifted).length;
  }
  // measured: 77 chunks, independent-readings KS 48 alarms, autocorrelation-aware 1 (voltage's first, partial chunk)
  assert.ok(chunks >= 70, `${chunks} chunks`);
  assert.ok(naive >= 0.5 * chunks, `independent-readings KS alarms on ${naive} of ${chunks}`);
  assert.ok(aware <= 0.05 * chunks, `autocorrelation-aware alarms ${aware} of ${chunks}`);
});

test('SKAB thermocouple: a warm-up trend (current wholly above the reference) is drift for the aware test too', { skip: noRealData() }, () => {
  const t = loadSkab(realDataDir()!, { groups: ['anomaly-free'] });
  const ts = t.array('ts') as ArrayLike<number>;
  const v = t.array('thermocouple') as ArrayLike<number>;
  const split = Math.floor(ts.length * 0.4);
  const ref = { ts: Array.from({ length: split }, (_, i) => ts[i]!), value: Array.from({ length: split }, (_, i) => v[i]!) };
  const cur = { ts: Array.from({ length: ts.length - split }, (_, i) => ts[split + i]!), value: Array.from({ length: ts.length - split }, (_, i) => v[split + i]!) };
  const r = sensorDrift(ref, cur, { chunk: 10 * 60_000 });
  assert.ok(r.chunks.every((c) => c.statistic > 0.98 && c.drifted), JSON.stringify(r.chunks.map((c) => c.statistic)));
  assert.ok(r.sequential !== null);
});

test('NAB: an abrupt +25 °C step at a known onset is flagged by the band and the CUSUM in the first chunk after it', { skip: noRealData() }, () => {
  const { ref, cur } = nabStable();
  const onsetIdx = Math.floor(cur.ts.length * 0.5);
  const onset = cur.ts[onsetIdx]!;
  const stepped = { ts: cur.ts, value: cur.value.map((v, i) => (i < onsetIdx ? v : v + 25)) };
  const r = sensorDrift(ref, stepped, { chunk: 'day' });
  const firstBand = r.chunks.find((c) => c.outsideBand)!;
  const delay = (firstBand.start - onset) / DAY;
  assert.ok(delay > -1 && delay <= 1, `band flagged ${delay} days after the onset`);
  assert.ok(r.sequential !== null && (r.sequential.alarmAt - onset) / DAY <= 1, JSON.stringify(r.sequential));
  assert.ok(r.chunks.filter((c) => c.start < onset - DAY).every((c) => !c.outsideBand), 'no band alarm before the step');
});
