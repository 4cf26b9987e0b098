import { createRng, type Rng } from './random.ts';
import { resolvePlantOptions, type PlantOptions, type ResolvedPlantOptions } from './options.ts';

/** Machine kinds on a conveyor line (each line: motor → gearbox → head-pulley bearing). */
export type MachineKind = 'motor' | 'gearbox' | 'bearing';

/** One asset of the synthetic plant and the signals it reports. */
export interface PlantAsset {
  site: string;
  asset: string;
  kind: MachineKind | 'energy-meter' | 'production';
  /** Conveyor line id (`line01`), or null for the plant-level assets. */
  line: string | null;
  signals: string[];
}

/** A half-open time interval [start, end) in epoch ms UTC. */
export interface Interval {
  start: number;
  end: number;
}

/** A staffed shift. `factor` scales production (Saturday and night shifts are quieter). */
export interface ShiftTruth extends Interval {
  site: string;
  name: 'early' | 'late' | 'night';
  factor: number;
}

/** A production run of a line: speed and current up, parcels flowing. `load` in 0..1. */
export interface RunTruth extends Interval {
  site: string;
  line: string;
  load: number;
}

/** A line left running idle outside shifts: energy used, nothing produced. */
export interface WasteTruth extends Interval {
  site: string;
  line: string;
}

/** An asset that degrades (vibration and temperature rise) and then fails. */
export interface FailureTruth {
  site: string;
  asset: string;
  line: string;
  /** When degradation becomes measurable. */
  degradationStart: number;
  /** The failure event: the line stops. */
  failure: number;
  /** Repaired (part replaced): healthy again, the line may run. */
  repairedAt: number;
}

/** A sensor fault: `stuck` holds a value, `dropout` sends nothing, `fan` adds periodic vibration. */
export interface SensorFaultTruth extends Interval {
  site: string;
  asset: string;
  kind: 'stuck' | 'dropout' | 'fan';
  /** Signals affected. */
  signals: string[];
  /** Fan only: cycle period (ms), fraction of the period the fan runs, added RMS (mm/s or g). */
  periodMs?: number;
  dutyCycle?: number;
  amplitude?: number;
}

/**
 * Everything the generator decided before drawing a single reading: the answer key for tests,
 * benchmarks and model training (failure times, fault intervals, runs, waste).
 */
export interface PlantTruth {
  options: ResolvedPlantOptions;
  assets: PlantAsset[];
  /** Unit of each signal name. */
  units: Record<string, string>;
  shifts: ShiftTruth[];
  runs: RunTruth[];
  waste: WasteTruth[];
  failures: FailureTruth[];
  faults: SensorFaultTruth[];
  /** Readings the plant emits (every signal at every step, minus dropouts). */
  readings: number;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Signals by asset kind and vibration mode. */
export function signalsOf(kind: PlantAsset['kind'], vibration: 'rms' | 'raw'): string[] {
  const vib = vibration === 'rms' ? ['vib_x_rms', 'vib_y_rms', 'vib_z_rms'] : ['vib_x', 'vib_y', 'vib_z'];
  switch (kind) {
    case 'motor':
      return [...vib, 'temperature', 'current', 'voltage', 'speed'];
    case 'gearbox':
      return [...vib, 'temperature', 'speed'];
    case 'bearing':
      return [...vib, 'temperature'];
    case 'energy-meter':
      return ['energy_kwh', 'power_kw'];
    case 'production':
      return ['production_units'];
  }
}

/** Units of every signal the generator emits. */
export const PLANT_UNITS: Record<string, string> = {
  vib_x_rms: 'mm/s',
  vib_y_rms: 'mm/s',
  vib_z_rms: 'mm/s',
  vib_x: 'g',
  vib_y: 'g',
  vib_z: 'g',
  temperature: '°C',
  current: 'A',
  voltage: 'V',
  speed: 'rpm',
  energy_kwh: 'kWh per sample interval',
  power_kw: 'kW',
  production_units: 'parcels per sample interval',
};

const KINDS: MachineKind[] = ['motor', 'gearbox', 'bearing'];

/** Machine and plant-level assets of one site. */
export function plantAssets(site: string, opts: ResolvedPlantOptions): PlantAsset[] {
  const out: PlantAsset[] = [];
  for (let i = 0; i < opts.assets; i++) {
    const line = `line${String(Math.floor(i / 3) + 1).padStart(2, '0')}`;
    const kind = KINDS[i % 3]!;
    out.push({ site, asset: `${line}-${kind}`, kind, line, signals: signalsOf(kind, opts.vibration) });
  }
  out.push({ site, asset: 'energy-meter', kind: 'energy-meter', line: null, signals: signalsOf('energy-meter', opts.vibration) });
  out.push({ site, asset: 'plant', kind: 'production', line: null, signals: signalsOf('production', opts.vibration) });
  return out;
}

/** Staffed shifts of one site between from and to, in the plant's local clock. */
function planShifts(site: string, opts: ResolvedPlantOptions): ShiftTruth[] {
  const offset = opts.utcOffsetMinutes * 60_000;
  const firstDay = Math.floor((opts.from + offset) / DAY) * DAY - DAY;
  const shifts: ShiftTruth[] = [];
  for (let day = firstDay; day - offset < opts.to; day += DAY) {
    const dow = new Date(day).getUTCDay(); // local day of week: 0 Sunday .. 6 Saturday
    const defs: [ShiftTruth['name'], number, number, number][] = [];
    if (dow >= 1 && dow <= 5) {
      defs.push(['early', 6, 14, 1]);
      if (opts.shifts >= 2) defs.push(['late', 14, 22, 0.9]);
      if (opts.shifts === 3) defs.push(['night', 22, 30, 0.5]);
    } else if (dow === 6) {
      defs.push(['early', 6, 14, 0.6]);
    }
    for (const [name, h0, h1, factor] of defs) {
      const start = Math.max(opts.from, day + h0 * HOUR - offset);
      const end = Math.min(opts.to, day + h1 * HOUR - offset);
      if (end > start) shifts.push({ site, name, start, end, factor });
    }
  }
  return shifts;
}

/** Contiguous staffed periods (shifts merged), which runs are laid into. */
function blocksOf(shifts: ShiftTruth[]): (Interval & { factorAt: (t: number) => number })[] {
  const blocks: (Interval & { parts: ShiftTruth[] })[] = [];
  for (const s of shifts) {
    const last = blocks[blocks.length - 1];
    if (last && last.end === s.start) {
      last.end = s.end;
      last.parts.push(s);
    } else blocks.push({ start: s.start, end: s.end, parts: [s] });
  }
  return blocks.map((b) => ({ start: b.start, end: b.end, factorAt: (t) => b.parts.find((p) => t >= p.start && t < p.end)?.factor ?? 1 }));
}

function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end;
}

/** Cuts `outages` out of `runs` (a run cut below the minimum length is dropped). */
function cutRuns(runs: RunTruth[], outages: Interval[], minMs: number): RunTruth[] {
  let out = runs;
  for (const o of outages) {
    out = out.flatMap((r) => {
      if (!overlaps(r, o)) return [r];
      const pieces: RunTruth[] = [];
      if (o.start - r.start >= minMs) pieces.push({ ...r, end: o.start });
      if (r.end - o.end >= minMs) pieces.push({ ...r, start: o.end });
      return pieces;
    });
  }
  return out;
}

function pick<T>(rng: Rng, items: T[]): T {
  return items[rng.int(items.length)]!;
}

/**
 * Plans the whole plant (shifts, runs, waste, failures, sensor faults) without generating
 * readings: cheap even for a 10^8-reading plant, and exactly what {@link generatePlant} uses.
 *
 * @example
 * const truth = planPlant({ seed: 7, days: 30 });
 * truth.failures; // [{ asset: 'line02-bearing', failure: ..., ... }]
 */
export function planPlant(options: PlantOptions = {}): PlantTruth {
  const opts = resolvePlantOptions(options);
  const truth: PlantTruth = { options: opts, assets: [], units: { ...PLANT_UNITS }, shifts: [], runs: [], waste: [], failures: [], faults: [], readings: 0 };
  const span = opts.to - opts.from;
  const minRun = opts.minRunMinutes * 60_000;
  opts.sites.forEach((site, siteIndex) => {
    const rng = createRng(opts.seed, siteIndex);
    const assets = plantAssets(site, opts);
    const machines = assets.filter((a) => a.line !== null);
    const lines = [...new Set(machines.map((a) => a.line!))];
    const shifts = planShifts(site, opts);
    const blocks = blocksOf(shifts);

    // Failures first: the line is down from failure until repair, so no runs then.
    const failing = [...machines];
    const failures: FailureTruth[] = [];
    for (let k = 0; k < opts.faults.failures; k++) {
      const asset = failing.splice(rng.int(failing.length), 1)[0]!;
      const failure = Math.round(opts.from + span * rng.uniform(0.5, 0.92));
      const degradationStart = Math.round(failure - Math.min(5 * DAY, 0.4 * span) * rng.uniform(0.8, 1));
      const repairedAt = Math.min(opts.to, failure + Math.round(Math.min(12 * HOUR, 0.05 * span)));
      failures.push({ site, asset: asset.asset, line: asset.line!, degradationStart, failure, repairedAt });
    }

    // Production runs per line, laid into staffed blocks: run, idle gap, run, ...
    const runs: RunTruth[] = [];
    for (const line of lines) {
      let lineRuns: RunTruth[] = [];
      for (const block of blocks) {
        let t = block.start + rng.uniform(5, 20) * 60_000;
        while (block.end - t >= minRun) {
          const duration = Math.min(block.end - t, minRun + rng.exponential(60 * 60_000));
          const load = Math.min(1, rng.uniform(0.6, 1) * block.factorAt(t));
          lineRuns.push({ site, line, start: Math.round(t), end: Math.round(t + duration), load: Math.round(load * 1000) / 1000 });
          t += duration + rng.uniform(10, 40) * 60_000;
        }
      }
      const outages = failures.filter((f) => f.line === line).map((f) => ({ start: f.failure, end: f.repairedAt }));
      lineRuns = cutRuns(lineRuns, outages, Math.min(minRun, 10 * 60_000));
      runs.push(...lineRuns);
    }

    // Waste: a line left running idle after the last shift of a day, until someone notices.
    const waste: WasteTruth[] = [];
    const evenings = blocks.map((b, i) => ({ start: b.end, end: Math.min(blocks[i + 1]?.start ?? opts.to, opts.to) })).filter((g) => g.end - g.start >= 2 * HOUR);
    for (let k = 0; k < opts.faults.waste && evenings.length > 0; k++) {
      const gap = pick(rng, evenings);
      const line = pick(rng, lines);
      const w = { site, line, start: gap.start, end: Math.min(gap.end, Math.round(gap.start + rng.uniform(2, 6) * HOUR)) };
      const down = failures.some((f) => f.line === line && overlaps(w, { start: f.failure, end: f.repairedAt }));
      if (!down && !waste.some((o) => o.line === line && overlaps(o, w))) waste.push(w);
    }

    // Sensor faults.
    const faults: SensorFaultTruth[] = [];
    for (let k = 0; k < opts.faults.stuck; k++) {
      const asset = pick(rng, machines);
      const duration = Math.min(rng.uniform(2, 8) * HOUR, 0.1 * span);
      const start = Math.round(rng.uniform(opts.from, opts.to - duration));
      faults.push({ site, asset: asset.asset, kind: 'stuck', signals: [pick(rng, asset.signals)], start, end: Math.round(start + duration) });
    }
    for (let k = 0; k < opts.faults.dropouts; k++) {
      const asset = pick(rng, machines);
      const duration = Math.min(rng.uniform(0.5, 3) * HOUR, 0.05 * span);
      const start = Math.round(rng.uniform(opts.from, opts.to - duration));
      faults.push({ site, asset: asset.asset, kind: 'dropout', signals: [...asset.signals], start, end: Math.round(start + duration) });
    }
    const motors = machines.filter((a) => a.kind === 'motor');
    for (let k = 0; k < Math.min(opts.faults.fanMounted, motors.length); k++) {
      const asset = motors.splice(rng.int(motors.length), 1)[0]!;
      faults.push({
        site,
        asset: asset.asset,
        kind: 'fan',
        signals: asset.signals.filter((s) => s.startsWith('vib_')),
        start: opts.from,
        end: opts.to,
        periodMs: 10 * 60_000,
        dutyCycle: 0.6,
        amplitude: opts.vibration === 'rms' ? 2.5 : 0.05,
      });
    }

    truth.assets.push(...assets);
    truth.shifts.push(...shifts);
    truth.runs.push(...runs.sort((a, b) => a.start - b.start || a.line.localeCompare(b.line)));
    truth.waste.push(...waste.sort((a, b) => a.start - b.start));
    truth.failures.push(...failures);
    truth.faults.push(...faults);
  });
  truth.readings = countReadings(truth);
  return truth;
}

/** Number of steps from..to at the sample interval. */
export function stepCount(opts: ResolvedPlantOptions): number {
  return Math.ceil((opts.to - opts.from) / opts.everyMs);
}

function countReadings(truth: PlantTruth): number {
  const opts = truth.options;
  const steps = stepCount(opts);
  let total = truth.assets.reduce((s, a) => s + a.signals.length, 0) * steps;
  // Dropouts on one asset may overlap: count missing steps per asset on the union.
  const byAsset = new Map<string, Interval[]>();
  for (const f of truth.faults) {
    if (f.kind !== 'dropout') continue;
    const key = `${f.site}\u0000${f.asset}`;
    byAsset.set(key, [...(byAsset.get(key) ?? []), f]);
  }
  for (const [key, intervals] of byAsset) {
    const [site, asset] = key.split('\u0000');
    const n = truth.assets.find((a) => a.site === site && a.asset === asset)!.signals.length;
    // Steps k with from + k*every in [start, end), over the union of the intervals.
    const merged = [...intervals].sort((a, b) => a.start - b.start).reduce<Interval[]>((acc, i) => {
      const last = acc[acc.length - 1];
      if (last && i.start <= last.end) last.end = Math.max(last.end, i.end);
      else acc.push({ ...i });
      return acc;
    }, []);
    const index = (t: number) => Math.min(steps, Math.max(0, Math.ceil((t - opts.from) / opts.everyMs)));
    const missing = merged.reduce((m, i) => m + index(i.end) - index(i.start), 0);
    total -= missing * n;
  }
  return total;
}
