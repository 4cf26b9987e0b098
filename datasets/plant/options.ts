import { MillwrightError } from '../../lib/errors/index.ts';
import { parseDuration } from '../../lib/units/index.ts';

/** Which sensor faults and events to plant (counts are per site). */
export interface PlantFaultOptions {
  /** Assets that degrade to failure (default: one per 6 machine assets, at least 1). */
  failures?: number;
  /** Stuck sensors: one signal holds its value for 2-8 h (default 1). */
  stuck?: number;
  /** Dropouts: an asset's gateway sends nothing for 30 min - 3 h (default 2). */
  dropouts?: number;
  /** Vibration sensors mounted on a motor's cooling fan: periodic vibration unrelated to load (default 1). */
  fanMounted?: number;
  /** Evenings a line is left running idle after the last shift: wasted energy (default 1 per 7 days). */
  waste?: number;
}

/**
 * Options of {@link generatePlant}. Every field has a default, so `generatePlant()` is the demo
 * plant: one sorting centre, 6 machine assets (2 conveyor lines), 14 days from 2024-01-01 at
 * one reading per signal per minute (about 0.7 M readings).
 */
export interface PlantOptions {
  /** Seed of every random choice (default 1). Same seed and options, same readings. */
  seed?: number;
  /** Number of sites, or their names (default 1 → `sorting-centre-1`). */
  sites?: number | string[];
  /** Machine assets per site (default 6); assets come in lines of motor, gearbox, bearing. */
  assets?: number;
  /** Start, ISO string or epoch ms (default `2024-01-01T00:00:00Z`, a Monday). */
  from?: string | number | Date;
  /** Days to generate (default 14); ignored when `to` is given. */
  days?: number;
  /** End (exclusive), ISO string or epoch ms. */
  to?: string | number | Date;
  /** Sample interval: `'1s'`, `'10s'`, `'1m'`, `'500ms'`, or ms (default `'1m'`). */
  every?: string | number;
  /** Shifts per weekday: 1 (06-14), 2 (06-22) or 3 (around the clock); Saturday is one quieter shift, Sunday closed (default 2). */
  shifts?: 1 | 2 | 3;
  /** Plant local time east of UTC, in minutes: shifts follow the local clock (default 0). */
  utcOffsetMinutes?: number;
  /** `'rms'`: vib_{x,y,z}_rms in mm/s, what a PLC reports; `'raw'`: vib_{x,y,z} instantaneous acceleration in g (use a small `every`). Default `'rms'`. */
  vibration?: 'rms' | 'raw';
  /** Faults and events to plant; `false` for a clean plant (default: see {@link PlantFaultOptions}). */
  faults?: boolean | PlantFaultOptions;
  /** Shortest production run in minutes (default 45). */
  minRunMinutes?: number;
  /** Readings per yielded batch (default 65,536). Memory use is bounded by this, not by the plant size. */
  chunkSize?: number;
}

/** Options with every default filled in, as recorded in the ground truth. */
export interface ResolvedPlantOptions {
  seed: number;
  sites: string[];
  assets: number;
  from: number;
  to: number;
  everyMs: number;
  shifts: 1 | 2 | 3;
  utcOffsetMinutes: number;
  vibration: 'rms' | 'raw';
  faults: Required<PlantFaultOptions>;
  minRunMinutes: number;
  chunkSize: number;
}

/**
 * Parses a sample interval (`'1s'`, `'10s'`, `'1m'`, `'250ms'`, `'1h'`, or a number of ms).
 *
 * @example
 * parseInterval('10s'); // 10000
 */
export function parseInterval(every: string | number): number {
  return parseDuration(every, { what: 'every', positive: true, whole: 'require' });
}

function parseTime(value: string | number | Date, name: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new MillwrightError('BAD_INPUT', `${name} "${String(value)}" is not a time (expected an ISO 8601 string or epoch ms)`);
  return ms;
}

function count(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 0) throw new MillwrightError('BAD_INPUT', `faults.${name} ${v} must be a whole number >= 0`);
  return v;
}

/** Fills defaults and validates, throwing BAD_INPUT with the offending option and what was expected. */
export function resolvePlantOptions(options: PlantOptions = {}): ResolvedPlantOptions {
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new MillwrightError('BAD_INPUT', `seed ${seed} must be an integer`);
  const sites = typeof options.sites === 'object' ? options.sites : Array.from({ length: options.sites ?? 1 }, (_, i) => `sorting-centre-${i + 1}`);
  if (sites.length === 0 || (typeof options.sites === 'number' && !Number.isInteger(options.sites))) {
    throw new MillwrightError('BAD_INPUT', `sites must be a whole number >= 1 or a non-empty list of names (got ${JSON.stringify(options.sites)})`);
  }
  if (new Set(sites).size !== sites.length) throw new MillwrightError('BAD_INPUT', `site names must be unique (got ${sites.join(', ')})`);
  for (const site of sites) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(site)) throw new MillwrightError('BAD_INPUT', `site name "${site}" must be letters, digits, _ . - (it becomes a partition directory)`);
  }
  const assets = options.assets ?? 6;
  if (!Number.isInteger(assets) || assets < 1 || assets > 10_000) throw new MillwrightError('BAD_INPUT', `assets ${assets} must be a whole number in 1..10000`);
  const from = parseTime(options.from ?? '2024-01-01T00:00:00Z', 'from');
  const days = options.days ?? 14;
  if (options.to === undefined && (!Number.isFinite(days) || days <= 0)) throw new MillwrightError('BAD_INPUT', `days ${days} must be > 0`);
  const to = options.to === undefined ? from + days * 86_400_000 : parseTime(options.to, 'to');
  if (to <= from) throw new MillwrightError('BAD_INPUT', `to (${new Date(to).toISOString()}) must be after from (${new Date(from).toISOString()})`);
  const everyMs = parseInterval(options.every ?? '1m');
  if (everyMs > to - from) throw new MillwrightError('BAD_INPUT', `every (${everyMs} ms) is longer than the whole span`);
  const shifts = options.shifts ?? 2;
  if (shifts !== 1 && shifts !== 2 && shifts !== 3) throw new MillwrightError('BAD_INPUT', `shifts ${String(shifts)} must be 1, 2 or 3`);
  const vibration = options.vibration ?? 'rms';
  if (vibration !== 'rms' && vibration !== 'raw') throw new MillwrightError('BAD_INPUT', `vibration "${String(vibration)}" must be rms or raw`);
  const utcOffsetMinutes = options.utcOffsetMinutes ?? 0;
  if (!Number.isInteger(utcOffsetMinutes) || Math.abs(utcOffsetMinutes) > 14 * 60) throw new MillwrightError('BAD_INPUT', `utcOffsetMinutes ${utcOffsetMinutes} must be a whole number of minutes within ±840`);
  const minRunMinutes = options.minRunMinutes ?? 45;
  if (!(minRunMinutes > 0 && minRunMinutes <= 8 * 60)) throw new MillwrightError('BAD_INPUT', `minRunMinutes ${minRunMinutes} must be in (0, 480]`);
  const chunkSize = options.chunkSize ?? 65_536;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new MillwrightError('BAD_INPUT', `chunkSize ${chunkSize} must be a whole number >= 1`);
  const f = options.faults === false ? { failures: 0, stuck: 0, dropouts: 0, fanMounted: 0, waste: 0 } : options.faults === true || options.faults === undefined ? {} : options.faults;
  const spanDays = (to - from) / 86_400_000;
  const faults = {
    failures: count(f.failures, Math.max(1, Math.round(assets / 6)), 'failures'),
    stuck: count(f.stuck, 1, 'stuck'),
    dropouts: count(f.dropouts, 2, 'dropouts'),
    fanMounted: count(f.fanMounted, 1, 'fanMounted'),
    waste: count(f.waste, Math.max(1, Math.round(spanDays / 7)), 'waste'),
  };
  if (faults.failures > assets) throw new MillwrightError('BAD_INPUT', `faults.failures ${faults.failures} exceeds assets ${assets}`);
  return { seed, sites, assets, from, to, everyMs, shifts, utcOffsetMinutes, vibration, faults, minRunMinutes, chunkSize };
}
