import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';
import { concatColumns } from './concat-columns.ts';
import { datasetPath } from './data-dir.ts';
import { parseDelimited } from './parse-delimited.ts';
import { parseZonelessTime } from './zoneless-time.ts';

/** IMS raw snapshots: 20,480 samples per channel at 20 kHz (about 1 s every 10 min). */
export const IMS_SAMPLE_RATE = 20_000;

const FILE_NAME = /^\d{4}\.\d{2}\.\d{2}\.\d{2}\.\d{2}\.\d{2}$/;

/** Options of the IMS loaders. */
export interface ImsOptions {
  /**
   * IMS file names are zone-less wall-clock times (the rig was in Cincinnati); they are read
   * as UTC by default (offset 0) so times print as in the file names.
   */
  utcOffsetMinutes?: number;
}

/**
 * Loads the raw IMS test-2 snapshots found in `nasa-ims-bearing/raw_2nd_test` (tab-separated,
 * no header, 4 channels = bearings 1..4, acceleration in g). Columns: `snapshot` (epoch ms
 * UTC of the file name), `sample`, `ts` (snapshot + sample / 20 kHz, fractional ms), `b1`..`b4`.
 *
 * @param dir data directory (default `MILLWRIGHT_DATA_DIR`)
 * @example
 * loadImsRaw().groupby('snapshot').count(); // 20,480 samples per snapshot
 */
export function loadImsRaw(dir?: string, options: ImsOptions = {}): ColumnTable {
  const folder = datasetPath('nasa-ims-bearing', 'raw_2nd_test', dir);
  const files = readdirSync(folder)
    .filter((f) => FILE_NAME.test(f))
    .sort();
  if (files.length === 0) throw new MillwrightError('NOT_FOUND', `${folder}: no snapshot files named YYYY.MM.DD.HH.MM.SS`);
  const parts = files.map((file) => {
    const path = join(folder, file);
    const snapshot = parseZonelessTime(file, options.utcOffsetMinutes ?? 0, path);
    const parsed = parseDelimited(readFileSync(path, 'utf8'), {
      delimiter: '\t',
      header: false,
      names: ['b1', 'b2', 'b3', 'b4'],
      source: path,
    });
    const n = parsed.rows;
    const sample = new Float64Array(n);
    const ts = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      sample[i] = i;
      ts[i] = snapshot + (i * 1000) / IMS_SAMPLE_RATE;
    }
    return { snapshot: new Float64Array(n).fill(snapshot), sample, ts, ...parsed.columns };
  });
  return concatColumns(parts);
}

/**
 * Loads `ims_2nd_test_features_per_file.csv`: one row per snapshot of IMS test 2 (984 rows,
 * every 10 min, 2004-02-12 10:32:39 .. 2004-02-19 06:22:39), columns `ts`, `n_samples`,
 * `b{1..4}_{mean_abs,rms,peak,kurtosis}`, plus the target `ttf_hours`: hours from the
 * snapshot to the last one (bearing 1's outer-race failure ends the test).
 *
 * @example
 * loadImsFeatures().select('ts', 'b1_rms', 'ttf_hours');
 */
export function loadImsFeatures(dir?: string, options: ImsOptions = {}): ColumnTable {
  const path = datasetPath('nasa-ims-bearing', 'ims_2nd_test_features_per_file.csv', dir);
  const parsed = parseDelimited(readFileSync(path, 'utf8'), { kinds: { timestamp: 'string' }, source: path });
  if (parsed.names[0] !== 'timestamp') throw new MillwrightError('BAD_INPUT', `${path}: first column is "${parsed.names[0]}", expected "timestamp"`);
  const stamps = parsed.columns.timestamp as string[];
  const n = parsed.rows;
  const ts = new Float64Array(n);
  for (let i = 0; i < n; i++) ts[i] = parseZonelessTime(stamps[i]!, options.utcOffsetMinutes ?? 0, `${path} line ${i + 2}`);
  const last = n > 0 ? Math.max(...ts) : 0;
  const ttf = ts.map((t) => (last - t) / 3_600_000);
  const columns: Record<string, Float64Array | string[]> = { ts };
  for (const name of parsed.names.slice(1)) columns[name] = parsed.columns[name]!;
  columns.ttf_hours = ttf;
  return aq.table(columns);
}
