/**
 * The fast path for numeric JSON requests: an already parsed body in one of the plain row forms
 * (`{"instances": [[...]]}`, `{"inputs": [[...]]}`, a top-level array of rows; each row an array
 * of the features in order or an object keyed by feature name) whose every value is a finite
 * JSON number (an integer for integer features) goes straight to a row-major Float64Array, no
 * table. Anything else returns undefined and goes through `parseInput`, which gives its usual
 * values and errors; where both accept a body they give the same numbers.
 */
import type { FeatureSpec } from '../model/contract.ts';
import type { NumericBatch } from './numeric-csv.ts';

/**
 * Rows of a parsed JSON body as a numeric batch, or undefined when the body is not one of the
 * plain forms with finite numbers only (including an empty row list, which `parseInput` refuses).
 *
 * @example
 * import { numericJsonRows } from 'millwright';
 * numericJsonRows({ instances: [[1, 2]] }, [{ name: 'a', type: 'number' }, { name: 'b', type: 'number' }]);
 * // => { X: Float64Array [1, 2], rows: 1 }
 */
export function numericJsonRows(doc: unknown, features: readonly FeatureSpec[]): NumericBatch | undefined {
  let rows: unknown;
  if (Array.isArray(doc)) rows = doc;
  else if (doc !== null && typeof doc === 'object') {
    const obj = doc as Record<string, unknown>;
    // parseInput looks at these keys first; a body that has one is not ours
    if ('dataframe_split' in obj || 'dataframe_records' in obj) return undefined;
    rows = 'instances' in obj ? obj.instances : 'inputs' in obj ? obj.inputs : undefined;
  }
  if (!Array.isArray(rows) || rows.length === 0) return undefined;
  const F = features.length;
  const n = rows.length;
  const X = new Float64Array(n * F);
  for (let r = 0; r < n; r++) {
    const row: unknown = rows[r];
    if (Array.isArray(row)) {
      if (row.length !== F) return undefined;
      for (let f = 0; f < F; f++) if (!put(X, r * F + f, row[f], features[f]!)) return undefined;
    } else if (row !== null && typeof row === 'object') {
      const rec = row as Record<string, unknown>;
      for (let f = 0; f < F; f++) if (!put(X, r * F + f, rec[features[f]!.name], features[f]!)) return undefined;
    } else return undefined;
  }
  return { X, rows: n };
}

function put(X: Float64Array, i: number, v: unknown, feature: FeatureSpec): boolean {
  if (typeof v !== 'number' || !Number.isFinite(v)) return false;
  if (feature.type === 'integer' ? !Number.isInteger(v) : feature.type !== 'number') return false;
  X[i] = v;
  return true;
}
