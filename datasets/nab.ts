import { readFileSync } from 'node:fs';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';
import { datasetPath } from './data-dir.ts';
import { parseDelimited } from './parse-delimited.ts';
import { parseZonelessTime } from './zoneless-time.ts';

/** The two NAB series shipped here (both in NAB's `realKnownCause` group). */
export type NabSeries = 'machine_temperature' | 'ambient_temperature';

/** Options of {@link loadNab}. */
export interface NabOptions {
  /** Which series (default `'machine_temperature'`). */
  series?: NabSeries;
  /** NAB timestamps carry no zone; they are read as UTC (default offset 0 minutes). */
  utcOffsetMinutes?: number;
  /**
   * The machine-temperature file repeats the hour 2014-01-07 02:00..02:55 (12 timestamps,
   * different values). Default false keeps every row as published; true keeps the first
   * occurrence of each timestamp, making `ts` strictly increasing.
   */
  dropDuplicateTimes?: boolean;
}

/** One labelled anomaly window, epoch ms UTC, inclusive at both ends (NAB's convention). */
export interface AnomalyWindow {
  start: number;
  end: number;
}

const DATASET = 'nab-machine-temperature';

function checkSeries(series: string): NabSeries {
  if (series !== 'machine_temperature' && series !== 'ambient_temperature') {
    throw new MillwrightError('BAD_INPUT', `NAB series "${series}" is unknown (expected machine_temperature or ambient_temperature)`);
  }
  return series;
}

/**
 * The anomaly windows NAB labels for a series, from `combined_windows.json`.
 *
 * @example
 * loadNabWindows(undefined, { series: 'machine_temperature' }).length; // 4
 */
export function loadNabWindows(dir?: string, options: NabOptions = {}): AnomalyWindow[] {
  const series = checkSeries(options.series ?? 'machine_temperature');
  const path = datasetPath(DATASET, 'combined_windows.json', dir);
  const all = JSON.parse(readFileSync(path, 'utf8')) as Record<string, [string, string][]>;
  const key = `realKnownCause/${series}_system_failure.csv`;
  const windows = all[key];
  if (!windows) throw new MillwrightError('BAD_INPUT', `${path}: no key "${key}"`);
  return windows.map(([s, e]) => ({
    start: parseZonelessTime(s, options.utcOffsetMinutes ?? 0, path),
    end: parseZonelessTime(e, options.utcOffsetMinutes ?? 0, path),
  }));
}

/**
 * Loads a Numenta Anomaly Benchmark temperature series: `ts` (epoch ms UTC), `value`
 * (temperature as published, unit not stated by NAB), and `anomaly` (1 inside a labelled
 * window from combined_windows.json, else 0).
 *
 * @param dir data directory (default `MILLWRIGHT_DATA_DIR`)
 * @example
 * const t = loadNab();   // machine temperature, 22,695 rows at 5 min
 * t.filter((d) => d.anomaly === 1).numRows();
 */
export function loadNab(dir?: string, options: NabOptions = {}): ColumnTable {
  const series = checkSeries(options.series ?? 'machine_temperature');
  const path = datasetPath(DATASET, `${series}_system_failure.csv`, dir);
  const parsed = parseDelimited(readFileSync(path, 'utf8'), {
    names: ['timestamp', 'value'],
    kinds: { timestamp: 'string' },
    source: path,
  });
  const stamps = parsed.columns.timestamp as string[];
  const ts = new Float64Array(parsed.rows);
  for (let i = 0; i < parsed.rows; i++) ts[i] = parseZonelessTime(stamps[i]!, options.utcOffsetMinutes ?? 0, `${path} line ${i + 2}`);
  const windows = loadNabWindows(dir, { ...options, series });
  const anomaly = new Float64Array(parsed.rows);
  for (let i = 0; i < parsed.rows; i++) anomaly[i] = windows.some((w) => ts[i]! >= w.start && ts[i]! <= w.end) ? 1 : 0;
  const table = aq.table({ ts, value: parsed.columns.value!, anomaly });
  if (!options.dropDuplicateTimes) return table;
  const seen = new Set<number>();
  const indices: number[] = [];
  for (let i = 0; i < ts.length; i++) {
    if (seen.has(ts[i]!)) continue;
    seen.add(ts[i]!);
    indices.push(i);
  }
  return aq.table({
    ts: Float64Array.from(indices, (i) => ts[i]!),
    value: Float64Array.from(indices, (i) => (parsed.columns.value as Float64Array)[i]!),
    anomaly: Float64Array.from(indices, (i) => anomaly[i]!),
  });
}
