/**
 * Hyperparameter helpers shared by the built-ins: the runner parses strings against the schema;
 * these re-check values when `train` is called directly (tests, notebooks) so a bad value still
 * fails with a clear message instead of a silent NaN.
 */
import { MillwrightError } from '../errors/index.ts';
import type { Channel, HyperparameterSchema, TrainContext } from '../model/contract.ts';
import type { ColumnTable } from 'arquero';

/** Values with defaults applied and types checked against `schema`. */
export function resolveHyperparameters<H>(schema: HyperparameterSchema, given: Record<string, unknown>): H {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(given)) {
    if (!(key in schema)) {
      throw new MillwrightError('BAD_INPUT', `hyperparameter ${JSON.stringify(key)} is not known (expected one of: ${Object.keys(schema).join(', ')})`);
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    let v = given[key];
    if (v === undefined || v === null) {
      if (spec.default === undefined) {
        if (spec.required === true) throw new MillwrightError('BAD_INPUT', `hyperparameter ${JSON.stringify(key)} is required: ${spec.description}`);
        continue;
      }
      v = spec.default;
    }
    const bad = (expected: string): never => {
      throw new MillwrightError('BAD_INPUT', `hyperparameter ${JSON.stringify(key)}: ${JSON.stringify(v)} is not valid (expected ${expected})`);
    };
    switch (spec.type) {
      case 'number':
      case 'integer': {
        const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
        if (typeof n !== 'number' || !Number.isFinite(n)) bad(`a ${spec.type}`);
        const num = n as number;
        if (spec.type === 'integer' && !Number.isInteger(num)) bad('an integer');
        if ((spec.min !== undefined && num < spec.min) || (spec.max !== undefined && num > spec.max)) {
          bad(`a ${spec.type} in [${spec.min ?? '-inf'}, ${spec.max ?? 'inf'}]`);
        }
        v = num;
        break;
      }
      case 'boolean':
        if (v === 'true' || v === 'false') v = v === 'true';
        if (typeof v !== 'boolean') bad('true or false');
        break;
      case 'string':
        if (typeof v === 'number') v = String(v);
        if (typeof v !== 'string') bad('a string');
        if (spec.enum !== undefined && !spec.enum.includes(v as string)) bad(`one of ${spec.enum.join(', ')}`);
        break;
      case 'json':
        if (typeof v === 'string') {
          try {
            v = JSON.parse(v) as unknown;
          } catch {
            bad('JSON');
          }
        }
        break;
    }
    out[key] = v;
  }
  return out as H;
}

/** Loads a channel that must exist, with a message naming the SageMaker folder it comes from. */
export async function loadChannel(ctx: TrainContext<unknown>, name: string): Promise<ColumnTable> {
  const ch: Channel | undefined = ctx.channels[name];
  if (ch === undefined) {
    throw new MillwrightError(
      'BAD_INPUT',
      `missing input channel ${JSON.stringify(name)} (expected files in <base>/input/data/${name}/; channels given: ${Object.keys(ctx.channels).join(', ') || 'none'})`,
    );
  }
  const table = await ch.load();
  if (table.numRows() === 0) throw new MillwrightError('BAD_INPUT', `input channel ${JSON.stringify(name)} has no rows`);
  return table;
}

/** A list of column names from a json hyperparameter (array of strings, or comma-separated string). */
export function nameList(v: unknown, key: string): string[] | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  throw new MillwrightError('BAD_INPUT', `hyperparameter ${JSON.stringify(key)}: expected a list of column names, got ${JSON.stringify(v)}`);
}
