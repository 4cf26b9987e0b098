import { readFile } from 'node:fs/promises';
import { dirname, extname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { MillwrightError } from '../errors/index.ts';
import type { AssetRow } from '../store/index.ts';
import { issueLines } from './issue-lines.ts';
import { machineGroupKey, zoneBoundaries, VIBRATION_ZONES } from './iso-20816.ts';
import { ruleFileSchema, type RuleSpec } from './rule-schema.ts';
import { exactNames, nameMatcher } from './selector.ts';

/** One learned band of a threshold model's bands.json. */
interface BandRow {
  asset: string;
  signal: string;
  state: string;
  low: number;
  high: number;
}

/** A rule ready to evaluate: its spec plus matchers, bands and zone limits. */
export interface CompiledRule {
  spec: RuleSpec;
  index: number;
  matchAsset: (asset: string) => boolean;
  matchSignal: (signal: string) => boolean;
  from: number;
  to: number;
  /** threshold: `asset\0signal\0state` -> [low, high]; whether bands are per asset. */
  bands?: Map<string, [number, number]>;
  perAsset?: boolean;
  perState?: boolean;
  /** threshold with `state.scope: line`: asset -> line. */
  lineOf?: Map<string, string>;
  /** threshold: which assets' state signal sets the state. */
  stateAsset?: (asset: string) => boolean;
  /** vibration: the alarm limit (lower boundary of the rule's zone) and the zone boundaries per asset. */
  zoneLimits?: Map<string, readonly [number, number, number]>;
}

/** A validated rule file. */
export interface AlarmRules {
  file: string;
  rules: CompiledRule[];
  flood?: { max: number; window: number };
  assets?: AssetRow[];
}

/** Options of {@link loadAlarmRules} and {@link parseAlarmRules}. */
export interface RuleLoadOptions {
  /** Asset rows (the gateway's asset model); takes precedence over the file's `assets` key. */
  assets?: AssetRow[];
  /** Reads the file's `assets` key (an asset model file) into rows; the CLI passes the gateway's loader. */
  loadAssets?: (path: string) => Promise<AssetRow[]>;
}

function time(v: string | number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  return typeof v === 'number' ? v : Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(v) || !/T/.test(v) ? v : `${v}Z`);
}

async function readBands(dir: string): Promise<{ bands: BandRow[]; perAsset: boolean; state?: string }> {
  const file = join(dir, 'bands.json');
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read the threshold model ${file} (${err.message}; expected a model directory trained with the threshold algorithm)`);
  });
  const doc = JSON.parse(text) as { format?: string; bands?: BandRow[]; perAsset?: boolean; state?: string };
  if (doc.format !== 'millwright-threshold' || !Array.isArray(doc.bands)) throw new Error(`${file} is not a threshold model (expected format "millwright-threshold" with bands)`);
  return { bands: doc.bands, perAsset: doc.perAsset === true, state: doc.state };
}

/**
 * Validates a parsed rule file (see docs/alarms.md). Every problem is collected and reported at
 * once as `path: message` lines in one BAD_INPUT: schema errors, duplicate names, a `to` before
 * `from`, a limit rule without `hi`/`lo`, assets the asset model does not know, threshold model
 * directories that are missing, vibration rules on assets without a machine group.
 *
 * @example
 * import { parseAlarmRules } from 'millwright';
 * const rules = await parseAlarmRules({ rules: [{ name: 'hot', kind: 'limit', signals: 'temperature', hi: 80 }] }, process.cwd());
 */
export async function parseAlarmRules(data: unknown, baseDir: string, opts: RuleLoadOptions = {}, what = 'alarm rules'): Promise<AlarmRules> {
  const r = ruleFileSchema.safeParse(data);
  const lines = r.success ? [] : issueLines(r.error.issues, data);
  const out: AlarmRules = { file: what, rules: [] };
  if (r.success) {
    const doc = r.data;
    out.flood = doc.flood;
    out.assets = opts.assets;
    if (!out.assets && doc.assets !== undefined) {
      if (!opts.loadAssets) lines.push(`assets: cannot read asset model ${doc.assets} here (no asset model loader given)`);
      else {
        try {
          out.assets = await opts.loadAssets(resolve(baseDir, doc.assets));
        } catch (err) {
          lines.push(`assets: ${(err as Error).message}`);
        }
      }
    }
    const known = out.assets ? new Map(out.assets.map((a) => [a.asset, a])) : undefined;
    const names = new Map<string, number>();
    for (const [i, spec] of doc.rules.entries()) {
      const at = `rules[${i}]`;
      const before = names.get(spec.name);
      if (before !== undefined) lines.push(`${at}.name: duplicate rule name "${spec.name}" (also rules[${before}])`);
      names.set(spec.name, i);
      const from = time(spec.from, -Infinity);
      const to = time(spec.to, Infinity);
      if (Number.isNaN(from)) lines.push(`${at}.from: ${JSON.stringify(spec.from)} is not a time (expected ISO 8601 or epoch ms)`);
      if (Number.isNaN(to)) lines.push(`${at}.to: ${JSON.stringify(spec.to)} is not a time (expected ISO 8601 or epoch ms)`);
      if (to <= from) lines.push(`${at}.to: ${String(spec.to)} is not after from ${String(spec.from)} (the end must come after the start)`);
      if (known) {
        for (const a of exactNames(spec.assets)) {
          if (!known.has(a)) lines.push(`${at}.assets: unknown asset "${a}" (not in the asset model; expected one of ${[...known.keys()].slice(0, 12).join(', ')}${known.size > 12 ? ', ...' : ''})`);
        }
      }
      const rule: CompiledRule = { spec, index: i, matchAsset: nameMatcher(spec.assets), matchSignal: nameMatcher(spec.signals), from, to };
      if (spec.kind === 'limit') {
        if (spec.hi === undefined && spec.lo === undefined) lines.push(`${at}: a limit rule needs hi, lo or both`);
        if (spec.hi !== undefined && spec.lo !== undefined && spec.lo >= spec.hi) lines.push(`${at}.lo: ${spec.lo} must be below hi ${spec.hi}`);
      } else if (spec.kind === 'stuck') {
        if (spec.readings === undefined && spec.for === undefined) lines.push(`${at}: a stuck rule needs readings (a count), for (a duration) or both`);
      } else if (spec.kind === 'threshold') {
        try {
          const m = await readBands(resolve(baseDir, spec.model));
          rule.bands = new Map(m.bands.map((b) => [`${m.perAsset ? b.asset : 'all'}\u0000${b.signal}\u0000${b.state}`, [b.low, b.high]]));
          rule.perAsset = m.perAsset;
          rule.perState = m.state !== undefined;
          rule.stateAsset = nameMatcher(spec.state?.assets);
          if (spec.state?.scope === 'line') {
            if (!known) lines.push(`${at}.state.scope: "line" needs the asset model (assets: FILE) to know each asset's line`);
            else rule.lineOf = new Map([...known.values()].filter((a) => a.line !== undefined).map((a) => [a.asset, a.line!]));
          }
          if (rule.perState && !spec.state) lines.push(`${at}.state: the model's bands are per operating state ("${m.state}"); say how to tell the state: state: { signal: speed, on: 100 }`);
        } catch (err) {
          lines.push(`${at}.model: ${(err as Error).message}`);
        }
      } else if (spec.kind === 'vibration') {
        if (!known) lines.push(`${at}: a vibration rule needs the asset model (assets: FILE) for each asset's machineGroup`);
        else {
          rule.zoneLimits = new Map();
          for (const a of known.values()) {
            if (!rule.matchAsset(a.asset)) continue;
            const g = machineGroupKey(a.machineGroup);
            if (!g) {
              if (exactNames(spec.assets).includes(a.asset)) lines.push(`${at}.assets: asset "${a.asset}" has machineGroup ${JSON.stringify(a.machineGroup ?? null)} (expected 1 or 2, ISO 20816-3 groups)`);
              continue;
            }
            rule.zoneLimits.set(a.asset, zoneBoundaries(g, a.mounting));
          }
          if (rule.zoneLimits.size === 0 && lines.length === 0) lines.push(`${at}: no selected asset has a machineGroup of 1 or 2 (ISO 20816-3; zones ${VIBRATION_ZONES.join('-')})`);
        }
      }
      out.rules.push(rule);
    }
  }
  if (lines.length > 0) throw new MillwrightError('BAD_INPUT', `${what} ${lines.length === 1 ? 'has 1 problem' : `has ${lines.length} problems`}:\n  ${lines.join('\n  ')}`, { details: { issues: lines } });
  return out;
}

/**
 * Reads a rule file (YAML, or JSON by a `.json` extension) and validates it with
 * {@link parseAlarmRules}; relative paths resolve against the file's folder.
 *
 * @example
 * import { loadAlarmRules } from 'millwright';
 * const rules = await loadAlarmRules('rules.yaml');
 */
export async function loadAlarmRules(path: string, opts: RuleLoadOptions = {}): Promise<AlarmRules> {
  const abs = resolve(path);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new MillwrightError('NOT_FOUND', `alarm rules ${abs}: ${(err as Error).message}`, { cause: err });
  }
  let data: unknown;
  try {
    data = extname(abs).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `alarm rules ${abs} is not valid ${extname(abs).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`, { cause: err });
  }
  const rules = await parseAlarmRules(data, dirname(abs), opts, `alarm rules ${abs}`);
  rules.file = abs;
  return rules;
}
