/**
 * Turning arquero tables into the typed arrays the learners need, with clear errors for what
 * cannot be learned from (missing columns, text in a numeric column, NaN-only columns).
 */
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../errors/index.ts';
import type { FeatureSpec } from '../model/contract.ts';

/** Rejects a table with no rows, naming what was being read. */
export function requireRows(table: ColumnTable, what: string): number {
  const n = table.numRows();
  if (n === 0) throw new MillwrightError('BAD_INPUT', `${what}: the table has no rows (expected at least one)`);
  return n;
}

/** Rejects missing columns, listing the ones that exist. */
export function requireColumns(table: ColumnTable, names: readonly string[], what: string): void {
  const have = new Set(table.columnNames());
  const missing = names.filter((n) => !have.has(n));
  if (missing.length > 0) {
    throw new MillwrightError(
      'BAD_INPUT',
      `${what}: missing column(s) ${missing.map((m) => JSON.stringify(m)).join(', ')} (table has: ${table.columnNames().join(', ')})`,
    );
  }
}

/** Numeric value of a cell: numbers, booleans, numeric strings (CSV); anything else is NaN. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  if (v instanceof Date) return v.getTime();
  return NaN;
}

/** One column as Float64Array (NaN for missing or non-numeric cells). */
export function numericColumn(table: ColumnTable, name: string): Float64Array {
  const col = table.array(name) as ArrayLike<unknown>;
  const out = new Float64Array(col.length);
  for (let i = 0; i < col.length; i++) out[i] = toNumber(col[i]);
  return out;
}

/**
 * Feature columns as one float32 matrix. `layout: 'column'` puts feature f of row r at
 * `f * n + r` (what binning wants); `'row'` at `r * nFeatures + f` (what tree traversal wants).
 * `allowMissing: false` refuses NaN with the column name and how many rows were bad.
 */
export function featureMatrix(
  table: ColumnTable,
  features: readonly string[],
  options: { layout: 'column' | 'row'; allowMissing: boolean; what: string },
): Float32Array {
  requireColumns(table, features, options.what);
  const n = table.numRows();
  const F = features.length;
  const out = new Float32Array(n * F);
  for (let f = 0; f < F; f++) {
    const name = features[f]!;
    const col = table.array(name) as ArrayLike<unknown>;
    let bad = 0;
    let firstBad = -1;
    for (let r = 0; r < n; r++) {
      const v = toNumber(col[r]);
      if (!Number.isFinite(v)) {
        bad++;
        if (firstBad < 0) firstBad = r;
      }
      out[options.layout === 'column' ? f * n + r : r * F + f] = v;
    }
    if (bad > 0 && (!options.allowMissing || bad === n)) {
      const sample = col[firstBad];
      throw new MillwrightError(
        'BAD_INPUT',
        `${options.what}: feature ${JSON.stringify(name)} has ${bad} of ${n} rows that are not finite numbers` +
          ` (first at row ${firstBad}: ${JSON.stringify(sample ?? null)}); expected numbers (fill or drop missing values first)`,
      );
    }
  }
  return out;
}

/**
 * Chooses the feature list: the declared one, or every column except the target and `exclude`
 * whose values are numbers or booleans.
 */
export function chooseFeatures(
  table: ColumnTable,
  declared: readonly string[] | undefined,
  target: string,
  exclude: readonly string[] = [],
): FeatureSpec[] {
  if (declared !== undefined && declared.length > 0) {
    requireColumns(table, declared, 'features');
    if (declared.includes(target)) {
      throw new MillwrightError('BAD_INPUT', `features: the target ${JSON.stringify(target)} cannot also be a feature`);
    }
    return declared.map((name) => ({ name, type: columnType(table, name) }));
  }
  const skip = new Set([target, ...exclude]);
  const specs: FeatureSpec[] = [];
  for (const name of table.columnNames()) {
    if (skip.has(name)) continue;
    const type = columnType(table, name);
    if (type !== 'string') specs.push({ name, type });
  }
  if (specs.length === 0) {
    throw new MillwrightError(
      'BAD_INPUT',
      `features: no numeric column besides the target ${JSON.stringify(target)} (columns: ${table.columnNames().join(', ')})`,
    );
  }
  return specs;
}

/** Type of a column judged from its first non-missing values. */
export function columnType(table: ColumnTable, name: string): FeatureSpec['type'] {
  const col = table.array(name) as ArrayLike<unknown>;
  const n = Math.min(col.length, 1000);
  let sawNumber = false;
  let allInt = true;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (v === null || v === undefined) continue;
    if (typeof v === 'boolean') return 'boolean';
    if (typeof v === 'number' || typeof v === 'bigint') {
      sawNumber = true;
      if (!Number.isInteger(Number(v))) allInt = false;
      continue;
    }
    if (typeof v === 'string') {
      if (v.trim() === '' || !Number.isFinite(Number(v))) return 'string';
      sawNumber = true;
      if (!Number.isInteger(Number(v))) allInt = false;
    }
  }
  return sawNumber && allInt ? 'integer' : 'number';
}
