import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';
import { concatColumns, type Columns } from './concat-columns.ts';
import { datasetPath } from './data-dir.ts';
import { parseDelimited } from './parse-delimited.ts';
import { parseZonelessTime } from './zoneless-time.ts';

/** SKAB experiment groups (sub-folders of `skab/data`). */
export const SKAB_GROUPS = ['anomaly-free', 'valve1', 'valve2', 'other'] as const;
export type SkabGroup = (typeof SKAB_GROUPS)[number];

/** Sensor columns of SKAB, source name → millwright name. */
export const SKAB_SIGNALS: Record<string, string> = {
  Accelerometer1RMS: 'accelerometer1_rms',
  Accelerometer2RMS: 'accelerometer2_rms',
  Current: 'current',
  Pressure: 'pressure',
  Temperature: 'temperature',
  Thermocouple: 'thermocouple',
  Voltage: 'voltage',
  'Volume Flow RateRMS': 'volume_flow_rate_rms',
};

/** Options of {@link loadSkab}. */
export interface SkabOptions {
  /** Experiment groups to load (default: all four). */
  groups?: SkabGroup[];
  /**
   * SKAB timestamps carry no zone. The testbed is at Skoltech, Moscow (UTC+3), but the
   * published files never say so; by default they are read AS UTC (offset 0) so the
   * timestamps print exactly as in the files. Pass 180 for Moscow time.
   */
  utcOffsetMinutes?: number;
}

/**
 * Loads the SKAB water-pump testbed: one row per second per experiment, columns `ts` (epoch ms),
 * `experiment` (e.g. `valve1/3`, `anomaly-free/anomaly-free`), `group`, the 8 sensor columns
 * (see {@link SKAB_SIGNALS}), `anomaly` and `changepoint` (0 for the anomaly-free run, which has
 * no label columns). Experiments are concatenated in group then numeric order; experiments
 * overlap in time, so `(experiment, ts)` is the key, not `ts`.
 *
 * @param dir data directory (default `MILLWRIGHT_DATA_DIR`)
 * @example
 * loadSkab(undefined, { groups: ['valve1'] }).groupby('experiment').count();
 */
export function loadSkab(dir?: string, options: SkabOptions = {}): ColumnTable {
  const groups = options.groups ?? [...SKAB_GROUPS];
  for (const g of groups) {
    if (!(SKAB_GROUPS as readonly string[]).includes(g)) {
      throw new MillwrightError('BAD_INPUT', `SKAB group "${g}" is unknown (expected one of ${SKAB_GROUPS.join(', ')})`);
    }
  }
  const parts: Columns[] = [];
  for (const group of groups) {
    const folder = datasetPath('skab', join('data', group), dir);
    const files = readdirSync(folder)
      .filter((f) => f.endsWith('.csv'))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const file of files) parts.push(loadSkabFile(join(folder, file), `${group}/${file.replace(/\.csv$/, '')}`, group, options));
  }
  if (parts.length === 0) throw new MillwrightError('NOT_FOUND', `SKAB: no CSV files found for groups ${groups.join(', ')}`);
  return concatColumns(parts);
}

function loadSkabFile(path: string, experiment: string, group: string, options: SkabOptions): Columns {
  const text = readFileSync(path, 'utf8');
  const parsed = parseDelimited(text, { delimiter: ';', kinds: { datetime: 'string' }, source: path });
  const expected = ['datetime', ...Object.keys(SKAB_SIGNALS)];
  for (const name of expected) {
    if (!parsed.names.includes(name)) throw new MillwrightError('BAD_INPUT', `${path}: missing column "${name}"`);
  }
  const n = parsed.rows;
  const stamps = parsed.columns.datetime as string[];
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) ts[i] = parseZonelessTime(stamps[i]!, options.utcOffsetMinutes ?? 0, `${path} line ${i + 2}`);
  const columns: Columns = {
    ts,
    experiment: new Array<string>(n).fill(experiment),
    group: new Array<string>(n).fill(group),
  };
  for (const [from, to] of Object.entries(SKAB_SIGNALS)) columns[to] = parsed.columns[from]!;
  columns.anomaly = parsed.columns.anomaly ?? new Float64Array(n);
  columns.changepoint = parsed.columns.changepoint ?? new Float64Array(n);
  return columns;
}
