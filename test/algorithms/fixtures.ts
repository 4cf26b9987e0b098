/**
 * Realistic synthetic regression/classification data for the forest tests and bench: a process
 * with 20 sensor-like features (5 drive the target non-linearly, 5 are correlated copies with
 * noise, 10 are irrelevant), like Friedman #1 but with measurement noise and correlation.
 */
import * as aq from 'arquero';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';

export interface Synthetic {
  names: string[];
  /** Column-major: columns[f][r]. */
  columns: Float64Array[];
  y: Float64Array;
  /** Class label derived from y (low / normal / high). */
  label: string[];
}

function gauss(rng: () => number): number {
  const u = Math.max(1e-12, rng());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

export function synthetic(n: number, seed = 1): Synthetic {
  const rng = mulberry32(seed);
  const F = 20;
  const names = Array.from({ length: F }, (_, f) => (f < 5 ? `x${f}` : f < 10 ? `corr${f - 5}` : `noise${f - 10}`));
  const columns = Array.from({ length: F }, () => new Float64Array(n));
  const y = new Float64Array(n);
  const label: string[] = new Array<string>(n);
  for (let r = 0; r < n; r++) {
    const x = [rng(), rng(), rng(), rng(), rng()];
    for (let f = 0; f < 5; f++) columns[f]![r] = Math.round(x[f]! * 1e4) / 1e4; // sensor resolution
    for (let f = 0; f < 5; f++) columns[5 + f]![r] = x[f]! + 0.1 * gauss(rng);
    for (let f = 10; f < F; f++) columns[f]![r] = f % 2 === 0 ? rng() * 100 : gauss(rng) * 3 + 20;
    const v = 10 * Math.sin(Math.PI * x[0]! * x[1]!) + 20 * (x[2]! - 0.5) ** 2 + 10 * x[3]! + 5 * x[4]! + gauss(rng);
    y[r] = v;
    label[r] = v < 11 ? 'low' : v < 17 ? 'normal' : 'high';
  }
  return { names, columns, y, label };
}

/** {@link synthetic} as an arquero table: the 20 features plus `y` and `label`. */
export function syntheticTable(n: number, seed: number): aq.ColumnTable {
  const d = synthetic(n, seed);
  const cols: Record<string, ArrayLike<unknown>> = {};
  d.names.forEach((name, f) => (cols[name] = d.columns[f]!));
  cols.y = d.y;
  cols.label = d.label;
  return aq.table(cols);
}
