import assert from 'node:assert/strict';
import test from 'node:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmEvaluator, parseAlarmRules, runAlarms, type AlarmRules } from '../../lib/alarms/index.ts';
import { seriesRunsByDay, type StoredRows } from '../../lib/alarms/series-runs.ts';
import { scanArrays, writeReadings, type EventRow } from '../../lib/store/index.ts';

const M = 60_000;
const DAY = 86_400_000;
const T0 = Date.parse('2024-01-01T00:00:00Z');
const ASSETS = ['m2', 'm10', 'm1', 'line-motor-long-name', 'a0']; // not in string order; one name longer than 12 bytes; a0 first in order but seen last
const SIGNALS = ['temperature', 'vib', 'speed']; // speed: no rule reads it

/** Three days of readings every 2 minutes; a1 = m2 is hot at the end of day 0 and its temperature and vib are missing on day 1 (speed goes on). */
function readings() {
  const r = { ts: [] as number[], asset: [] as string[], signal: [] as string[], value: [] as number[], quality: [] as number[] };
  for (let m = 0; m < (3 * DAY) / M; m += 2) {
    const t = T0 + m * M;
    const day = Math.floor(m / 1440);
    for (const [a, asset] of ASSETS.entries()) {
      for (const signal of SIGNALS) {
        if (asset === 'm2' && day === 1 && signal !== 'speed') continue;
        if (asset === 'a0' && m < 700) continue; // its streams are made after the others'
        if (asset === 'm1' && signal === 'vib' && m % 1440 > 600 && m % 1440 < 900) continue; // a gap for no-data
        const hot = asset === 'm2' ? day === 0 && m > 1300 : (m + a * 97) % 300 < 20;
        const stuck = a === 3 && m > 2000 && m < 2300;
        const value = signal === 'speed' ? 500 + (m % 7) : stuck ? 42 : hot ? 90 + a : 50 + ((m * 13 + a * 5) % 11);
        r.ts.push(t);
        r.asset.push(asset);
        r.signal.push(signal);
        r.value.push(value);
        r.quality.push((m * 31 + a) % 89 === 0 ? 2 : 0);
        // a duplicate reading now and then (ties keep stored order)
        if ((m + a) % 211 === 0) {
          r.ts.push(t);
          r.asset.push(asset);
          r.signal.push(signal);
          r.value.push(value + 40);
          r.quality.push(0);
        }
      }
    }
  }
  return r;
}

async function rules(): Promise<AlarmRules> {
  return parseAlarmRules({
    flood: { max: 2, window: '1h' },
    rules: [
      { name: 'hot', kind: 'limit', signals: 'temperature', hi: 80, deadband: 3, minDuration: '4m' },
      { name: 'ramp', kind: 'rate', signals: 'temperature', perMinute: 8 },
      { name: 'stuck', kind: 'stuck', signals: ['temperature', 'vib'], readings: 20 },
      { name: 'silent', kind: 'no-data', signals: ['temperature', 'vib'], for: '2h' },
    ],
  }, '.');
}

/** Rows as stored: per day, two "files" (every other reading in each), each sorted by (asset, signal, ts), stable. */
function stored(r: ReturnType<typeof readings>): StoredRows {
  const idx: number[] = [];
  for (let d = 0; d < 3; d++) {
    for (const file of [0, 1]) {
      const rows = r.ts.map((t, i) => i).filter((i) => Math.floor((r.ts[i]! - T0) / DAY) === d && (i % 2 === file));
      rows.sort((i, j) => (r.asset[i]! < r.asset[j]! ? -1 : r.asset[i]! > r.asset[j]! ? 1 : r.signal[i]! < r.signal[j]! ? -1 : r.signal[i]! > r.signal[j]! ? 1 : r.ts[i]! - r.ts[j]! || i - j));
      idx.push(...rows);
    }
  }
  return codes(r, idx);
}

function codes(r: ReturnType<typeof readings>, idx: number[]): StoredRows {
  const assets: string[] = [];
  const signals: string[] = [];
  const code = (list: string[], name: string) => (list.includes(name) ? list.indexOf(name) : list.push(name) - 1);
  return {
    ts: Float64Array.from(idx, (i) => r.ts[i]!),
    assetCode: Int32Array.from(idx, (i) => code(assets, r.asset[i]!)),
    signalCode: Int32Array.from(idx, (i) => code(signals, r.signal[i]!)),
    assets, signals,
    value: Float64Array.from(idx, (i) => r.value[i]!),
    quality: Uint8Array.from(idx, (i) => r.quality[i]!),
  };
}

/** The reference: each day's rows (in stored order) through process(), which sorts them by (ts, asset, signal), ties kept. */
function viaProcess(ev: AlarmEvaluator, s: StoredRows, day: number): EventRow[] {
  const idx = Array.from(s.ts, (_, i) => i).filter((i) => Math.floor((s.ts[i]! - T0) / DAY) === day);
  return ev.process({ ts: idx.map((i) => s.ts[i]!), asset: idx.map((i) => s.assets[s.assetCode[i]!]!), signal: idx.map((i) => s.signals[s.signalCode[i]!]!), value: idx.map((i) => s.value[i]!), quality: idx.map((i) => s.quality[i]!) });
}

test('processSeries over series runs gives process()\'s rows, row order, flood rows and snapshot; also with shelve expiry and no-data on a day a series is missing', async () => {
  const r = readings();
  const rs = await rules();
  for (const [what, s] of [['two files per day (grouped by a counting pass)', stored(r)], ['one file per day (runs as read)', codes(r, storedOneFile(r))]] as const) {
    const a = new AlarmEvaluator(rs, { site: 's' });
    const b = new AlarmEvaluator(rs, { site: 's' });
    const days = seriesRunsByDay(s, T0 / DAY, 3);
    assert.equal(days.length, 3);
    if (what.startsWith('one')) assert.equal(days[0]!.order, undefined, 'stored runs used as they are');
    else assert.ok(days[0]!.order, 'a permutation');
    const rowsA: EventRow[] = [];
    const rowsB: EventRow[] = [];
    for (let d = 0; d < 3; d++) {
      if (d === 1) {
        // m2 is hot at the end of day 0; shelved until mid day 1, when it has no temperature readings: tick() raises it again at expiry
        const until = T0 + DAY + 12 * 3_600_000;
        rowsA.push(...a.shelve('hot/m2/temperature', a.clock, until, 'swap'));
        rowsB.push(...b.shelve('hot/m2/temperature', b.clock, until, 'swap'));
      }
      rowsA.push(...viaProcess(a, s, d));
      rowsB.push(...b.processSeries(days[d]!));
    }
    assert.deepEqual(rowsB, rowsA, what);
    assert.equal(JSON.stringify(b.snapshot()), JSON.stringify(a.snapshot()), what);
    assert.deepEqual(b.counts, a.counts, what);
    const msg = (x: EventRow) => JSON.parse(x.message!) as Record<string, unknown>;
    assert.ok(rowsA.some((x) => x.source === 'hot' && x.asset === 'm2' && msg(x).unshelved === true && x.ts === T0 + DAY + 12 * 3_600_000), `${what}: shelve expiry on a day without readings of the series`);
    assert.ok(rowsA.some((x) => x.source === 'silent' && x.asset === 'm2' && x.ts < T0 + 2 * DAY), `${what}: no-data while m2 is silent on day 1`);
    assert.ok(rowsA.some((x) => x.source === 'silent' && x.asset === 'm1' && x.signal === 'vib'), `${what}: no-data in m1's vib gap`);
    assert.ok(rowsA.some((x) => x.kind === 'alarm-flood'), `${what}: flood rows`);
    assert.ok(rowsA.some((x) => x.source === 'stuck' && x.asset === 'line-motor-long-name'), `${what}: stuck`);
    assert.ok(rowsA.filter((x) => x.source === 'hot').length >= 10, `${what}: hot rows ${rowsA.filter((x) => x.source === 'hot').length}`);
  }
});

function storedOneFile(r: ReturnType<typeof readings>): number[] {
  const idx = r.ts.map((_, i) => i);
  const day = (i: number) => Math.floor((r.ts[i]! - T0) / DAY);
  return idx.sort((i, j) => day(i) - day(j) || (r.asset[i]! < r.asset[j]! ? -1 : r.asset[i]! > r.asset[j]! ? 1 : r.signal[i]! < r.signal[j]! ? -1 : r.signal[i]! > r.signal[j]! ? 1 : r.ts[i]! - r.ts[j]! || i - j));
}

test('processSeries refuses rules that read another series (threshold with an operating state) and two runs of one series', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-series-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const bands = [{ asset: 'm1', signal: 'temperature', state: 'running', count: 100, mean: 50, std: 5, low: 30, high: 70 }];
  await writeFile(join(dir, 'bands.json'), JSON.stringify({ format: 'millwright-threshold', version: 1, layout: 'long', signals: ['temperature'], perAsset: true, method: 'sigma', bands }));
  const withState = await parseAlarmRules({ rules: [{ name: 'band', kind: 'threshold', model: dir, state: { signal: 'speed', on: 100 } }] }, dir);
  const ev = new AlarmEvaluator(withState, { site: 's' });
  assert.equal(ev.seriesIndependent, false);
  const one = { ts: [T0], value: [1], assets: ['m1'], signals: ['temperature'], lo: [0], hi: [1], asset: [0], signal: [0] };
  assert.throws(() => ev.processSeries(one), /need readings in time order/);
  const plain = new AlarmEvaluator(await rules(), { site: 's' });
  assert.equal(plain.seriesIndependent, true);
  assert.throws(() => plain.processSeries({ ...one, ts: [T0, T0 + M], value: [1, 2], lo: [0, 1], hi: [1, 2], asset: [0, 0], signal: [0, 0] }), /two runs of m1\/temperature/);
});

test('runAlarms (series path) over a store with two files per day equals process() on the time-ordered scan, day by day', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-series-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const r = readings();
  for (const half of [0, 1]) {
    const idx = r.ts.map((_, i) => i).filter((i) => i % 2 === half);
    await writeReadings(dir, { ts: Float64Array.from(idx, (i) => r.ts[i]!), site: idx.map(() => 's'), asset: idx.map((i) => r.asset[i]!), signal: idx.map((i) => r.signal[i]!), value: Float64Array.from(idx, (i) => r.value[i]!), quality: Uint8Array.from(idx, (i) => r.quality[i]!) });
  }
  const rs = await rules();
  const got = await runAlarms(rs, { store: dir, write: false });
  const ev = new AlarmEvaluator(rs, { site: 's' });
  const want: EventRow[] = [];
  for (let d = 0; d < 3; d++) {
    const c = await scanArrays({ root: dir, from: T0 + d * DAY, to: T0 + (d + 1) * DAY, columns: ['ts', 'asset', 'signal', 'value', 'quality'], order: 'time', codes: true });
    want.push(...ev.process(c as Required<typeof c>));
  }
  assert.equal(got.readings, r.ts.length);
  assert.equal(got.evaluated, ev.counts.readings);
  assert.ok(want.length >= 20, `rows: ${want.length}`);
  assert.deepEqual(got.rows, want);
  // one scan per day (spanRows below a day's readings) or per two days: the same rows
  for (const spanRows of [1, Math.ceil(r.ts.length / 2)]) assert.deepEqual((await runAlarms(rs, { store: dir, write: false, spanRows })).rows, want, `spanRows ${spanRows}`);
  // a second site: the site must be named
  await writeReadings(dir, { ts: Float64Array.of(T0), site: ['t'], asset: ['m1'], signal: ['temperature'], value: Float64Array.of(1) });
  await assert.rejects(runAlarms(rs, { store: dir, write: false }), /has 2 sites \(s, t\); name one with --site/);
  assert.equal((await runAlarms(rs, { store: dir, site: 's', write: false })).rows.length, want.length);
});
