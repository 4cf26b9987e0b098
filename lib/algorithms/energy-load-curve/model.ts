/**
 * Feature construction shared by the energy load-curve train and predict: local calendar
 * features from `ts` plus exogenous drivers (numeric as is, text as category codes).
 */
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../../errors/index.ts';
import type { CompiledForest } from '../forest/compiled-forest.ts';
import type { Forest } from '../forest/forest.ts';
import { numericColumn, requireColumns } from '../table.ts';
import { calendarColumns, holidaySet, type CalendarFeature } from './calendar.ts';

/** Contents of energy.json. */
export interface EnergyModelMeta {
  format: 'millwright-energy-load-curve';
  version: 1;
  target: string;
  unit: string;
  ts: string;
  timezone: string;
  holidays: string[];
  calendar: CalendarFeature[];
  drivers: string[];
  /** Category lists of text drivers (code = index; unseen categories get -1). */
  categories: Record<string, string[]>;
  bestQuantile: number;
  /** Forest input order: calendar features then drivers. */
  inputs: string[];
}

export interface LoadedEnergyModel {
  meta: EnergyModelMeta;
  /** The trees as trained. */
  forest: Forest;
  /** The prediction layout built at load (same predictions as `forest`, bit for bit). */
  compiled?: CompiledForest;
}

/** Row-major float32 matrix of the forest inputs (`r * inputs + f`). */
export function energyMatrix(meta: EnergyModelMeta, table: ColumnTable, what: string): Float32Array {
  requireColumns(table, [meta.ts, ...meta.drivers], what);
  const n = table.numRows();
  const ts = numericColumn(table, meta.ts);
  const cols: Float32Array[] = calendarColumns(ts, meta.calendar, meta.timezone, holidaySet(meta.holidays));
  for (const d of meta.drivers) {
    const cats = meta.categories[d];
    const raw = table.array(d) as ArrayLike<unknown>;
    const out = new Float32Array(n);
    if (cats !== undefined) {
      const index = new Map(cats.map((c, i) => [c, i]));
      for (let i = 0; i < n; i++) out[i] = raw[i] === null || raw[i] === undefined ? -1 : (index.get(String(raw[i])) ?? -1);
    } else {
      const v = numericColumn(table, d);
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(v[i]!)) {
          throw new MillwrightError('BAD_INPUT', `${what}: driver ${JSON.stringify(d)} at row ${i} is ${JSON.stringify(raw[i] ?? null)} (expected a number)`);
        }
        out[i] = v[i]!;
      }
    }
    cols.push(out);
  }
  const F = cols.length;
  const X = new Float32Array(n * F);
  for (let f = 0; f < F; f++) {
    const c = cols[f]!;
    for (let r = 0; r < n; r++) X[r * F + f] = c[r]!;
  }
  return X;
}
