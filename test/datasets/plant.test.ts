import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { generatePlant, planPlant, plantEnergyTable, type PlantOptions } from '../../datasets/index.ts';
import type { ReadingBatch as ReadingBatchLike } from '../../lib/readings/index.ts';

/** SHA-256 over every reading of every chunk, in order. */
function digest(options: PlantOptions): string {
  const h = createHash('sha256');
  for (const b of generatePlant(options)) {
    // Per reading, so chunk boundaries do not change the digest; numbers print round-trip exact.
    for (let i = 0; i < b.ts.length; i++) h.update(`${b.ts[i]}\t${b.site[i]}\t${b.asset[i]}\t${b.signal[i]}\t${b.value[i]}\n`);
  }
  return h.digest('hex');
}

type Series = { ts: number[]; value: number[] };

/** All readings of a plant, by `asset|signal`. */
function collect(batches: Iterable<ReadingBatchLike>): Map<string, Series> {
  const out = new Map<string, Series>();
  for (const b of batches) {
    for (let i = 0; i < b.ts.length; i++) {
      const key = `${b.asset[i]}|${b.signal[i]}`;
      let s = out.get(key);
      if (!s) out.set(key, (s = { ts: [], value: [] }));
      s.ts.push(b.ts[i]!);
      s.value.push(b.value[i]!);
    }
  }
  return out;
}

const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
const within = (t: number, i: { start: number; end: number }) => t >= i.start && t < i.end;

// One 14-day demo plant at 1-minute resolution shared by the ground-truth tests (~0.7 M readings).
const DEMO: PlantOptions = { seed: 1, days: 14, every: '1m' };
const demo = generatePlant(DEMO);
const data = collect(demo);
const truth = demo.truth;
const get = (asset: string, signal: string) => {
  const s = data.get(`${asset}|${signal}`);
  assert.ok(s, `no readings for ${asset}/${signal}`);
  return s;
};

test('same seed gives identical readings; another seed or chunk size changes only what it should', () => {
  const small: PlantOptions = { seed: 5, days: 2, every: '5m' };
  const a = digest(small);
  assert.equal(digest(small), a);
  assert.notEqual(digest({ ...small, seed: 6 }), a);
  // Chunking is a transport detail: the reading stream is the same whatever the chunk size.
  assert.equal(digest({ ...small, chunkSize: 777 }), a);
  assert.deepEqual(planPlant(small), planPlant(small));
  assert.notDeepEqual(planPlant(small).failures, planPlant({ ...small, seed: 6 }).failures);
});

test('readings: counted in advance, time-ordered, batches never above chunkSize, every signal present', () => {
  const plant = generatePlant({ seed: 2, days: 1, every: '1m', chunkSize: 1000 });
  let n = 0;
  let last = -Infinity;
  for (const b of plant) {
    assert.ok(b.ts.length <= 1000 && b.ts.length > 0);
    for (const t of b.ts) {
      assert.ok(t >= last);
      last = t;
    }
    n += b.ts.length;
  }
  assert.equal(n, plant.readings);
  const expectedKeys = truth.assets.flatMap((a) => a.signals.map((s) => `${a.asset}|${s}`)).sort();
  assert.deepEqual([...data.keys()].sort(), expectedKeys);
  assert.deepEqual(
    truth.assets.map((a) => a.asset),
    ['line01-motor', 'line01-gearbox', 'line01-bearing', 'line02-motor', 'line02-gearbox', 'line02-bearing', 'energy-meter', 'plant'],
  );
});

test('production runs drive the motor: speed > 0 exactly inside runs and idle-running waste', () => {
  for (const line of ['line01', 'line02']) {
    const speed = get(`${line}-motor`, 'speed');
    const on = [...truth.runs, ...truth.waste].filter((r) => r.line === line);
    const failed = truth.failures.filter((f) => f.line === line);
    const faulty = truth.faults.filter((f) => f.asset === `${line}-motor` && f.signals.includes('speed'));
    let checked = 0;
    speed.ts.forEach((t, i) => {
      if (faulty.some((f) => within(t, f)) || failed.some((f) => t >= f.failure && t < f.repairedAt)) return;
      assert.equal(speed.value[i]! > 0, on.some((r) => within(t, r)), `${line} at ${new Date(t).toISOString()}`);
      checked++;
    });
    assert.ok(checked > 15_000);
  }
  for (const r of truth.runs) assert.ok(r.end - r.start >= 10 * 60_000 && r.load > 0 && r.load <= 1);
});

test('a degrading asset: vibration and temperature rise before the failure, then it stops until repaired', () => {
  assert.equal(truth.failures.length, 1);
  const f = truth.failures[0]!;
  const runs = truth.runs.filter((r) => r.line === f.line);
  const running = (t: number) => runs.some((r) => within(t, r) && t - r.start > 60 * 60_000); // warmed up
  const vib = get(f.asset, 'vib_x_rms');
  const temp = get(f.asset, 'temperature');
  const pick = (s: Series, from: number, to: number) => s.value.filter((_, i) => s.ts[i]! >= from && s.ts[i]! < to && running(s.ts[i]!));
  const before = pick(vib, f.degradationStart - 3 * 86_400_000, f.degradationStart);
  const late = pick(vib, f.failure - 24 * 3_600_000, f.failure);
  assert.ok(before.length > 100 && late.length > 10, `samples ${before.length}/${late.length}`);
  assert.ok(mean(late) > 2.5 * mean(before), `vibration ${mean(before).toFixed(2)} -> ${mean(late).toFixed(2)} mm/s`);
  const tBefore = pick(temp, f.degradationStart - 3 * 86_400_000, f.degradationStart);
  const tLate = pick(temp, f.failure - 24 * 3_600_000, f.failure);
  assert.ok(mean(tLate) > mean(tBefore) + 8, `temperature ${mean(tBefore).toFixed(1)} -> ${mean(tLate).toFixed(1)} °C`);
  const down = vib.value.filter((_, i) => vib.ts[i]! >= f.failure && vib.ts[i]! < f.repairedAt);
  assert.ok(down.length > 0 && Math.max(...down) < 0.2, 'a failed asset does not vibrate like a running one');
  const after = pick(vib, f.repairedAt, truth.options.to);
  assert.ok(after.length > 0 && mean(after) < 1.3 * mean(before), 'repaired asset is healthy again');
});

test('sensor faults are in the data: stuck is flat, dropouts are gaps, the fan-mounted sensor cycles', () => {
  const stuck = truth.faults.filter((f) => f.kind === 'stuck');
  assert.equal(stuck.length, 1);
  for (const f of stuck) {
    const s = get(f.asset, f.signals[0]!);
    const inside = s.value.filter((_, i) => within(s.ts[i]!, f));
    const outside = s.value.filter((_, i) => !within(s.ts[i]!, f));
    assert.ok(inside.length >= 60);
    assert.equal(new Set(inside).size, 1, 'a stuck sensor repeats one value');
    assert.ok(new Set(outside).size > outside.length / 2, 'the same sensor varies when healthy');
  }
  const dropouts = truth.faults.filter((f) => f.kind === 'dropout');
  assert.equal(dropouts.length, 2);
  for (const f of dropouts) {
    for (const signal of f.signals) {
      const s = get(f.asset, signal);
      assert.equal(s.ts.filter((t) => within(t, f)).length, 0, `${f.asset}/${signal} has readings inside its dropout`);
      const gap = Math.max(...s.ts.map((t, i) => (i ? t - s.ts[i - 1]! : 0)));
      assert.ok(gap >= f.end - f.start - 60_000, 'the dropout is a gap in the series');
    }
  }
  // Fan-mounted sensor: on Sunday (plant closed) it still cycles 6 min on / 4 min off; its neighbours are quiet.
  const fan = truth.faults.find((f) => f.kind === 'fan')!;
  const sunday = { start: Date.UTC(2024, 0, 7), end: Date.UTC(2024, 0, 8) };
  const fanVib = get(fan.asset, 'vib_x_rms').value.filter((_, i) => within(get(fan.asset, 'vib_x_rms').ts[i]!, sunday));
  const onShare = fanVib.filter((v) => v > 1).length / fanVib.length;
  assert.ok(Math.abs(onShare - fan.dutyCycle!) < 0.05, `fan on ${onShare}`);
  const other = truth.assets.find((a) => a.kind === 'motor' && a.asset !== fan.asset)!;
  const quiet = get(other.asset, 'vib_x_rms').value.filter((_, i) => within(get(other.asset, 'vib_x_rms').ts[i]!, sunday));
  assert.ok(Math.max(...quiet) < 0.2);
});

test('energy follows production and schedule; idle-running waste shows up as extra power with no output', () => {
  const HOUR = 3_600_000;
  const hourly = (s: Series) => {
    const m = new Map<number, number>();
    s.ts.forEach((t, i) => m.set(Math.floor(t / HOUR), (m.get(Math.floor(t / HOUR)) ?? 0) + s.value[i]!));
    return m;
  };
  const energy = hourly(get('energy-meter', 'energy_kwh'));
  const parcels = hourly(get('plant', 'production_units'));
  const hours = [...energy.keys()];
  const e = hours.map((h) => energy.get(h)!);
  const p = hours.map((h) => parcels.get(h) ?? 0);
  const me = mean(e);
  const mp = mean(p);
  const cov = e.reduce((s, v, i) => s + (v - me) * (p[i]! - mp), 0);
  const r = cov / Math.sqrt(e.reduce((s, v) => s + (v - me) ** 2, 0) * p.reduce((s, v) => s + (v - mp) ** 2, 0));
  assert.ok(r > 0.8, `hourly energy vs production r = ${r.toFixed(3)}`);
  // Base load: the plant never draws nothing, even when closed.
  assert.ok(Math.min(...e) > 10);
  // Weekends are quieter: Sunday produces nothing, Saturday less than an average weekday.
  const day = (d: number) => p.filter((_, i) => Math.floor((hours[i]! * HOUR) / 86_400_000) === Math.floor(Date.UTC(2024, 0, d) / 86_400_000)).reduce((s, v) => s + v, 0);
  assert.equal(day(7), 0);
  assert.ok(day(6) < 0.8 * mean([1, 2, 3, 4, 5].map(day)));
  // Waste: power during idle-running exceeds the same off-shift hours without it, with zero parcels.
  assert.ok(truth.waste.length >= 1);
  const power = get('energy-meter', 'power_kw');
  const units = get('plant', 'production_units');
  const offShift = (t: number) => !truth.shifts.some((s) => within(t, s)) && !truth.runs.some((r) => within(t, r));
  const idle = power.value.filter((_, i) => offShift(power.ts[i]!) && !truth.waste.some((w) => within(power.ts[i]!, w)));
  for (const w of truth.waste) {
    const during = power.value.filter((_, i) => within(power.ts[i]!, w));
    assert.ok(mean(during) > mean(idle) + 3, `waste ${mean(during).toFixed(1)} kW vs idle ${mean(idle).toFixed(1)} kW`);
    assert.equal(units.value.filter((_, i) => within(units.ts[i]!, w)).reduce((s, v) => s + v, 0), 0);
  }
});

test('streams in bounded memory: a 10^8-reading plant starts at once, millions of readings do not accumulate', () => {
  const huge = generatePlant({ seed: 3, assets: 60, days: 7, every: '1s', chunkSize: 50_000 });
  assert.ok(huge.readings > 1e8, `planned ${huge.readings}`);
  const first = huge[Symbol.iterator]().next();
  assert.equal(first.done, false);
  assert.equal(first.value!.ts.length, 50_000);

  const plant = generatePlant({ seed: 3, assets: 30, days: 1, every: '10s', chunkSize: 10_000 });
  assert.ok(plant.readings > 1.4e6);
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  let n = 0;
  for (const b of plant) {
    n += b.ts.length;
    peak = Math.max(peak, process.memoryUsage().heapUsed - base);
  }
  assert.equal(n, plant.readings);
  // Held all at once, 1.4 M readings would need > 60 MB (8+8 bytes of numbers + 3 string refs each).
  assert.ok(peak < 60e6, `heap grew ${(peak / 1e6).toFixed(1)} MB`);
});

test('raw vibration option: instantaneous acceleration oscillating around zero at the shaft rate', () => {
  const plant = generatePlant({ seed: 4, assets: 3, from: '2024-01-01T08:00:00Z', to: '2024-01-01T08:00:02Z', every: '1ms', vibration: 'raw', faults: false });
  const s = collect(plant);
  assert.ok(!s.has('line01-motor|vib_x_rms'));
  const runs = plant.truth.runs;
  const x = s.get('line01-motor|vib_x')!;
  assert.equal(x.ts.length, 2000);
  const running = runs.some((r) => r.line === 'line01' && within(x.ts[0]!, r));
  const signChanges = x.value.filter((v, i) => i > 0 && Math.sign(v) !== Math.sign(x.value[i - 1]!)).length;
  if (running) assert.ok(signChanges > 2 * 2 * 20, `only ${signChanges} zero crossings in 2 s at ~24 Hz`);
  assert.ok(Math.abs(mean(x.value)) < 0.01);
});

test('bad options are refused with the option, the value and what was expected', () => {
  const bad: [PlantOptions, RegExp][] = [
    [{ every: '1 minute' }, /every: "1 minute" is not a duration \(expected e\.g\. "500ms", "10s"/],
    [{ every: 0 }, /every: 0 is not a duration \(expected .*must be a whole number of milliseconds >= 1\)/],
    [{ days: -1 }, /days -1 must be > 0/],
    [{ assets: 0 }, /assets 0 must be a whole number in 1\.\.10000/],
    [{ from: 'yesterday' }, /from "yesterday" is not a time/],
    [{ from: '2024-01-02T00:00:00Z', to: '2024-01-01T00:00:00Z' }, /must be after from/],
    [{ shifts: 4 as 3 }, /shifts 4 must be 1, 2 or 3/],
    [{ sites: ['a/b'] }, /site name "a\/b" must be letters/],
    [{ sites: 0 }, /sites must be a whole number >= 1/],
    [{ seed: 1.5 }, /seed 1\.5 must be an integer/],
    [{ faults: { failures: 7 } }, /faults\.failures 7 exceeds assets 6/],
    [{ chunkSize: 0 }, /chunkSize 0 must be a whole number >= 1/],
    [{ vibration: 'fft' as 'raw' }, /vibration "fft" must be rms or raw/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => generatePlant(options), (err: Error & { code?: string }) => err.code === 'BAD_INPUT' && message.test(err.message), JSON.stringify(options));
  }
});

test('a clean plant has no faults, and several sites are independent, named plants', () => {
  const clean = planPlant({ days: 3, faults: false });
  assert.deepEqual([clean.failures.length, clean.faults.length, clean.waste.length], [0, 0, 0]);
  const two = planPlant({ days: 3, sites: 2 });
  assert.deepEqual([...new Set(two.assets.map((a) => a.site))], ['sorting-centre-1', 'sorting-centre-2']);
  const runsOf = (site: string) => two.runs.filter((r) => r.site === site).map((r) => r.start);
  assert.notDeepEqual(runsOf('sorting-centre-1'), runsOf('sorting-centre-2'));
});

test('plantEnergyTable: hourly energy and production with shift and waste flags from the ground truth', () => {
  const hourly = plantEnergyTable({ seed: 1, days: 14, every: '5m' });
  assert.equal(hourly.numRows(), 14 * 24);
  const rows = hourly.objects() as { ts: number; energy_kwh: number; production_units: number; in_shift: number; waste: number }[];
  const plant = generatePlant({ seed: 1, days: 14, every: '5m' });
  let total = 0;
  for (const b of plant) b.signal.forEach((s, i) => (total += s === 'energy_kwh' ? b.value[i]! : 0));
  assert.ok(Math.abs(rows.reduce((s, r) => s + r.energy_kwh, 0) - total) < 1e-6);
  const offShift = rows.filter((r) => r.in_shift === 0 && r.production_units === 0);
  const waste = offShift.filter((r) => r.waste === 1);
  const idle = offShift.filter((r) => r.waste === 0);
  assert.ok(waste.length >= 2 && idle.length > 50);
  // An idle-running line draws several kW: a waste hour stands out from the plant's off-shift base load.
  const worst = Math.max(...waste.map((r) => r.energy_kwh));
  assert.ok(worst > Math.max(...idle.map((r) => r.energy_kwh)), `waste ${worst.toFixed(1)} kWh`);
  assert.ok(mean(rows.filter((r) => r.in_shift === 1).map((r) => r.energy_kwh)) > 1.5 * mean(idle.map((r) => r.energy_kwh)));
});
