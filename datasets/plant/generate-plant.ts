import type { ReadingBatch } from '../../lib/readings/index.ts';
import type { PlantOptions, ResolvedPlantOptions } from './options.ts';
import { planPlant, stepCount, type FailureTruth, type Interval, type PlantAsset, type PlantTruth } from './plan-plant.ts';
import { createRng, type Rng } from './random.ts';

/**
 * A synthetic plant: iterate it for columnar reading batches (each at most `chunkSize`
 * readings, in time order), read `truth` for the answer key. Iterating again replays the exact
 * same readings, so a plant can be written and then re-read for comparison.
 */
export interface SyntheticPlant extends Iterable<ReadingBatch> {
  truth: PlantTruth;
  options: ResolvedPlantOptions;
  /** Total readings the iteration yields. */
  readings: number;
}

const DAY = 86_400_000;
const MOTOR_RPM = 1480;
const GEAR_RATIO = 15;
// Per kind: vibration RMS at full load (mm/s), heat rise at idle and extra at full load (°C).
const KIND = {
  motor: { vib: 1.2, heat0: 12, heat1: 18 },
  gearbox: { vib: 1.8, heat0: 8, heat1: 16 },
  bearing: { vib: 1.0, heat0: 5, heat1: 10 },
} as const;
const AXIS = [1, 0.8, 0.6];
const LINE_RATE_PER_H = 1800; // parcels per hour per line at full load
const KWH_PER_PARCEL = 0.003; // scanners, diverters, sorter drives beyond the conveyor motor
const PERIPHERALS_KW = 1.5; // a powered line's PLC, sensors, lighting on the line
const SEVERITY_NORM = Math.exp(4) - 1;

interface LineSim {
  id: string;
  /** Runs (load > 0) and idle-running waste (load 0), sorted, non-overlapping per line. */
  intervals: (Interval & { load: number })[];
  ptr: number;
  speedFrac: number;
  load: number;
  powered: boolean;
  units: number;
  motorKw: number;
}

interface MachineSim {
  asset: PlantAsset;
  kind: 'motor' | 'gearbox' | 'bearing';
  line: LineSim;
  failure: FailureTruth | undefined;
  stuck: { signal: number; start: number; end: number; held: number }[];
  dropouts: Interval[];
  fan: { periodMs: number; onMs: number; amplitude: number } | undefined;
  temp: number;
  phase: number;
  values: Float64Array;
}

interface SiteSim {
  name: string;
  rng: Rng;
  lines: LineSim[];
  machines: MachineSim[];
  shifts: Interval[];
  shiftPtr: number;
}

/**
 * Creates a seeded, deterministic synthetic conveyor sorting centre: per site, lines of
 * motor → gearbox → bearing with 3-axis vibration, temperature, current, voltage and speed;
 * an `energy-meter` (energy_kwh, power_kw) and `plant` (production_units). Shifts and
 * production runs drive speed, current, heat, parcels and energy; some assets degrade to
 * failure; some sensors stick, drop out or sit on a cooling fan. See {@link PlantOptions}
 * for options and defaults, {@link PlantTruth} for the answer key.
 *
 * @example
 * const plant = generatePlant({ seed: 7, assets: 6, days: 7, every: '1m' });
 * for (const batch of plant) await writeReadings(root, batch);
 * plant.truth.failures; // when and where it broke
 */
export function generatePlant(options: PlantOptions = {}): SyntheticPlant {
  const truth = planPlant(options);
  return {
    truth,
    options: truth.options,
    readings: truth.readings,
    [Symbol.iterator]: () => simulate(truth),
  };
}

function buildSite(truth: PlantTruth, name: string, index: number): SiteSim {
  const opts = truth.options;
  const assets = truth.assets.filter((a) => a.site === name);
  const lineIds = [...new Set(assets.flatMap((a) => (a.line === null ? [] : [a.line])))];
  const lines: LineSim[] = lineIds.map((id) => ({
    id,
    intervals: [
      ...truth.runs.filter((r) => r.site === name && r.line === id).map((r) => ({ start: r.start, end: r.end, load: r.load })),
      ...truth.waste.filter((w) => w.site === name && w.line === id).map((w) => ({ start: w.start, end: w.end, load: 0 })),
    ].sort((a, b) => a.start - b.start),
    ptr: 0,
    speedFrac: 0,
    load: 0,
    powered: false,
    units: 0,
    motorKw: 0,
  }));
  const ambient0 = 19;
  const machines: MachineSim[] = assets
    .filter((a) => a.line !== null)
    .map((asset) => {
      const faults = truth.faults.filter((f) => f.site === name && f.asset === asset.asset);
      const fan = faults.find((f) => f.kind === 'fan');
      return {
        asset,
        kind: asset.kind as MachineSim['kind'],
        line: lines.find((l) => l.id === asset.line)!,
        failure: truth.failures.find((f) => f.site === name && f.asset === asset.asset),
        stuck: faults
          .filter((f) => f.kind === 'stuck')
          .flatMap((f) => f.signals.map((s) => ({ signal: asset.signals.indexOf(s), start: f.start, end: f.end, held: Number.NaN }))),
        dropouts: faults.filter((f) => f.kind === 'dropout'),
        fan: fan ? { periodMs: fan.periodMs!, onMs: fan.periodMs! * fan.dutyCycle!, amplitude: fan.amplitude! } : undefined,
        temp: ambient0,
        phase: 0,
        values: new Float64Array(asset.signals.length),
      };
    });
  return { name, rng: createRng(opts.seed, 1000 + index), lines, machines, shifts: truth.shifts.filter((s) => s.site === name), shiftPtr: 0 };
}

function* simulate(truth: PlantTruth): Generator<ReadingBatch> {
  const opts = truth.options;
  const sites = opts.sites.map((name, i) => buildSite(truth, name, i));
  const steps = stepCount(opts);
  const dt = opts.everyMs;
  const dtH = dt / 3_600_000;
  const tempAlpha = 1 - Math.exp(-dt / (20 * 60_000));
  const offset = opts.utcOffsetMinutes * 60_000;
  const raw = opts.vibration === 'raw';
  const size = opts.chunkSize;

  let ts = new Float64Array(size);
  // Strings are pushed (packed arrays); a preallocated `new Array(n)` over ~100k goes to slow dictionary mode.
  let site: string[] = [];
  let asset: string[] = [];
  let signal: string[] = [];
  let value = new Float64Array(size);
  let k = 0;
  const flush = (): ReadingBatch => {
    const batch: ReadingBatch =
      k === size ? { ts, site, asset, signal, value } : { ts: ts.slice(0, k), site, asset, signal, value: value.slice(0, k) };
    ts = new Float64Array(size);
    site = [];
    asset = [];
    signal = [];
    value = new Float64Array(size);
    k = 0;
    return batch;
  };

  for (let step = 0; step < steps; step++) {
    const t = opts.from + step * dt;
    const localHour = (((t + offset) % DAY) + DAY) % DAY / 3_600_000;
    const ambient = 19 + 4 * Math.sin((2 * Math.PI * (localHour - 9)) / 24);
    for (const s of sites) {
      const rng = s.rng;
      while (s.shiftPtr < s.shifts.length && s.shifts[s.shiftPtr]!.end <= t) s.shiftPtr++;
      const shift = s.shifts[s.shiftPtr];
      const inShift = shift !== undefined && t >= shift.start;
      const voltage = 400 + 3 * Math.sin((2 * Math.PI * t) / DAY) + 1.5 * rng.normal();
      // Line states from the run schedule.
      for (const line of s.lines) {
        while (line.ptr < line.intervals.length && line.intervals[line.ptr]!.end <= t) line.ptr++;
        const iv = line.intervals[line.ptr];
        const on = iv !== undefined && t >= iv.start;
        line.powered = on;
        line.load = on ? iv.load : 0;
        line.speedFrac = on ? 0.85 + 0.15 * line.load : 0;
        line.motorKw = 0;
        if (line.load > 0) {
          const mean = LINE_RATE_PER_H * line.load * dtH;
          line.units = Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
        } else line.units = 0;
      }
      // Machines.
      for (const m of s.machines) {
        const line = m.line;
        let sev = 0;
        let speedFrac = line.speedFrac;
        const f = m.failure;
        if (f !== undefined && t >= f.degradationStart && t < f.repairedAt) {
          if (t < f.failure) sev = (Math.exp((4 * (t - f.degradationStart)) / (f.failure - f.degradationStart)) - 1) / SEVERITY_NORM;
          else speedFrac = 0; // broken until repaired
        }
        const running = speedFrac > 0;
        const load = running ? line.load : 0;
        const spec = KIND[m.kind];
        const v = m.values;
        // Vibration (axes 0..2).
        let fanOn = false;
        if (m.fan !== undefined) fanOn = (t - opts.from) % m.fan.periodMs < m.fan.onMs;
        const level = running ? spec.vib * (0.7 + 0.3 * load) * speedFrac * (1 + 5 * sev) : 0.05;
        if (!raw) {
          for (let a = 0; a < 3; a++) {
            let x = running ? level * AXIS[a]! * (1 + 0.05 * rng.normal()) : 0.05 + 0.02 * Math.abs(rng.normal());
            if (fanOn) x = Math.sqrt(x * x + m.fan!.amplitude * m.fan!.amplitude);
            v[a] = x;
          }
        } else {
          const shaftHz = (MOTOR_RPM * speedFrac) / 60 / (m.kind === 'motor' ? 1 : GEAR_RATIO);
          m.phase = (m.phase + 2 * Math.PI * shaftHz * (dt / 1000)) % (2 * Math.PI);
          const g = running ? level * 0.02 : 0.001; // ~0.02 g peak per mm/s RMS at shaft rate
          const fanG = fanOn ? m.fan!.amplitude * Math.sin((2 * Math.PI * 48 * (t - opts.from)) / 1000) : 0;
          for (let a = 0; a < 3; a++) {
            const p = m.phase + a * 0.9;
            v[a] =
              AXIS[a]! * (g * Math.SQRT2 * Math.sin(p) + 0.3 * g * Math.sin(2 * p + 0.7) + sev * g * 2 * Math.sin(3.58 * p)) +
              fanG +
              (0.1 * g + 0.002) * rng.normal();
          }
        }
        // Temperature: first-order lag towards ambient + load heat + friction of a worn part.
        const target = ambient + (running ? spec.heat0 + spec.heat1 * load : 0) + 25 * sev * (running ? 1 : 0.3);
        m.temp += (target - m.temp) * tempAlpha;
        v[3] = m.temp + 0.1 * rng.normal();
        if (m.kind === 'motor') {
          const current = running ? 4 + 14 * load + 2 * sev + 0.15 * rng.normal() : 0.02 * Math.abs(rng.normal());
          v[4] = current;
          v[5] = voltage + 0.3 * rng.normal();
          v[6] = running ? MOTOR_RPM * speedFrac + 2 * rng.normal() : 0;
          line.motorKw += (Math.sqrt(3) * v[5] * current * 0.85) / 1000;
        } else if (m.kind === 'gearbox') {
          v[4] = running ? (MOTOR_RPM * speedFrac) / GEAR_RATIO + 0.15 * rng.normal() : 0;
        }
        // Emit, honouring dropouts (nothing) and stuck sensors (held value).
        if (m.dropouts.length > 0 && m.dropouts.some((d) => t >= d.start && t < d.end)) continue;
        for (const st of m.stuck) {
          if (t >= st.start && t < st.end) {
            if (Number.isNaN(st.held)) st.held = v[st.signal]!;
            v[st.signal] = st.held;
          }
        }
        const signals = m.asset.signals;
        for (let i = 0; i < signals.length; i++) {
          ts[k] = t;
          site.push(s.name);
          asset.push(m.asset.asset);
          signal.push(signals[i]!);
          value[k] = v[i]!;
          if (++k === size) yield flush();
        }
      }
      // Plant: parcels and the energy meter.
      let units = 0;
      let kw = 18 + (inShift ? 12 : 0);
      for (const line of s.lines) {
        units += line.units;
        kw += line.motorKw + (line.powered ? PERIPHERALS_KW : 0);
      }
      kw += (KWH_PER_PARCEL * units) / dtH;
      kw *= 1 + 0.01 * rng.normal();
      const plantValues: [string, string, number][] = [
        ['energy-meter', 'energy_kwh', kw * dtH],
        ['energy-meter', 'power_kw', kw],
        ['plant', 'production_units', units],
      ];
      for (const [a, sig, val] of plantValues) {
        ts[k] = t;
        site.push(s.name);
        asset.push(a);
        signal.push(sig);
        value[k] = val;
        if (++k === size) yield flush();
      }
    }
  }
  if (k > 0) yield flush();
}
