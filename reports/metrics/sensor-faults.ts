import type { Frame } from '../data.ts';
import { numericColumn } from '../data.ts';
import type { CheckResult, Metric, MetricResult } from '../engine.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { groupOf, type AssetGroups } from '../asset-groups.ts';

export type FaultKind = 'stuck' | 'gap' | 'out_of_range' | 'duplicate' | 'level_change';

/** One fault event on one signal. Times are epoch ms (UTC). */
export interface FaultEvent {
  kind: FaultKind;
  series: string;
  start: number;
  end: number;
  /** Readings involved (stuck run length, out-of-range count, duplicates) or 0 for a gap. */
  readings: number;
  detail: string;
}

export interface SeriesFaultSummary {
  series: string;
  readings: number;
  medianIntervalMs: number | null;
  stuck: number;
  gap: number;
  out_of_range: number;
  duplicate: number;
  level_change: number;
}

/** Fault counts summed over the series of one group of assets (see `groupBy`). */
export interface GroupFaultSummary {
  group: string;
  /** Series (asset, signal) of the group's assets. */
  series: number;
  readings: number;
  stuck: number;
  gap: number;
  out_of_range: number;
  duplicate: number;
  level_change: number;
}

export interface SensorFaultsResult extends MetricResult {
  type: 'sensor-faults';
  series: SeriesFaultSummary[];
  /** With `groupBy`: the per-series counts summed per group, by group name. */
  groups?: { level: string; rows: GroupFaultSummary[] };
  /** Events by kind, longest/most severe first, at most `maxEvents` per kind. */
  events: FaultEvent[];
  totals: Record<FaultKind, number>;
  options: Required<Omit<SensorFaultsOptions, 'ranges' | 'keys' | 'stuckIgnoreValues' | 'groupBy'>> & { keys: string[]; stuckIgnoreValues: number[] };
}

export interface SensorFaultsOptions {
  /** Timestamp column (epoch ms). Default `ts`. */
  ts?: string;
  /** Value column. Default `value`. */
  value?: string;
  /** Columns identifying one series. Default: whichever of `site`, `asset`, `signal` exist. */
  keys?: string[];
  /** Also sum the per-series counts per group of assets at a level of the asset model (needs an `asset` column). */
  groupBy?: AssetGroups;
  /** A run of at least this many identical consecutive readings is "stuck". Default 30. */
  stuckMinReadings?: number;
  /** Readings within this absolute tolerance count as identical. Default 0. */
  stuckTolerance?: number;
  /**
   * Values a signal may legitimately sit at for long (a stopped machine reads exactly 0 speed or
   * current). Runs at these values are not reported as stuck. Default `[0]`; `[]` reports them all.
   */
  stuckIgnoreValues?: number[];
  /** A gap is an interval longer than this many median intervals. Default 3. */
  gapFactor?: number;
  /**
   * Valid range per series key (`asset/signal`) or per signal name. Series without one use the
   * reference range (min/max of the same series in the reference, widened by `rangeMargin` of
   * its span) when a reference is given; otherwise no range check.
   */
  ranges?: Record<string, { min?: number; max?: number }>;
  /** Widening of the reference range, as a share of its span. Default 0.1. */
  rangeMargin?: number;
  /** Window (readings) on each side for the level-change test. Default 24. */
  levelWindow?: number;
  /** Level change when |mean after - mean before| exceeds this many within-window standard deviations. Default 8. */
  levelThreshold?: number;
  /**
   * Report only NEW levels: a jump to a level the series already held earlier (a machine starting
   * or stopping, a recipe it runs every day) is normal operation. Default true.
   */
  levelNovelOnly?: boolean;
  /** Events kept per kind. Default 50. */
  maxEvents?: number;
}

interface Series {
  key: string;
  idx: number[];
}

function groupSeries(frame: Frame, keys: string[], ts: Float64Array): Series[] {
  const keyCols = keys.map((k) => frame.columns.get(k)!);
  const groups = new Map<string, number[]>();
  for (let i = 0; i < frame.rows; i++) {
    const key = keyCols.map((c) => (c.kind === 'numeric' ? String(c.values[i]) : (c.values[i] ?? ''))).join('/');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(i);
  }
  const out: Series[] = [];
  for (const [key, idx] of groups) {
    idx.sort((a, b) => ts[a]! - ts[b]! || a - b);
    out.push({ key, idx });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : 1));
}

function fmtNum(x: number): string {
  return Math.abs(x) >= 1000 || Number.isInteger(x) ? x.toFixed(0) : x.toPrecision(4);
}

/** Resolved options, as reported back in the result. */
type FaultOptions = SensorFaultsResult['options'];
/** Records one event and counts it in its series' summary. */
type Push = (e: FaultEvent) => void;

/** Every option with its default filled in; key columns must exist. */
function resolveOptions(o: SensorFaultsOptions, current: Frame): FaultOptions {
  const keys = o.keys ?? ['site', 'asset', 'signal'].filter((k) => current.columns.has(k));
  for (const k of keys) if (!current.columns.has(k)) throw new MillwrightError('BAD_INPUT', `sensor faults: key column "${k}" not found`);
  return {
    ts: o.ts ?? 'ts', value: o.value ?? 'value', keys,
    stuckMinReadings: o.stuckMinReadings ?? 30, stuckTolerance: o.stuckTolerance ?? 0, stuckIgnoreValues: o.stuckIgnoreValues ?? [0], gapFactor: o.gapFactor ?? 3,
    levelNovelOnly: o.levelNovelOnly ?? true,
    rangeMargin: o.rangeMargin ?? 0.1, levelWindow: o.levelWindow ?? 24, levelThreshold: o.levelThreshold ?? 8, maxEvents: o.maxEvents ?? 50,
  };
}

/** Per-series min/max of the reference, widened by `rangeMargin` of the span. */
function referenceRanges(reference: Frame, opts: FaultOptions): Map<string, { min: number; max: number }> {
  const refRanges = new Map<string, { min: number; max: number }>();
  const { ts: tsName, value: valueName, keys } = opts;
  const rts = numericColumn(reference, tsName, 'sensor faults reference').values;
  const rv = numericColumn(reference, valueName, 'sensor faults reference').values;
  for (const s of groupSeries(reference, keys, rts)) {
    let lo = Infinity;
    let hi = -Infinity;
    for (const i of s.idx) {
      const v = rv[i]!;
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (hi >= lo) refRanges.set(s.key, { min: lo - (hi - lo) * opts.rangeMargin, max: hi + (hi - lo) * opts.rangeMargin });
  }
  return refRanges;
}

/** Duplicates: same series, same instant. */
function findDuplicates(key: string, t: number[], v: number[], push: Push): void {
  const n = t.length;
  let dupStart = -1;
  for (let i = 1; i <= n; i++) {
    if (i < n && t[i] === t[i - 1]) {
      if (dupStart < 0) dupStart = i - 1;
    } else if (dupStart >= 0) {
      const vals = new Set(v.slice(dupStart, i));
      push({ kind: 'duplicate', series: key, start: t[dupStart]!, end: t[i - 1]!, readings: i - dupStart, detail: vals.size > 1 ? `${i - dupStart} readings at one instant with ${vals.size} different values` : `${i - dupStart} identical readings at one instant` });
      dupStart = -1;
    }
  }
}

/** Gaps: intervals far above the series' median interval. Returns the median interval (null with under two instants). */
function findGaps(key: string, t: number[], opts: FaultOptions, push: Push): number | null {
  const n = t.length;
  let medianIntervalMs: number | null = null;
  const dts: number[] = [];
  for (let i = 1; i < n; i++) if (t[i]! > t[i - 1]!) dts.push(t[i]! - t[i - 1]!);
  if (dts.length) {
    const sorted = Float64Array.from(dts).sort();
    const med = sorted[Math.floor(sorted.length / 2)]!;
    medianIntervalMs = med;
    for (let i = 1; i < n; i++) {
      const dt = t[i]! - t[i - 1]!;
      if (dt > opts.gapFactor * med) push({ kind: 'gap', series: key, start: t[i - 1]!, end: t[i]!, readings: 0, detail: `no reading for ${fmtDuration(dt)} (usual interval ${fmtDuration(med)})` });
    }
  }
  return medianIntervalMs;
}

/** Stuck: long runs of (nearly) identical values. */
function findStuck(key: string, t: number[], v: number[], opts: FaultOptions, push: Push): void {
  const n = t.length;
  let runStart = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n && Number.isFinite(v[i]!) && Math.abs(v[i]! - v[runStart]!) <= opts.stuckTolerance) continue;
    const len = i - runStart;
    if (len >= opts.stuckMinReadings && Number.isFinite(v[runStart]!) && !opts.stuckIgnoreValues.includes(v[runStart]!)) {
      push({ kind: 'stuck', series: key, start: t[runStart]!, end: t[i - 1]!, readings: len, detail: `value stayed at ${fmtNum(v[runStart]!)} for ${len} readings (${fmtDuration(t[i - 1]! - t[runStart]!)})` });
    }
    runStart = i;
  }
}

/** Out of range: runs of readings outside [min, max], each reported with its most extreme value. */
function findOutOfRange(key: string, t: number[], v: number[], range: { min?: number; max?: number }, push: Push): void {
  const n = t.length;
  const lo = range.min ?? -Infinity;
  const hi = range.max ?? Infinity;
  let start = -1;
  let extreme = 0;
  for (let i = 0; i <= n; i++) {
    const bad = i < n && Number.isFinite(v[i]!) && (v[i]! < lo || v[i]! > hi);
    if (bad) {
      if (start < 0) {
        start = i;
        extreme = v[i]!;
      } else if (Math.abs(v[i]! - (lo + hi) / 2) > Math.abs(extreme - (lo + hi) / 2)) extreme = v[i]!;
    } else if (start >= 0) {
      push({ kind: 'out_of_range', series: key, start: t[start]!, end: t[i - 1]!, readings: i - start, detail: `${i - start} reading(s) outside [${fmtNum(lo)}, ${fmtNum(hi)}], extreme ${fmtNum(extreme)}` });
      start = -1;
    }
  }
}

/**
 * Level change: mean shift between the W readings before and after each point. Needs at least 2W readings.
 * Kept whole: the prefix sums and the flush closure share state across the one pass over the series.
 */
function findLevelChanges(key: string, t: number[], v: number[], opts: FaultOptions, push: Push): void {
  const n = t.length;
  const W = opts.levelWindow;
  if (n < 2 * W) return;
  const cs = new Float64Array(n + 1);
  const cs2 = new Float64Array(n + 1);
  let gm = 0;
  let finite = 0;
  for (let i = 0; i < n; i++) {
    const x = Number.isFinite(v[i]!) ? v[i]! : 0;
    cs[i + 1] = cs[i]! + x;
    cs2[i + 1] = cs2[i]! + x * x;
    if (Number.isFinite(v[i]!)) {
      gm += x;
      finite++;
    }
  }
  gm /= Math.max(finite, 1);
  let gvar = 0;
  for (let i = 0; i < n; i++) if (Number.isFinite(v[i]!)) gvar += (v[i]! - gm) ** 2;
  const gstd = Math.sqrt(gvar / Math.max(finite - 1, 1));
  // Flat windows would make any step infinitely surprising: floor the scale at 5% of the series' std.
  const floor = Math.max(0.05 * gstd, 1e-9);
  let best = -1;
  let bestScore = 0;
  let bestSd = 0;
  const flush = () => {
    if (best >= 0) {
      const before = (cs[best]! - cs[best - W]!) / W;
      const after = (cs[best + W]! - cs[best]!) / W;
      // Seen before: some earlier block of W readings (ending before the change window) averaged
      // within half the threshold of the new level. Block means shrug off single spikes.
      const h = best - W;
      const tol = (opts.levelThreshold / 2) * bestSd;
      let seen = false;
      for (let b = 0; (b + 1) * W <= h && !seen; b++) seen = Math.abs((cs[(b + 1) * W]! - cs[b * W]!) / W - after) <= tol;
      if (opts.levelNovelOnly && seen) {
        best = -1;
        bestScore = 0;
        return;
      }
      push({ kind: 'level_change', series: key, start: t[best - 1]!, end: t[best]!, readings: 2 * W, detail: `level moved from ${fmtNum(before)} to ${fmtNum(after)} (${bestScore.toFixed(1)} window std devs)` });
    }
    best = -1;
    bestScore = 0;
  };
  for (let i = W; i <= n - W; i++) {
    const m1 = (cs[i]! - cs[i - W]!) / W;
    const m2 = (cs[i + W]! - cs[i]!) / W;
    const v1 = Math.max(0, (cs2[i]! - cs2[i - W]!) / W - m1 * m1);
    const v2 = Math.max(0, (cs2[i + W]! - cs2[i]!) / W - m2 * m2);
    const sd = Math.max(Math.sqrt((v1 + v2) / 2), floor);
    const score = Math.abs(m2 - m1) / sd;
    if (score > opts.levelThreshold) {
      if (best >= 0 && i - best > W) flush();
      if (score > bestScore) {
        best = i;
        bestScore = score;
        bestSd = sd;
      }
    } else if (best >= 0 && i - best > W) flush();
  }
  flush();
}

/** All faults of one series, in the order duplicates, gaps, stuck, out of range, level change. */
function seriesFaults(key: string, t: number[], v: number[], range: { min?: number; max?: number } | undefined, opts: FaultOptions, events: FaultEvent[]): SeriesFaultSummary {
  const n = t.length;
  const sum: SeriesFaultSummary = { series: key, readings: n, medianIntervalMs: null, stuck: 0, gap: 0, out_of_range: 0, duplicate: 0, level_change: 0 };
  const push = (e: FaultEvent) => {
    events.push(e);
    sum[e.kind]++;
  };
  findDuplicates(key, t, v, push);
  sum.medianIntervalMs = findGaps(key, t, opts, push);
  findStuck(key, t, v, opts, push);
  if (range) findOutOfRange(key, t, v, range, push);
  findLevelChanges(key, t, v, opts, push);
  return sum;
}

/** Counts per kind, and the longest / most severe `maxEvents` events of each kind. */
function keepWorst(events: FaultEvent[], maxEvents: number): { totals: Record<FaultKind, number>; kept: FaultEvent[] } {
  const totals: Record<FaultKind, number> = { stuck: 0, gap: 0, out_of_range: 0, duplicate: 0, level_change: 0 };
  for (const e of events) totals[e.kind]++;
  const kept: FaultEvent[] = [];
  for (const kind of Object.keys(totals) as FaultKind[]) {
    kept.push(...events.filter((e) => e.kind === kind).sort((a, b) => b.end - b.start - (a.end - a.start) || b.readings - a.readings).slice(0, maxEvents));
  }
  return { totals, kept };
}

/** Adds one series' counts to its group's row. */
function addToGroup(byGroup: Map<string, GroupFaultSummary>, g: string, sum: SeriesFaultSummary): void {
  const row = byGroup.get(g) ?? byGroup.set(g, { group: g, series: 0, readings: 0, stuck: 0, gap: 0, out_of_range: 0, duplicate: 0, level_change: 0 }).get(g)!;
  row.series++;
  row.readings += sum.readings;
  for (const k of ['stuck', 'gap', 'out_of_range', 'duplicate', 'level_change'] as const) row[k] += sum[k];
}

/**
 * Faults factories actually have, on long-form readings (`ts`, `asset`, `signal`, `value`):
 * stuck (flat-lined) signals, gaps in time, out-of-range values, duplicated readings, and a level
 * that changed abruptly to a level the signal never held before (mean shift between adjacent
 * windows, in within-window standard deviations). Starts and stops of a machine are operation, not
 * faults: runs at 0 are not "stuck" and returns to known levels are not "level changes" (both
 * configurable).
 *
 * @example
 * new SensorFaultsMetric({ ranges: { temperature: { min: -20, max: 150 } } })
 */
export class SensorFaultsMetric implements Metric<SensorFaultsResult> {
  readonly type = 'sensor-faults';
  constructor(readonly options: SensorFaultsOptions = {}) {}

  compute(current: Frame, reference?: Frame): SensorFaultsResult {
    const o = this.options;
    const opts = resolveOptions(o, current);
    const { ts: tsName, value: valueName, keys } = opts;
    const ts = numericColumn(current, tsName, 'sensor faults').values;
    const val = numericColumn(current, valueName, 'sensor faults').values;
    const refRanges = reference && reference.columns.has(tsName) && reference.columns.has(valueName) && keys.every((k) => reference.columns.has(k))
      ? referenceRanges(reference, opts)
      : new Map<string, { min: number; max: number }>();
    const events: FaultEvent[] = [];
    const summaries: SeriesFaultSummary[] = [];
    const assetCol = current.columns.get('asset');
    if (o.groupBy && assetCol?.kind !== 'categorical') throw new MillwrightError('BAD_INPUT', `sensor faults: grouping by ${o.groupBy.level} needs an asset column (long-form readings)`);
    const byGroup = new Map<string, GroupFaultSummary>();
    for (const s of groupSeries(current, keys, ts)) {
      const t = s.idx.map((i) => ts[i]!);
      const v = s.idx.map((i) => val[i]!);
      // Out of range: explicit range, else the reference range.
      const signal = s.key.split('/').pop()!;
      const range = o.ranges?.[s.key] ?? o.ranges?.[signal] ?? refRanges.get(s.key);
      const sum = seriesFaults(s.key, t, v, range, opts, events);
      summaries.push(sum);
      if (o.groupBy && assetCol?.kind === 'categorical') addToGroup(byGroup, groupOf(o.groupBy, assetCol.values[s.idx[0]!] ?? ''), sum);
    }
    const { totals, kept } = keepWorst(events, opts.maxEvents);
    const groups = o.groupBy ? { level: o.groupBy.level, rows: [...byGroup.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0)) } : undefined;
    return { type: 'sensor-faults', title: 'Sensor faults', series: summaries, ...(groups ? { groups } : {}), events: kept, totals, options: opts };
  }

  checks(r: SensorFaultsResult): CheckResult[] {
    const parts = (Object.entries(r.totals) as [FaultKind, number][]).filter(([, c]) => c > 0).map(([k, c]) => `${c} ${k.replace(/_/g, ' ')}`);
    const severe = r.totals.stuck + r.totals.out_of_range + r.totals.duplicate > 0;
    return [{
      name: 'sensor faults',
      status: parts.length === 0 ? 'pass' : severe ? 'fail' : 'warn',
      reason: parts.length ? `${parts.join(', ')} across ${r.series.length} series` : `no stuck, gap, out-of-range, duplicate or level-change faults in ${r.series.length} series`,
    }];
  }
}

/** "2 h 5 min", "45 s". */
export function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${(h / 24).toFixed(1)} days`;
}
