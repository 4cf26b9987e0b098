import { readFileSync } from 'node:fs';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';
import { datasetPath } from './data-dir.ts';
import { parseDelimited } from './parse-delimited.ts';

/** The 26 C-MAPSS columns: unit, cycle, 3 operational settings, 21 sensors. */
export const CMAPSS_COLUMNS = [
  'unit',
  'cycle',
  'setting1',
  'setting2',
  'setting3',
  ...Array.from({ length: 21 }, (_, i) => `s${i + 1}`),
];

/** Options of {@link loadCmapss}. */
export interface CmapssOptions {
  /** `train` (run to failure) or `test` (cut short; RUL from RUL_FD001.txt). Default `train`. */
  split?: 'train' | 'test';
}

/**
 * Loads C-MAPSS FD001 (simulated turbofan degradation, one row per engine cycle) with the
 * target `rul` (remaining useful life in cycles): for train, last cycle of the unit - cycle;
 * for test, RUL_FD001.txt's value for the unit + (last test cycle - cycle).
 *
 * @param dir data directory (default `MILLWRIGHT_DATA_DIR`)
 * @example
 * loadCmapss(undefined, { split: 'test' }).filter((d) => d.rul < 30);
 */
export function loadCmapss(dir?: string, options: CmapssOptions = {}): ColumnTable {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new MillwrightError('BAD_INPUT', `C-MAPSS split "${String(split)}" is unknown (expected train or test)`);
  const path = datasetPath('nasa-cmapss', `${split}_FD001.txt`, dir);
  const parsed = parseDelimited(readFileSync(path, 'utf8'), { delimiter: 'whitespace', header: false, names: CMAPSS_COLUMNS, source: path });
  const unit = parsed.columns.unit as Float64Array;
  const cycle = parsed.columns.cycle as Float64Array;
  const lastCycle = new Map<number, number>();
  for (let i = 0; i < parsed.rows; i++) lastCycle.set(unit[i]!, Math.max(lastCycle.get(unit[i]!) ?? 0, cycle[i]!));
  let offset = (_u: number) => 0;
  if (split === 'test') {
    const rulPath = datasetPath('nasa-cmapss', 'RUL_FD001.txt', dir);
    const rul = parseDelimited(readFileSync(rulPath, 'utf8'), { delimiter: 'whitespace', header: false, names: ['rul'], source: rulPath })
      .columns.rul as Float64Array;
    if (rul.length < lastCycle.size) throw new MillwrightError('BAD_INPUT', `${rulPath}: ${rul.length} values, expected one per test unit (${lastCycle.size})`);
    offset = (u) => rul[u - 1]!;
  }
  const target = new Float64Array(parsed.rows);
  for (let i = 0; i < parsed.rows; i++) target[i] = lastCycle.get(unit[i]!)! - cycle[i]! + offset(unit[i]!);
  return aq.table({ ...parsed.columns, rul: target });
}
