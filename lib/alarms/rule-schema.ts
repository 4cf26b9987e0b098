import { z } from 'zod';
import { parseDuration } from '../units/index.ts';
import { EVENT_SEVERITIES } from '../store/index.ts';
import { VIBRATION_ZONES } from './iso-20816.ts';

/** A duration (`'30s'`, `'10m'`, `'2h'`, or ms) as milliseconds > 0. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value, { what: 'duration', positive: true, bareNumber: 'reject' });
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a duration such as 30s, 10m, 2h (got ${JSON.stringify(value)})` });
    return z.NEVER;
  }
});

/** A deadband: an absolute amount in the signal's unit, or `'10%'` of the limit (of the band width for `threshold`). */
const deadband = z.union([z.number().min(0), z.string().regex(/^\d+(\.\d+)?%$/, 'expected a number >= 0 or a percentage such as "5%"')]);

/** Names or `*` wildcards (`line0*-motor`); omitted means every asset / signal. */
const selector = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const common = {
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'expected a rule name of letters, digits, _ . : - (it names alarms and event sources)'),
  assets: selector.optional(),
  signals: selector.optional(),
  severity: z.enum(EVENT_SEVERITIES).default('warning'),
  deadband: deadband.optional(),
  /** The condition must hold this long before the alarm becomes active (ISA-18.2 on-delay). */
  minDuration: duration.optional(),
  /** Only readings from this time on count (ISO or epoch ms). */
  from: z.union([z.string(), z.number()]).optional(),
  to: z.union([z.string(), z.number()]).optional(),
};

const limitRule = z.strictObject({ ...common, kind: z.literal('limit'), hi: z.number().optional(), lo: z.number().optional() });
const thresholdRule = z.strictObject({
  ...common,
  kind: z.literal('threshold'),
  /** A trained `threshold` model directory (its bands.json), relative to the rule file. */
  model: z.string().min(1),
  /** Operating state of an asset from one of its signals (hysteresis: running at >= on, idle below off). */
  state: z
    .strictObject({
      signal: z.string().min(1),
      on: z.number(),
      off: z.number().optional(),
      /** `line`: the state signal of any asset on the same line (asset model) sets the state of all its assets (a bearing has no speed of its own). */
      scope: z.enum(['asset', 'line']).default('asset'),
      /** Which assets' `signal` sets the state (default: any the scope covers), e.g. `'*-motor'`. */
      assets: selector.optional(),
      /** A state older than this (no state reading since) is unknown: the band is not applied (default 5m). */
      maxAge: duration.default(300_000),
      running: z.string().default('running'),
      idle: z.string().default('idle'),
    })
    .optional(),
});
const rateRule = z.strictObject({ ...common, kind: z.literal('rate'), perMinute: z.number().positive() });
const stuckRule = z.strictObject({ ...common, kind: z.literal('stuck'), readings: z.number().int().min(2).optional(), for: duration.optional(), tolerance: z.number().min(0).default(0) });
const noDataRule = z.strictObject({ ...common, kind: z.literal('no-data'), for: duration });
const modelOutputRule = z.strictObject({ ...common, kind: z.literal('model-output'), above: z.number() });
const vibrationRule = z.strictObject({
  ...common,
  kind: z.literal('vibration'),
  /** `velocity-rms`: the signal already is velocity r.m.s. in mm/s; `acceleration`: raw samples in g. */
  input: z.enum(['velocity-rms', 'acceleration']).default('velocity-rms'),
  /** Acceleration only: samples per velocity r.m.s. value (sample rate from the time stamps). */
  window: z.number().int().min(16).max(1 << 20).default(4096),
  /** Alarm from this zone on (default C: restricted operation). */
  zone: z.enum(VIBRATION_ZONES).default('C'),
});

/** One rule of a rule file. */
export const ruleSchema = z.discriminatedUnion('kind', [limitRule, thresholdRule, rateRule, stuckRule, noDataRule, modelOutputRule, vibrationRule]);

/** Rule kinds, as the `kind` key spells them. */
export const RULE_KINDS = ['limit', 'threshold', 'rate', 'stuck', 'no-data', 'model-output', 'vibration'] as const;

/** The rule file: rules, flood protection, and where the asset model is. */
export const ruleFileSchema = z.strictObject({
  /** Asset model file (YAML/JSON, as the gateway's `assets`), relative to the rule file: assets are checked against it, and `vibration` reads `machineGroup`. */
  assets: z.string().min(1).optional(),
  /** More than `max` alarms becoming active within one `window` (fixed, aligned to the epoch) raise one `alarm-flood` event. */
  flood: z.strictObject({ max: z.number().int().min(1), window: duration }).optional(),
  rules: z.array(ruleSchema).min(1),
});

/** A rule as validated (durations in ms, defaults filled). */
export type RuleSpec = z.output<typeof ruleSchema>;
/** A rule file as validated. */
export type RuleFileSpec = z.output<typeof ruleFileSchema>;
