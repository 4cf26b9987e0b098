import { z } from 'zod';
import { parseDuration } from '../units/duration.ts';
import { parseSize } from '../units/size.ts';

/**
 * Config fields every source schema shares, so a duration or size reads the same in every key
 * (`100ms`, `1s`, `10m`; `20gb`) and a bad one says what was expected.
 */

/** A duration (`'100ms'`, `'1s'`, `'10m'`, or a number of ms) as milliseconds, > 0. */
export const durationField = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value, { what: 'duration', positive: true, bareNumber: 'reject' });
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 100ms, 1s, 10m (got ${JSON.stringify(value)})` });
    return z.NEVER;
  }
});

/** A size (`'20gb'`, `'512mb'`, or a number of bytes) as bytes, > 0. */
export const sizeField = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : parseSize(String(value), { code: 'BAD_INPUT' });
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a size such as 512mb or 20gb (got ${JSON.stringify(value)})` });
    return z.NEVER;
  }
});

/** The tag mapping keys every source shares: where a value lands in the store. */
export const tagTarget = {
  asset: z.string().min(1),
  signal: z.string().min(1),
  unit: z.string().optional(),
};

/** The keys every source entry has. */
export const sourceBase = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected a name of letters, digits, _ . - (used in paths and metrics)'),
};
