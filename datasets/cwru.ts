import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';
import { concatColumns } from './concat-columns.ts';
import { datasetPath } from './data-dir.ts';
import { parseDelimited } from './parse-delimited.ts';

/** CWRU drive-end data here was sampled at 12 kHz. */
export const CWRU_SAMPLE_RATE = 12_000;

/** Fault classes of the four CWRU recordings (1797 rpm, 0.007 in faults), and their files. */
export const CWRU_FILES = {
  normal: '1797_Normal.csv.gz',
  inner_race: '1797_IR_7_DE12.csv.gz',
  ball: '1797_B_7_DE12.csv.gz',
  outer_race: '1797_ORat6_7_DE12.csv.gz',
} as const;
export type CwruFault = keyof typeof CWRU_FILES;

/** Options of {@link loadCwru}. */
export interface CwruOptions {
  /** Recordings to load (default: all four, in the order normal, inner_race, ball, outer_race). */
  faults?: CwruFault[];
}

/**
 * Loads the CWRU bearing recordings: raw acceleration in g at {@link CWRU_SAMPLE_RATE} Hz.
 * Columns `fault`, `sample` (index within the recording), `time_s` (sample / 12000),
 * `de_g`, `fe_g`, `ba_g` (drive end, fan end, base; `ba_g` is NaN for the normal recording,
 * which has no base accelerometer). There is no wall-clock time in this dataset, so no `ts`:
 * {@link cwruToReadings} places windows on a timeline you choose.
 *
 * @param dir data directory (default `MILLWRIGHT_DATA_DIR`)
 * @example
 * const ir = loadCwru(undefined, { faults: ['inner_race'] }); // 121,265 samples, ~10.1 s
 */
export function loadCwru(dir?: string, options: CwruOptions = {}): ColumnTable {
  const faults = options.faults ?? (Object.keys(CWRU_FILES) as CwruFault[]);
  const parts = faults.map((fault) => {
    const file = CWRU_FILES[fault];
    if (file === undefined) {
      throw new MillwrightError('BAD_INPUT', `CWRU fault "${fault}" is unknown (expected one of ${Object.keys(CWRU_FILES).join(', ')})`);
    }
    const path = datasetPath('cwru-bearing', file, dir);
    const parsed = parseDelimited(gunzipSync(readFileSync(path)).toString('utf8'), { source: path });
    for (const need of ['sample', 'DE_g', 'FE_g']) {
      if (!parsed.names.includes(need)) throw new MillwrightError('BAD_INPUT', `${path}: missing column "${need}"`);
    }
    const n = parsed.rows;
    const sample = parsed.columns.sample as Float64Array;
    const time = new Float64Array(n);
    for (let i = 0; i < n; i++) time[i] = sample[i]! / CWRU_SAMPLE_RATE;
    return {
      fault: new Array<string>(n).fill(fault),
      sample,
      time_s: time,
      de_g: parsed.columns.DE_g!,
      fe_g: parsed.columns.FE_g!,
      ba_g: parsed.columns.BA_g ?? new Float64Array(n).fill(Number.NaN),
    };
  });
  if (parts.length === 0) throw new MillwrightError('BAD_INPUT', 'CWRU: faults is empty (expected at least one)');
  return concatColumns(parts);
}
