/**
 * The functional check a version must pass before it is promoted: the group's recorded test
 * payloads are sent to the model as a client would, and the answers compared with the expected
 * outputs within tolerances, with a latency limit. The payloads and the comparison live here;
 * starting the model behind real HTTP is the serving container's job (`httpFunctionalCheck` in
 * `millwright/serve`), which the CLI passes in.
 */
import { z } from 'zod';
import { MillwrightError } from '../errors/index.ts';
import type { RegisteredModel } from './registry.ts';

const expectedValue = z.union([z.number(), z.string(), z.boolean(), z.record(z.string(), z.union([z.number(), z.string(), z.boolean()]))]);

const payloadSchema = z.object({
  name: z.string().min(1),
  contentType: z.enum(['application/json', 'text/csv']),
  /** The request body exactly as a client sends it (JSON as a string or as a value). */
  body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
  /** One expected prediction per row. */
  expected: z.array(expectedValue).min(1),
  tolerance: z.object({ abs: z.number().nonnegative().optional(), rel: z.number().nonnegative().optional() }).strict().optional(),
  /** Median latency over the repeats must stay under this (default 1000 ms). */
  maxLatencyMs: z.number().positive().optional(),
}).strict();

/** One recorded request with the answer it must get. */
export type TestPayload = z.infer<typeof payloadSchema>;

/** The verdict on one payload. */
export interface CheckCase {
  name: string;
  passed: boolean;
  reason: string;
  /** Median latency over the repeats, ms. */
  latencyMs: number;
}

/** The verdict of a functional check. */
export interface FunctionalCheckResult {
  passed: boolean;
  at: string;
  cases: CheckCase[];
}

/** Runs the payloads against a version (started the way it will be served) and judges the answers. */
export type FunctionalCheck = (model: RegisteredModel, payloads: TestPayload[]) => Promise<FunctionalCheckResult>;

/**
 * Validates a list of test payloads (e.g. from a JSON file), with every problem named by path.
 *
 * @example
 * import { parseTestPayloads } from 'millwright';
 * parseTestPayloads([{ name: 'one row', contentType: 'text/csv', body: '5.1,3.5\n', expected: [42.1], tolerance: { rel: 1e-6 } }]);
 */
export function parseTestPayloads(value: unknown, source = 'test payloads'): TestPayload[] {
  const parsed = z.array(payloadSchema).min(1).safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)'}: ${i.message}`);
    throw new MillwrightError('BAD_INPUT', `${source}: ${issues.join('; ')} (expected a list of {name, contentType, body, expected, tolerance?, maxLatencyMs?})`);
  }
  return parsed.data;
}

function close(expected: unknown, actual: unknown, tol: { abs: number; rel: number }): boolean {
  if (typeof expected === 'number') return typeof actual === 'number' && Math.abs(actual - expected) <= tol.abs + tol.rel * Math.abs(expected);
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return false;
    const e = expected as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    return Object.keys(e).every((k) => close(e[k], a[k], tol));
  }
  return String(actual) === String(expected);
}

/**
 * Compares the predictions a model answered with the expected ones: same count, numbers within
 * `abs + rel·|expected|`, labels equal, record predictions key by key. Returns why not, or null.
 *
 * @example
 * import { compareOutputs } from 'millwright';
 * compareOutputs([1.5, 2], [1.5000001, 2], { rel: 1e-6 }); // null
 */
export function compareOutputs(expected: TestPayload['expected'], actual: unknown[], tolerance: TestPayload['tolerance'] = {}): string | null {
  if (actual.length !== expected.length) return `expected ${expected.length} prediction(s), got ${actual.length} (wrong output shape)`;
  const tol = { abs: tolerance.abs ?? 0, rel: tolerance.rel ?? 1e-9 };
  for (let i = 0; i < expected.length; i++) {
    if (!close(expected[i], actual[i], tol)) return `prediction ${i}: expected ${JSON.stringify(expected[i])}, got ${JSON.stringify(actual[i])} (tolerance abs ${tol.abs}, rel ${tol.rel})`;
  }
  return null;
}
