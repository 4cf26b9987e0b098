/**
 * Alarm rules (and models whose output is an alarm rule) scored against recorded failures: an
 * alarm is true when it is active within the lead window before a failure of its asset, so
 * precision is true alarms over alarms, recall is failures with a true alarm over failures, lead
 * time is how long before the failure the first such alarm rose, and the false alarms are
 * normalised by asset-weeks because a mechanic's tolerance is per machine per week.
 */
import type { Frame } from '../data.ts';
import type { CheckResult, Metric, MetricResult } from '../engine.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { groupOf, type AssetGroups } from '../asset-groups.ts';

/** One alarm, active from `from` until `to` (null: still active at the end of the period). */
export interface AlarmInterval {
  rule: string;
  asset: string;
  signal?: string;
  from: number;
  to: number | null;
}

/** A recorded failure. */
export interface FailureMark {
  asset: string;
  at: number;
  mode?: string;
}

export interface AlarmScoreOptions {
  alarms: readonly AlarmInterval[];
  failures: readonly FailureMark[];
  /** An alarm active within this long before a failure counts as true (ms). */
  leadMs: number;
  /** The scored period [from, to), epoch ms. */
  from: number;
  to: number;
  /** Assets watched over the period (false alarms per asset-week); default every asset seen in alarms, failures or readings. */
  assets?: readonly string[];
  /** Readings columns for the timelines (default ts, asset, signal, value). */
  columns?: { ts?: string; asset?: string; signal?: string; value?: string };
  /** Points per signal in a timeline (bucket means; default 600). */
  maxPoints?: number;
  /** Also score each rule per group of assets at a level of the asset model (see `assetGroups`). */
  groupBy?: AssetGroups;
}

/** One rule's scores over the assets of one group (the false alarms per asset-week use the group's assets). */
export interface GroupRuleScore extends RuleScore {
  group: string;
  /** Assets of the group counted in the asset-weeks. */
  assets: number;
}

export interface RuleScore {
  rule: string;
  alarms: number;
  trueAlarms: number;
  falseAlarms: number;
  /** true alarms / alarms (null without alarms). */
  precision: number | null;
  failures: number;
  detected: number;
  /** detected / failures (null without failures). */
  recall: number | null;
  /** Mean over detected failures of failure time − first alarm onset in the lead window (onsets before the window count from its start), hours. */
  meanLeadHours: number | null;
  falseAlarmsPerAssetWeek: number | null;
}

export interface AssetTimeline {
  asset: string;
  series: { signal: string; points: [number, number][] }[];
  alarms: { rule: string; from: number; to: number }[];
  failures: number[];
}

export interface AlarmScoresResult extends MetricResult {
  type: 'alarm-scores';
  leadHours: number;
  from: number;
  to: number;
  assets: number;
  weeks: number;
  failures: FailureMark[];
  rules: RuleScore[];
  /** With `groupBy`: every (group, rule) with an alarm or a failure in the group, by group then rule. */
  groups?: { level: string; rows: GroupRuleScore[] };
  timelines: AssetTimeline[];
}

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

/** Is the alarm active at some moment of [f.at − lead, f.at)? */
function inLeadWindow(a: AlarmInterval, f: FailureMark, leadMs: number, end: number): boolean {
  return a.asset === f.asset && a.from < f.at && (a.to ?? end) > f.at - leadMs;
}

/** Scores of one rule's alarms (exported so the definition is one piece of code). */
export function scoreRule(rule: string, alarms: readonly AlarmInterval[], failures: readonly FailureMark[], o: { leadMs: number; to: number; assetWeeks: number }): RuleScore {
  const mine = alarms.filter((a) => a.rule === rule);
  const trueAlarms = mine.filter((a) => failures.some((f) => inLeadWindow(a, f, o.leadMs, o.to))).length;
  const leads: number[] = [];
  for (const f of failures) {
    const hits = mine.filter((a) => inLeadWindow(a, f, o.leadMs, o.to));
    if (hits.length) leads.push(f.at - Math.max(Math.min(...hits.map((a) => a.from)), f.at - o.leadMs));
  }
  const falseAlarms = mine.length - trueAlarms;
  return {
    rule,
    alarms: mine.length,
    trueAlarms,
    falseAlarms,
    precision: mine.length ? trueAlarms / mine.length : null,
    failures: failures.length,
    detected: leads.length,
    recall: failures.length ? leads.length / failures.length : null,
    meanLeadHours: leads.length ? leads.reduce((s, x) => s + x, 0) / leads.length / HOUR : null,
    falseAlarmsPerAssetWeek: o.assetWeeks > 0 ? falseAlarms / o.assetWeeks : null,
  };
}

/** Bucket means of one signal so a month of 1-minute readings draws as a few hundred points. */
function downsample(ts: number[], vs: number[], from: number, to: number, maxPoints: number): [number, number][] {
  const width = Math.max(1, (to - from) / maxPoints);
  const sums = new Map<number, [number, number]>();
  for (let i = 0; i < ts.length; i++) {
    if (!Number.isFinite(vs[i]!)) continue;
    const b = Math.floor((ts[i]! - from) / width);
    const s = sums.get(b) ?? sums.set(b, [0, 0]).get(b)!;
    s[0] += vs[i]!;
    s[1]++;
  }
  return [...sums.entries()].sort((a, b) => a[0] - b[0]).map(([b, [s, n]]) => [from + (b + 0.5) * width, s / n]);
}

/** Readings of the wanted (asset, signal) pairs, keyed `asset\0signal`. */
function collect(ts: Float64Array, asset: (string | null)[], signal: (string | null)[], value: Float64Array, wanted: Map<string, Set<string>>): Map<string, { t: number[]; v: number[] }> {
  const raw = new Map<string, { t: number[]; v: number[] }>();
  for (let i = 0; i < ts.length; i++) {
    const a = asset[i]!;
    const s = signal[i]!;
    if (!wanted.get(a)?.has(s)) continue;
    const k = `${a}\u0000${s}`;
    const r = raw.get(k) ?? raw.set(k, { t: [], v: [] }).get(k)!;
    r.t.push(ts[i]!);
    r.v.push(value[i]!);
  }
  return raw;
}

function timelines(frame: Frame, alarms: readonly AlarmInterval[], failures: readonly FailureMark[], o: AlarmScoreOptions): AssetTimeline[] {
  const c = { ts: o.columns?.ts ?? 'ts', asset: o.columns?.asset ?? 'asset', signal: o.columns?.signal ?? 'signal', value: o.columns?.value ?? 'value' };
  const col = (n: string) => frame.columns.get(n);
  const [ts, asset, signal, value] = [col(c.ts), col(c.asset), col(c.signal), col(c.value)];
  const assets = [...new Set([...alarms.map((a) => a.asset), ...failures.map((f) => f.asset)])].sort();
  const wanted = new Map<string, Set<string>>(assets.map((a) => [a, new Set(alarms.filter((x) => x.asset === a && x.signal).map((x) => x.signal!))]));
  const raw = frame.rows > 0 && ts?.kind === 'numeric' && asset?.kind === 'categorical' && signal?.kind === 'categorical' && value?.kind === 'numeric'
    ? collect(ts.values, asset.values, signal.values, value.values, wanted)
    : new Map<string, { t: number[]; v: number[] }>();
  return assets.map((a) => ({
    asset: a,
    series: [...(wanted.get(a) ?? [])].sort().flatMap((s) => {
      const r = raw.get(`${a}\u0000${s}`);
      return r ? [{ signal: s, points: downsample(r.t, r.v, o.from, o.to, o.maxPoints ?? 600) }] : [];
    }),
    alarms: alarms.filter((x) => x.asset === a).map((x) => ({ rule: x.rule, from: Math.max(x.from, o.from), to: Math.min(x.to ?? o.to, o.to) })),
    failures: failures.filter((f) => f.asset === a).map((f) => f.at),
  }));
}

/**
 * Each rule scored on the alarms and failures of each group's assets. The watched assets are
 * split by group, so the groups' asset counts add up to the report's; a group with neither an
 * alarm nor a failure of a rule gets no row for it.
 */
function groupScores(by: AssetGroups, watched: readonly string[], rules: readonly string[], alarms: readonly AlarmInterval[], failures: readonly FailureMark[], weeks: number, o: AlarmScoreOptions): GroupRuleScore[] {
  const members = new Map<string, Set<string>>();
  const add = (asset: string) => {
    const g = groupOf(by, asset);
    (members.get(g) ?? members.set(g, new Set()).get(g)!).add(asset);
  };
  for (const a of watched) add(a);
  for (const a of alarms) add(a.asset);
  for (const f of failures) add(f.asset);
  const out: GroupRuleScore[] = [];
  for (const g of [...members.keys()].sort()) {
    const mine = (x: { asset: string }) => groupOf(by, x.asset) === g;
    const ga = alarms.filter(mine);
    const gf = failures.filter(mine);
    // Assets counted as in the report's total: the watched ones when a list was given, else every asset seen.
    const n = o.assets ? watched.filter((a) => groupOf(by, a) === g).length : members.get(g)!.size;
    for (const r of rules) {
      if (!ga.some((a) => a.rule === r) && gf.length === 0) continue;
      out.push({ group: g, assets: n, ...scoreRule(r, ga, gf, { leadMs: o.leadMs, to: o.to, assetWeeks: n * weeks }) });
    }
  }
  return out;
}

/**
 * The `alarm-scores` metric: settings carry the alarm intervals and failures, `current` is the
 * readings (long form) the timelines draw.
 *
 * @example
 * import { runReport, AlarmScoresMetric } from 'millwright/reports';
 * const report = runReport('alarms', [new AlarmScoresMetric({ alarms, failures, leadMs: 72 * 3_600_000, from, to })], readings);
 */
export class AlarmScoresMetric implements Metric<AlarmScoresResult> {
  type = 'alarm-scores';
  constructor(private readonly options: AlarmScoreOptions) {
    if (!(options.leadMs > 0)) throw new MillwrightError('BAD_INPUT', `alarm scores: the lead window ${options.leadMs} ms must be positive (e.g. 72h)`);
    if (!(options.from < options.to)) throw new MillwrightError('BAD_INPUT', 'alarm scores: the period must start before it ends');
  }

  compute(current: Frame): AlarmScoresResult {
    const o = this.options;
    const alarms = o.alarms.filter((a) => a.from < o.to && (a.to ?? o.to) >= o.from);
    const failures = o.failures.filter((f) => f.at >= o.from && f.at < o.to);
    const assetCol = current.columns.get(o.columns?.asset ?? 'asset');
    const seen = new Set([...alarms.map((a) => a.asset), ...failures.map((f) => f.asset), ...(assetCol?.kind === 'categorical' ? assetCol.values.filter((v): v is string => v !== null) : [])]);
    const assets = o.assets?.length ?? seen.size;
    const weeks = (o.to - o.from) / WEEK;
    const rules = [...new Set(alarms.map((a) => a.rule))].sort();
    const groups = o.groupBy ? { level: o.groupBy.level, rows: groupScores(o.groupBy, o.assets ?? [...seen], rules, alarms, failures, weeks, o) } : undefined;
    return {
      type: 'alarm-scores',
      title: 'Alarm rules against recorded failures',
      leadHours: o.leadMs / HOUR,
      from: o.from,
      to: o.to,
      assets,
      weeks,
      failures: [...failures].sort((a, b) => a.at - b.at),
      rules: rules.map((r) => scoreRule(r, alarms, failures, { leadMs: o.leadMs, to: o.to, assetWeeks: assets * weeks })),
      ...(groups ? { groups } : {}),
      timelines: timelines(current, alarms, failures, o),
    };
  }

  checks(r: AlarmScoresResult): CheckResult[] {
    return r.rules.map((s) => ({
      name: `rule ${s.rule}`,
      status: s.recall === null ? 'warn' : s.recall === 1 && (s.precision ?? 0) >= 0.5 ? 'pass' : s.detected > 0 ? 'warn' : 'fail',
      reason: s.recall === null
        ? 'no recorded failure in the period to score against'
        : `${s.detected} of ${s.failures} failures alarmed ahead (recall ${s.recall.toFixed(2)}), precision ${s.precision === null ? 'n/a' : s.precision.toFixed(2)}, ${s.falseAlarmsPerAssetWeek === null ? 'n/a' : s.falseAlarmsPerAssetWeek.toFixed(3)} false alarms per asset-week`,
    }));
  }
}
