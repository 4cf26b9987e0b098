import assert from 'node:assert/strict';
import test from 'node:test';
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlarmEvaluator, AlarmSession, parseAlarmRules, vibrationZone, zoneBoundaries, velocityRms } from '../../lib/alarms/index.ts';

const M = 60_000;
const T0 = Date.parse('2024-01-01T00:00:00Z');
const state = (rows: { message?: string }[]) => rows.map((r) => JSON.parse(r.message!).state as string);

function series(values: number[], signal = 'temperature', asset = 'press1') {
  return { ts: values.map((_, i) => T0 + i * M), asset: values.map(() => asset), signal: values.map(() => signal), value: values };
}

test('limit rule: deadband holds the alarm inside the band, min duration delays it, ack moves it through ISA-18.2 states', async () => {
  const rules = await parseAlarmRules({ rules: [{ name: 'hot', kind: 'limit', signals: 'temperature', hi: 80, deadband: 5, minDuration: '2m' }] }, '.');
  const ev = new AlarmEvaluator(rules, { site: 's' });
  // 81 for 2 readings only (1 minute): not long enough; then 81 for 4 minutes; 76 stays inside the deadband; 74 clears
  const rows = ev.process(series([70, 81, 81, 70, 81, 81, 81, 81, 76, 76, 74]));
  assert.deepEqual(state(rows), ['unack-active', 'cleared-unack']);
  assert.equal(rows[0]!.ts, T0 + 6 * M);
  assert.equal(rows[0]!.from, T0 + 6 * M);
  assert.equal(rows[1]!.ts, T0 + 10 * M);
  assert.equal(rows[1]!.to, T0 + 10 * M);
  assert.equal(rows[0]!.kind, 'alarm');
  assert.equal(rows[0]!.source, 'hot');
  assert.deepEqual(JSON.parse(rows[0]!.message!), { state: 'unack-active', value: 81, limit: 80, rule: 'hot' });
  assert.deepEqual(state(ev.ack('hot/press1/temperature', T0 + 11 * M)), ['normal']);
  const again = ev.process({ ts: [T0 + 12 * M], asset: ['press1'], signal: ['temperature'], value: [95] });
  assert.deepEqual(state(again), []); // min duration again
  const on = ev.process({ ts: [T0 + 14 * M, T0 + 15 * M], asset: ['press1', 'press1'], signal: ['temperature', 'temperature'], value: [95, 60] });
  assert.deepEqual(state(on), ['unack-active', 'cleared-unack']);
});

test('ack while active then clear goes to normal; shelve suppresses rows until expiry, then an active alarm is raised again', async () => {
  const rules = await parseAlarmRules({ rules: [{ name: 'hot', kind: 'limit', hi: 80 }] }, '.');
  const ev = new AlarmEvaluator(rules, { site: 's' });
  assert.deepEqual(state(ev.process(series([90]))), ['unack-active']);
  assert.deepEqual(state(ev.ack('hot/press1/temperature', T0 + M)), ['ack-active']);
  assert.deepEqual(state(ev.process({ ts: [T0 + 2 * M], asset: ['press1'], signal: ['temperature'], value: [50] })), ['normal']);
  ev.process({ ts: [T0 + 3 * M], asset: ['press1'], signal: ['temperature'], value: [90] });
  const sh = ev.shelve('hot/press1/temperature', T0 + 3 * M, T0 + 10 * M, 'sensor swap');
  assert.equal(JSON.parse(sh[0]!.message!).shelved, T0 + 10 * M);
  const during = ev.process({ ts: [T0 + 4 * M, T0 + 5 * M, T0 + 6 * M], asset: ['press1', 'press1', 'press1'], signal: ['temperature', 'temperature', 'temperature'], value: [50, 95, 96] });
  assert.deepEqual(during, []);
  const after = ev.process({ ts: [T0 + 11 * M], asset: ['press1'], signal: ['temperature'], value: [97] });
  assert.deepEqual(state(after), ['unack-active']);
  assert.equal(after[0]!.ts, T0 + 10 * M, 'raised at the shelve expiry');
  assert.throws(() => ev.ack('nope/x/y', T0), /no alarm "nope\/x\/y"/);
});

test('stuck, rate and no-data rules', async () => {
  const rules = await parseAlarmRules({
    rules: [
      { name: 'stuck', kind: 'stuck', signals: 'temperature', readings: 5 },
      { name: 'ramp', kind: 'rate', signals: 'temperature', perMinute: 10 },
      { name: 'silent', kind: 'no-data', signals: 'temperature', for: '10m' },
    ],
  }, '.');
  const ev = new AlarmEvaluator(rules, { site: 's' });
  const rows = ev.process(series([20, 21, 21, 21, 21, 21, 22, 40]));
  const by = (rule: string) => rows.filter((r) => r.source === rule).map((r) => `${JSON.parse(r.message!).state}@${(r.ts - T0) / M}`);
  assert.deepEqual(by('stuck'), ['unack-active@5', 'cleared-unack@6']);
  assert.deepEqual(by('ramp'), ['unack-active@7']);
  // 30 minutes of silence: active from last reading + 10m, cleared when data comes back
  const back = ev.process({ ts: [T0 + 37 * M], asset: ['press1'], signal: ['temperature'], value: [41] });
  assert.deepEqual(back.filter((r) => r.source === 'silent').map((r) => `${JSON.parse(r.message!).state}@${(r.ts - T0) / M}`), ['unack-active@17', 'cleared-unack@37']);
});

test('flood: more than max activations in one window give exactly one alarm-flood row', async () => {
  const rules = await parseAlarmRules({ flood: { max: 3, window: '10m' }, rules: [{ name: 'hot', kind: 'limit', hi: 80 }] }, '.');
  const ev = new AlarmEvaluator(rules, { site: 's' });
  const n = 6;
  const rows = ev.process({ ts: Array.from({ length: n }, () => T0 + M), asset: Array.from({ length: n }, (_, i) => `m${i}`), signal: Array(n).fill('t'), value: Array(n).fill(99) });
  assert.equal(rows.filter((r) => r.kind === 'alarm').length, n);
  const flood = rows.filter((r) => r.kind === 'alarm-flood');
  assert.equal(flood.length, 1);
  assert.equal(flood[0]!.from, T0);
  assert.equal(flood[0]!.to, T0 + 10 * M);
});

test('ISO 20816-3 zones and velocity r.m.s. from acceleration', () => {
  assert.equal(vibrationZone(3.2, zoneBoundaries('2')), 'C');
  assert.equal(vibrationZone(1.0, zoneBoundaries('1')), 'A');
  assert.equal(vibrationZone(12, zoneBoundaries('1', 'flexible')), 'D');
  // 50 Hz sine of velocity amplitude 4 mm/s: acceleration amplitude 2*pi*50*4 mm/s^2, in g; rms = 4/sqrt(2)
  const fs = 5000;
  const a = Float64Array.from({ length: 5000 }, (_, i) => (2 * Math.PI * 50 * 4 * Math.cos(2 * Math.PI * 50 * (i / fs))) / 9806.65);
  const v = velocityRms(a, fs);
  assert.ok(Math.abs(v - 4 / Math.SQRT2) < 0.15, `velocity rms ${v}`);
});

test('acknowledgements queued in the state dir survive a restart and are applied by the next batch', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-alarm-state-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rules = await parseAlarmRules({ rules: [{ name: 'hot', kind: 'limit', hi: 80 }] }, '.');
  const s1 = await AlarmSession.open(rules, { site: 's', stateDir: dir });
  assert.deepEqual(state(await s1.process(series([90]))), ['unack-active']);
  await s1.commit();
  await s1.state!.queue({ action: 'ack', id: 'hot/press1/temperature', at: T0 + M });
  const s2 = await AlarmSession.open(rules, { site: 's', stateDir: dir });
  assert.equal(s2.evaluator.alarms()[0]!.state, 'unack-active');
  const rows = await s2.process({ ts: [T0 + 2 * M], asset: ['press1'], signal: ['temperature'], value: [50] });
  assert.deepEqual(state(rows), ['ack-active', 'normal']);
  await s2.commit();
  assert.deepEqual(await readdir(join(dir, 'actions')), []);
  const s3 = await AlarmSession.open(rules, { site: 's', stateDir: dir });
  assert.equal(s3.evaluator.alarms()[0]!.state, 'normal');
  assert.deepEqual(await s3.process({ ts: [T0], asset: ['press1'], signal: ['temperature'], value: [99] }), [], 'a reading older than the stream is late');
});

test('bad rule files: every problem with its key path, nothing loaded', async () => {
  const assets = [{ asset: 'press1', site: 's', attributes: {} }];
  await assert.rejects(
    parseAlarmRules({
      rules: [
        { name: 'a', kind: 'limit', assets: ['pres1'], hi: 1 },
        { name: 'b', kind: 'bogus' },
        { name: 'c', kind: 'limit', hi: 1, from: '2024-02-01', to: '2024-01-01' },
        { name: 'd', kind: 'limit' },
        { name: 'e', kind: 'threshold', model: '/nonexistent/model' },
        { name: 'f', kind: 'stuck', readings: 5, extra: 1 },
      ],
    }, '.', { assets }),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, /rules\[1\]\.kind: unknown kind "bogus"; expected one of limit, threshold/);
      assert.match(err.message, /rules\[5\]\.extra: unknown key/);
      return true;
    },
  );
  await assert.rejects(
    parseAlarmRules({ rules: [{ name: 'a', kind: 'limit', assets: ['pres1'], hi: 1 }, { name: 'c', kind: 'limit', hi: 1, from: '2024-02-01', to: '2024-01-01' }, { name: 'd', kind: 'limit' }, { name: 'e', kind: 'threshold', model: '/nonexistent/model' }] }, '.', { assets }),
    (err: Error) => {
      assert.match(err.message, /rules\[0\]\.assets: unknown asset "pres1"/);
      assert.match(err.message, /rules\[1\]\.to: .*not after from/);
      assert.match(err.message, /rules\[2\]: a limit rule needs hi, lo or both/);
      assert.match(err.message, /rules\[3\]\.model: cannot read the threshold model/);
      return true;
    },
  );
});

test('batch order does not matter: a poll order (m0, m1, ..., m12 at each instant), one instant per batch, reversed or shuffled batches give the same rows and state', async () => {
  const rules = await parseAlarmRules({
    rules: [
      { name: 'hot', kind: 'limit', signals: 'temperature', hi: 80, lo: 10, deadband: '5%', minDuration: '2m' },
      { name: 'stuck', kind: 'stuck', signals: ['temperature', 'speed'], readings: 4 },
      { name: 'ramp', kind: 'rate', signals: 'speed', perMinute: 30 },
    ],
  }, '.');
  const assets = Array.from({ length: 13 }, (_, i) => `m${i}`); // not in string order: m10 < m2
  const cols = { ts: [] as number[], asset: [] as string[], signal: [] as string[], value: [] as number[], quality: [] as number[] };
  for (let m = 0; m < 120; m++) {
    for (const [a, name] of assets.entries()) {
      for (const signal of ['temperature', 'speed']) {
        cols.ts.push(T0 + m * M);
        cols.asset.push(name);
        cols.signal.push(signal);
        const hot = (m + a * 7) % 40 < 6;
        const stuck = a === 3 && m > 50 && m < 70;
        cols.value.push(signal === 'speed' ? (stuck ? 500 : 500 + ((m * (a + 1) * 37) % 90)) : stuck ? 55 : hot ? 85 + a : 50 + ((m * 13 + a) % 9));
        cols.quality.push((m * 31 + a) % 97 === 0 ? 1 : 0);
      }
    }
  }
  const pick = (idx: number[]) => ({ ts: idx.map((i) => cols.ts[i]!), asset: idx.map((i) => cols.asset[i]!), signal: idx.map((i) => cols.signal[i]!), value: idx.map((i) => cols.value[i]!), quality: idx.map((i) => cols.quality[i]!) });
  const n = cols.ts.length;
  const per = assets.length * 2;
  const run = (batches: number[][]) => {
    const ev = new AlarmEvaluator(rules, { site: 's' });
    const rows = batches.flatMap((b) => ev.process(pick(b)));
    return { rows, snapshot: JSON.stringify(ev.snapshot()), counts: ev.counts };
  };
  const all = Array.from({ length: n }, (_, i) => i);
  const whole = run([all]);
  assert.ok(whole.rows.length >= 20, `rows: ${whole.rows.length}`);
  assert.ok(whole.rows.some((r) => r.source === 'stuck' && r.asset === 'm3'));
  let seed = 11;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const shuffled = (idx: number[]) => {
    const c = idx.slice();
    for (let k = c.length - 1; k > 0; k--) {
      const j = Math.floor(rnd() * (k + 1));
      [c[k], c[j]] = [c[j]!, c[k]!];
    }
    return c;
  };
  const chunks = (size: number) => Array.from({ length: Math.ceil(n / size) }, (_, k) => all.slice(k * size, (k + 1) * size));
  for (const [what, batches] of [
    ['one instant per batch', chunks(per)],
    ['reversed batches of 10 instants', chunks(per * 10).map((b) => b.reverse())],
    ['shuffled batches of 7 instants', chunks(per * 7).map(shuffled)],
  ] as const) {
    const r = run(batches as number[][]);
    assert.deepEqual(r.rows, whole.rows, what);
    assert.equal(r.snapshot, whole.snapshot, what);
    assert.deepEqual(r.counts, whole.counts, what);
  }
});
