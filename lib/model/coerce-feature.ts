import type { FeatureSpec } from './contract.ts';

/** A feature value after coercion: `null` (or NaN for numbers) is a missing value, allowed only when asked. */
export type FeatureValue = number | string | boolean | null;

/** Why a value does not fit its feature; the caller adds where it was (row, column, line). */
export class CoercionProblem {
  constructor(readonly text: string) {}
}

/**
 * What a missing value (null, undefined, '', NaN) means: `'reject'` for request bodies, where a
 * client must send every feature (an HTTP client that sends null has a bug worth naming);
 * `'allow'` for tables a caller hands to `predict` in-process, where missing values are part of
 * the data and the model decides what to do with them.
 */
export type MissingValues = 'reject' | 'allow';

/**
 * The one coercion of an input value to its feature's type, for every prediction path: the
 * server's request parser (lib/wire) and `prepareInput` for in-process tables. Numbers accept
 * finite numbers and numeric text; integers must be whole; booleans accept true/false/1/0 and
 * their text; strings accept text, finite numbers and booleans, never a NUL character. Returns a
 * {@link CoercionProblem} instead of throwing so the request parser pays no try/catch per cell.
 *
 * @example
 * import { coerceFeatureValue } from 'millwright';
 * coerceFeatureValue('1.5', { name: 'x', type: 'number' }, 'reject'); // 1.5
 */
export function coerceFeatureValue(value: unknown, feature: FeatureSpec, missing: MissingValues): FeatureValue | CoercionProblem {
  if (missing === 'allow' && isMissing(value)) return feature.type === 'number' || feature.type === 'integer' ? (value === null || value === undefined || value === '' ? null : Number.NaN) : null;
  switch (feature.type) {
    case 'number':
    case 'integer': {
      let x: number;
      if (typeof value === 'number') x = value;
      else if (typeof value === 'string' && value.trim() !== '') x = Number(value);
      else return new CoercionProblem(`is ${describeValue(value)}; expected a finite ${feature.type}`);
      if (!Number.isFinite(x)) return new CoercionProblem(`is ${describeValue(value)}; expected a finite ${feature.type}`);
      if (feature.type === 'integer' && !Number.isInteger(x)) return new CoercionProblem(`is ${describeValue(value)}; expected an integer`);
      return x;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 1 || value === 'true' || value === '1') return true;
      if (value === 0 || value === 'false' || value === '0') return false;
      return new CoercionProblem(`is ${describeValue(value)}; expected true or false`);
    default:
      if (typeof value === 'string') return value.includes('\0') ? new CoercionProblem('contains a NUL character; expected text') : value;
      if (typeof value === 'number' && Number.isFinite(value)) return String(value);
      if (typeof value === 'boolean') return String(value);
      return new CoercionProblem(`is ${describeValue(value)}; expected a string`);
  }
}

function isMissing(v: unknown): boolean {
  return v === null || v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v)) || (typeof v === 'string' && v.trim() === 'NaN');
}

/** Short human description of a bad value for error messages (truncated). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') {
    if (v.trim() === '') return 'empty';
    const s = v.length > 40 ? `${v.slice(0, 40)}…` : v;
    return `"${s}"`;
  }
  return String(v);
}
