import { readFile } from 'node:fs/promises';
import { MillwrightError } from '../errors/index.ts';
import type { HyperparameterSchema, HyperparameterSpec } from './contract.ts';

/**
 * Parses raw hyperparameters (SageMaker passes every value as a string) against a package's
 * schema: types, bounds, enums, required keys and defaults. Unknown keys are an error, so a
 * typo never silently falls back to a default. Values that already have the right JSON type
 * (e.g. from a programmatic call) are accepted as they are.
 *
 * @example
 * parseHyperparameters({ trees: { type: 'integer', description: 'trees', min: 1, default: 50 } }, { trees: '200' });
 * // => { trees: 200 }
 */
export function parseHyperparameters(schema: HyperparameterSchema, raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(schema, key)) {
      const known = Object.keys(schema);
      problems.push(`unknown hyperparameter "${key}" (this package accepts: ${known.length ? known.join(', ') : 'none'})`);
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    const value = raw[key];
    if (value === undefined || value === null) {
      if (spec.default !== undefined) out[key] = structuredClone(spec.default);
      else if (spec.required) problems.push(`hyperparameter "${key}" is required (${expected(spec)}): ${spec.description}`);
      continue;
    }
    try {
      out[key] = parseValue(key, spec, value);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) {
    throw new MillwrightError('BAD_INPUT', `invalid hyperparameters: ${problems.join('; ')}`, { details: { problems } });
  }
  return out;
}

function expected(spec: HyperparameterSpec): string {
  const parts: string[] = [`expected ${spec.type === 'json' ? 'a JSON value' : `a${spec.type === 'integer' ? 'n' : ''} ${spec.type}`}`];
  if (spec.min !== undefined && spec.max !== undefined) parts.push(`between ${spec.min} and ${spec.max}`);
  else if (spec.min !== undefined) parts.push(`>= ${spec.min}`);
  else if (spec.max !== undefined) parts.push(`<= ${spec.max}`);
  if (spec.enum) parts.push(`one of ${spec.enum.map((e) => JSON.stringify(e)).join(', ')}`);
  return parts.join(' ');
}

function parseValue(key: string, spec: HyperparameterSpec, value: unknown): unknown {
  const bad = () => new Error(`hyperparameter "${key}": got ${JSON.stringify(value)}, ${expected(spec)}`);
  switch (spec.type) {
    case 'number':
    case 'integer': {
      let n: number;
      if (typeof value === 'number') n = value;
      else if (typeof value === 'string' && value.trim() !== '') n = Number(value.trim());
      else throw bad();
      if (!Number.isFinite(n)) throw bad();
      if (spec.type === 'integer' && !Number.isInteger(n)) throw bad();
      if (spec.min !== undefined && n < spec.min) throw bad();
      if (spec.max !== undefined && n > spec.max) throw bad();
      return n;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') {
        const v = value.trim().toLowerCase();
        if (v === 'true' || v === '1') return true;
        if (v === 'false' || v === '0') return false;
      }
      throw bad();
    }
    case 'string': {
      // Config files written by hand often hold numbers for string keys (e.g. a column named 2024).
      if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
      if (typeof value !== 'string') throw bad();
      if (spec.enum && !spec.enum.includes(value)) throw bad();
      return value;
    }
    case 'json': {
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        throw bad();
      }
    }
    default:
      throw new Error(`hyperparameter "${key}": schema declares unknown type ${JSON.stringify((spec as { type: unknown }).type)}`);
  }
}

/**
 * Reads `<base>/input/config/hyperparameters.json`. A missing file means no hyperparameters
 * (all defaults); a malformed one is a clear error.
 */
export async function readHyperparametersFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `${path} is not valid JSON (${(err as Error).message}); expected an object of string values, e.g. {"trees": "100"}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MillwrightError('BAD_INPUT', `${path} must hold a JSON object of hyperparameters, got ${Array.isArray(parsed) ? 'an array' : typeof parsed}`);
  }
  return parsed as Record<string, unknown>;
}
