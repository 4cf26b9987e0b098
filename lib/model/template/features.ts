/**
 * Feature engineering shared by train.ts and predict.ts, so training and serving see exactly
 * the same columns. Edit this file to add derived features (hour of day, rolling means, ...).
 */
import type { ColumnTable } from 'arquero';
import type { FeatureSpec } from '../contract.ts';

/** Columns never used as inputs even when numeric: timestamps and identifiers. */
const NEVER_FEATURES = new Set(['ts', 'time', 'timestamp', 'date', 'id']);

/**
 * The input columns: `requested` (comma-separated names) when given, else every numeric
 * column except the target and timestamp/id columns.
 *
 * @example
 * chooseFeatures(table, 'energy_kwh', '');                  // all numeric columns but the target
 * chooseFeatures(table, 'energy_kwh', 'units,ambient_c');   // exactly these, in this order
 */
export function chooseFeatures(table: ColumnTable, target: string, requested: string): FeatureSpec[] {
  const columns = table.columnNames();
  const names = requested.trim()
    ? requested.split(',').map((s) => s.trim()).filter(Boolean)
    : columns.filter((c) => c !== target && !NEVER_FEATURES.has(c.toLowerCase()) && isNumeric(table.array(c) as ArrayLike<unknown>));
  for (const n of names) {
    if (!columns.includes(n)) throw new Error(`feature column "${n}" is not in the training data (columns: ${columns.join(', ')})`);
    if (n === target) throw new Error(`the target "${target}" cannot also be a feature`);
  }
  if (names.length === 0) throw new Error(`no numeric feature columns besides the target "${target}" (columns: ${columns.join(', ')})`);
  return names.map((name) => ({ name, type: 'number' as const }));
}

/** Row-major matrix of the feature columns; `NaN` where a value is missing or not a number. */
export function featureMatrix(table: ColumnTable, features: FeatureSpec[]): Float64Array[] {
  const cols = features.map((f) => table.array(f.name) as ArrayLike<unknown>);
  const rows = table.numRows();
  const out: Float64Array[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const row = new Float64Array(cols.length);
    for (let j = 0; j < cols.length; j++) row[j] = toNumber(cols[j]![i]);
    out[i] = row;
  }
  return out;
}

/** A number, or NaN for null/empty/non-numeric values. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

function isNumeric(values: ArrayLike<unknown>): boolean {
  let seen = false;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    if (typeof v !== 'number') return false;
    seen = true;
  }
  return seen;
}
