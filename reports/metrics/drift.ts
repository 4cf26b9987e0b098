import type { Column, Frame } from '../data.ts';
import { sortedOf, valueCounts, meanStd, distinctSorted, filterFrame, warmSortedStats } from '../data.ts';
import type { CheckResult, Metric, MetricResult } from '../engine.ts';
import { num } from '../engine.ts';
import { ks2samp } from '../stats/ks.ts';
import { chi2Sf, kolmogorovSf } from '../stats/special.ts';
import { ksAndWasserstein, jensenShannon, chiSquare, psi, histogramSorted, sturgesEdges } from '../stats/distances.ts';
import type { FeatureSummary } from '../../lib/model/contract.ts';
import { MillwrightError } from '../../lib/errors/index.ts';

export type DriftTest = 'ks' | 'wasserstein' | 'psi' | 'jensenshannon' | 'chisquare' | 'ztest';

/** p-value tests detect drift when p < threshold; distance tests when distance >= threshold. */
export const P_VALUE_TESTS: ReadonlySet<DriftTest> = new Set(['ks', 'chisquare', 'ztest']);

/** Default thresholds (Evidently's): p < 0.05 for KS, chi-square and the z-test, 0.1 for the distances. */
export const DEFAULT_THRESHOLDS: Record<DriftTest, number> = { ks: 0.05, chisquare: 0.05, ztest: 0.05, wasserstein: 0.1, psi: 0.1, jensenshannon: 0.1 };

/** Where the row states come from: a column name, or a function giving one state per row. */
export type StateSpec = string | ((frame: Frame) => ArrayLike<string | null>);

export interface DataDriftOptions {
  /** Columns to compare. Default: every column present in both datasets, minus `exclude` and the state column. */
  columns?: string[];
  /** Columns never compared. Default `['ts']`. */
  exclude?: string[];
  /** Test for numeric columns. Default `'auto'` (see {@link chooseTest}). */
  numericTest?: DriftTest | 'auto';
  /** Test for categorical columns. Default `'auto'`. */
  categoricalTest?: DriftTest | 'auto';
  /** Per-test thresholds, merged over {@link DEFAULT_THRESHOLDS}. */
  thresholds?: Partial<Record<DriftTest, number>>;
  /**
   * Calibrate distance thresholds on the reference itself: split it (in row order, i.e. time) into
   * `chunks` contiguous blocks, compute each block's distance to the rest, and use the largest as
   * the threshold when it exceeds the configured one. Real sensor series are autocorrelated, so
   * even two stable weeks differ by more than Evidently's 0.1; this asks "more different than the
   * reference ever is from itself?". With `state`, each state is calibrated on its own reference
   * rows. p-value tests (ks, chisquare) are not calibrated. Default false.
   */
  calibrate?: boolean | { chunks?: number };
  /** Per-column test override. */
  perColumn?: Record<string, { test?: DriftTest; threshold?: number }>;
  /** The dataset counts as drifted when at least this share of columns drifted. Default 0.5. */
  driftShare?: number;
  /**
   * Operating state (e.g. running/idle, production run id). When given, each column is compared
   * within each state present in both datasets, so a plant that merely spent more time idle is not
   * reported as drift; the change of state mix is reported separately.
   */
  state?: StateSpec;
  /** States with fewer rows than this in either dataset are not compared. Default 30. */
  minStateRows?: number;
  /**
   * Reference as a model manifest's `baseline` (FeatureSummary[]) instead of raw rows: tests then
   * work on the baseline histogram (KS and Wasserstein become bin-level approximations).
   */
  baseline?: FeatureSummary[];
}

/** Statistics of one comparison (whole data or one state). */
export interface DriftStats {
  test: DriftTest;
  /** The chosen test's value: a p-value for ks/chisquare, a distance otherwise (null = infinite). */
  value: number | null;
  threshold: number;
  drifted: boolean;
  referenceRows: number;
  currentRows: number;
  ks: { statistic: number; pValue: number; method: string } | null;
  /** Wasserstein distance divided by max(reference population std, 0.001) (Evidently's floor). */
  wassersteinNormed: number | null;
  /** The divisor used for `wassersteinNormed`; `wassersteinFloored` when the 0.001 floor applied. */
  wassersteinScale?: number;
  wassersteinFloored?: boolean;
  psi: number | null;
  jensenShannon: number | null;
  chiSquare: { statistic: number | null; pValue: number; df: number } | null;
  /** Two-proportion z-test (pooled), for columns with at most 2 values: z and its two-sided p-value. */
  zTest?: { statistic: number; pValue: number } | null;
  /** Computed from a baseline histogram rather than raw rows. */
  approximate: boolean;
  /** The threshold was raised by calibration on the reference (see `calibrate`). */
  calibrated?: boolean;
}

export interface ColumnDrift extends DriftStats {
  column: string;
  kind: 'numeric' | 'categorical';
  /** Per-state comparisons (with `state`): the column drifted if any compared state drifted. */
  states: (DriftStats & { state: string })[] | null;
  /** Distribution shares for the chart: bins (numeric: edges) and shares per dataset. */
  distribution: { labels: string[]; edges: number[] | null; reference: number[]; current: number[] };
}

export interface DataDriftResult extends MetricResult {
  type: 'data-drift';
  columns: ColumnDrift[];
  driftedColumns: number;
  shareDrifted: number;
  driftShare: number;
  datasetDrift: boolean;
  stateMix: { state: string; referenceShare: number; currentShare: number }[] | null;
  stateMixShift: { chiSquare: number | null; pValue: number; jensenShannon: number } | null;
}

/**
 * The default test for a column, following Evidently: with at most 1000 reference rows, KS for
 * numeric columns (more than 5 distinct values), the two-proportion z-test for columns with at
 * most 2 values (binary) and chi-square otherwise; with more, normalised
 * Wasserstein (numeric) and Jensen-Shannon (categorical), because p-values of large samples flag
 * differences too small to matter.
 *
 * @example
 * chooseTest('numeric', 50_000, 800); // 'wasserstein'
 * chooseTest('categorical', 500, 2);   // 'ztest'
 */
export function chooseTest(kind: 'numeric' | 'categorical', referenceRows: number, distinct: number): DriftTest {
  const numeric = kind === 'numeric' && distinct > 5;
  if (referenceRows <= 1000) return numeric ? 'ks' : distinct <= 2 ? 'ztest' : 'chisquare';
  return numeric ? 'wasserstein' : 'jensenshannon';
}

interface CompareOptions {
  test: DriftTest | 'auto';
  threshold?: number;
  thresholds: Record<DriftTest, number>;
}

function decide(test: DriftTest, value: number | null, threshold: number): boolean {
  if (P_VALUE_TESTS.has(test)) return value !== null && value < threshold;
  return value === null || value >= threshold;
}

function pickValue(test: DriftTest, s: Omit<DriftStats, 'test' | 'value' | 'threshold' | 'drifted'>): number | null {
  switch (test) {
    case 'ks': return s.ks ? s.ks.pValue : null;
    case 'chisquare': return s.chiSquare ? s.chiSquare.pValue : null;
    case 'ztest': return s.zTest ? s.zTest.pValue : null;
    case 'wasserstein': return s.wassersteinNormed;
    case 'psi': return s.psi;
    case 'jensenshannon': return s.jensenShannon;
  }
}

function finish(base: Omit<DriftStats, 'test' | 'value' | 'threshold' | 'drifted'>, kind: 'numeric' | 'categorical', distinct: number, o: CompareOptions): DriftStats {
  let test = o.test === 'auto' ? chooseTest(kind, base.referenceRows, distinct) : o.test;
  // A numeric-only test on a column that is effectively categorical falls back to its categorical counterpart.
  if ((test === 'ks' || test === 'wasserstein') && base.ks === null) test = test === 'ks' ? 'chisquare' : 'jensenshannon';
  if (test === 'ztest' && !base.zTest) test = base.chiSquare ? 'chisquare' : 'ks';
  if (test === 'chisquare' && base.chiSquare === null) test = 'ks';
  const threshold = o.threshold ?? o.thresholds[test];
  const value = pickValue(test, base);
  return { ...base, test, value, threshold, drifted: decide(test, value, threshold) };
}

function sharesOf(counts: ArrayLike<number>): number[] {
  let s = 0;
  for (let i = 0; i < counts.length; i++) s += counts[i]!;
  return Array.from(counts, (c) => (s ? c / s : 0));
}

/**
 * Distinct finite values of the union of two sorted samples (pandas `concat(...).nunique()`),
 * counted up to `cap`: the callers only ask whether a column has more than
 * CATEGORICAL_MAX_DISTINCT values, so the merge stops at the first value past that instead of
 * walking a day of rows.
 */
function distinctUnion(a: Float64Array, b: Float64Array, cap: number): number {
  let i = 0;
  let j = 0;
  let n = 0;
  let last = Number.NaN;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (x !== last) {
      if (++n >= cap) return n;
      last = x;
    }
  }
  return n;
}

/** Wasserstein's divisor, floored like Evidently: max(population std of the reference, 0.001). */
export const WASSERSTEIN_SCALE_FLOOR = 0.001;
/** Numeric columns with at most this many distinct reference values are binned per value (Evidently's `n_vals > 20`). */
export const PER_VALUE_BINS_MAX_DISTINCT = 20;
/** Numeric columns with at most this many distinct values (reference and current together) are compared as categories. */
export const CATEGORICAL_MAX_DISTINCT = 5;

/**
 * Two-proportion z-test (pooled), Evidently's `z_stat_test`: with k1 of n1 reference and k2 of n2
 * current rows taking one of the (at most two) values, z = (p1 - p2) / sqrt(P (1 - P) (1/n1 + 1/n2)),
 * P = (k1 + k2) / (n1 + n2), and the two-sided p-value 2 sf(|z|) (computed as the chi-square(1)
 * survival of z², which keeps its precision in the tail where Evidently's `2 (1 - cdf(|z|))`
 * rounds to 0). Both sides holding the same single value gives p = 1 (Evidently's rule); null
 * when a side is empty.
 *
 * @example
 * proportionsZTest(30, 100, 45, 100); // { statistic: -2.19..., pValue: 0.0285... }
 */
export function proportionsZTest(k1: number, n1: number, k2: number, n2: number): { statistic: number; pValue: number } | null {
  if (!(n1 > 0) || !(n2 > 0)) return null;
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const pooled = (k1 + k2) / (n1 + n2);
  const v = pooled * (1 - pooled) * (1 / n1 + 1 / n2);
  if (!(v > 0)) return { statistic: 0, pValue: 1 }; // one value on both sides
  const z = (p1 - p2) / Math.sqrt(v);
  return { statistic: z, pValue: chi2Sf(z * z, 1) };
}

/** Compares two numeric samples (sorted). */
function compareNumeric(ref: Float64Array, cur: Float64Array, o: CompareOptions): { stats: DriftStats; dist: ColumnDrift['distribution'] } {
  // Only `distinct <= CATEGORICAL_MAX_DISTINCT` matters here and in chooseTest (`> 5`): one past it is enough.
  const distinct = distinctUnion(ref, cur, CATEGORICAL_MAX_DISTINCT + 1);
  if (distinct <= CATEGORICAL_MAX_DISTINCT) {
    // Few distinct values: compare as categories (Evidently does the same).
    const toStrings = (s: Float64Array) => Array.from(s, String);
    return compareCategorical(toStrings(ref), toStrings(cur), o, 'numeric');
  }
  let labels: string[];
  let edges: number[] | null;
  let rc: ArrayLike<number>;
  let cc: ArrayLike<number>;
  if (distinctSorted(ref) <= PER_VALUE_BINS_MAX_DISTINCT) {
    // Evidently bins a numeric column per value unless its reference has more than 20 values.
    const rv = valueCounts(Array.from(ref, String));
    const cv = valueCounts(Array.from(cur, String));
    const keys = [...new Set([...rv.keys(), ...cv.keys()])].sort((a, b) => Number(a) - Number(b));
    labels = keys;
    edges = null;
    rc = keys.map((k) => rv.get(k) ?? 0);
    cc = keys.map((k) => cv.get(k) ?? 0);
  } else {
    const e = sturgesEdges(ref, cur);
    edges = e;
    labels = e.slice(0, -1).map((x) => x.toPrecision(4));
    rc = histogramSorted(ref, e);
    cc = histogramSorted(cur, e);
  }
  const { std } = meanStd(ref);
  const popStd = ref.length > 1 ? std * Math.sqrt((ref.length - 1) / ref.length) : 0;
  const scale = Math.max(popStd, WASSERSTEIN_SCALE_FLOOR);
  const { ks: d, wasserstein: w } = ksAndWasserstein(ref, cur);
  const ks = ks2samp(ref, cur, 'auto', d);
  const base = {
    referenceRows: ref.length,
    currentRows: cur.length,
    ks: { statistic: ks.statistic, pValue: ks.pValue, method: ks.method },
    wassersteinNormed: num(w / scale),
    wassersteinScale: scale,
    wassersteinFloored: popStd < WASSERSTEIN_SCALE_FLOOR,
    psi: num(psi(rc, cc)),
    jensenShannon: num(jensenShannon(rc, cc, 2)),
    chiSquare: null,
    approximate: false,
  };
  return {
    stats: finish(base, 'numeric', distinct, o),
    dist: { labels, edges, reference: sharesOf(rc), current: sharesOf(cc) },
  };
}

function compareCategorical(ref: ArrayLike<string | null>, cur: ArrayLike<string | null>, o: CompareOptions, kind: 'numeric' | 'categorical' = 'categorical'): { stats: DriftStats; dist: ColumnDrift['distribution'] } {
  const rc = valueCounts(ref);
  const cc = valueCounts(cur);
  const keys = [...new Set([...rc.keys(), ...cc.keys()])].sort((a, b) => (rc.get(b) ?? 0) - (rc.get(a) ?? 0) || (a < b ? -1 : 1));
  const r = keys.map((k) => rc.get(k) ?? 0);
  const c = keys.map((k) => cc.get(k) ?? 0);
  const nr = r.reduce((s, x) => s + x, 0);
  const nc = c.reduce((s, x) => s + x, 0);
  const chi = nr && nc ? chiSquare(c, r) : null;
  const base = {
    referenceRows: nr,
    currentRows: nc,
    ks: null,
    wassersteinNormed: null,
    psi: nr && nc ? num(psi(r, c)) : null,
    jensenShannon: nr && nc ? num(jensenShannon(r, c, 2)) : null,
    chiSquare: chi ? { statistic: num(chi.statistic), pValue: chi.pValue, df: chi.df } : null,
    zTest: keys.length <= 2 ? proportionsZTest(r[0] ?? 0, nr, c[0] ?? 0, nc) : null,
    approximate: false,
  };
  return { stats: finish(base, kind === 'numeric' ? 'categorical' : kind, keys.length, o), dist: { labels: keys, edges: null, reference: sharesOf(r), current: sharesOf(c) } };
}

/** Compares a current sample with a manifest baseline's histogram or category counts. */
function compareWithBaseline(b: FeatureSummary, col: Column, o: CompareOptions): { stats: DriftStats; dist: ColumnDrift['distribution'] } {
  if (b.kind === 'categorical' || !b.numeric) {
    const counts = b.categorical?.counts ?? {};
    const keys = new Set(Object.keys(counts));
    const curVals = col.kind === 'categorical' ? col.values : Array.from(col.values, (v) => (Number.isFinite(v) ? String(v) : null));
    const cc = valueCounts(curVals);
    for (const k of cc.keys()) keys.add(k);
    const labels = [...keys].sort((x, y) => (counts[y] ?? 0) - (counts[x] ?? 0) || (x < y ? -1 : 1));
    const r = labels.map((k) => counts[k] ?? 0);
    const c = labels.map((k) => cc.get(k) ?? 0);
    const nr = r.reduce((s, x) => s + x, 0);
    const nc = c.reduce((s, x) => s + x, 0);
    const chi = nr && nc ? chiSquare(c, r) : null;
    const base = {
      referenceRows: nr, currentRows: nc, ks: null, wassersteinNormed: null,
      psi: nr && nc ? num(psi(r, c)) : null, jensenShannon: nr && nc ? num(jensenShannon(r, c, 2)) : null,
      chiSquare: chi ? { statistic: num(chi.statistic), pValue: chi.pValue, df: chi.df } : null,
      zTest: labels.length <= 2 ? proportionsZTest(r[0] ?? 0, nr, c[0] ?? 0, nc) : null, approximate: false,
    };
    return { stats: finish(base, 'categorical', labels.length, o), dist: { labels, edges: null, reference: sharesOf(r), current: sharesOf(c) } };
  }
  if (col.kind !== 'numeric') throw new MillwrightError('BAD_INPUT', `drift: column "${b.name}" is numeric in the baseline but not in the current data`);
  const edges = b.numeric.histogram.edges;
  const rc = b.numeric.histogram.counts;
  const cur = sortedOf(col);
  // Values beyond the baseline range fall in open-ended outer bins.
  const ext = [-Infinity, ...edges, Infinity];
  const ccExt = histogramSorted(cur, ext);
  const rcExt = [0, ...rc, 0];
  const nr = rc.reduce((s, x) => s + x, 0);
  const nc = cur.length;
  // Bin-level CDFs at the edges: KS is the largest gap there; Wasserstein integrates the gap across bins.
  let fr = 0;
  let fc = ccExt[0]! / Math.max(nc, 1);
  let d = fc;
  let w = 0;
  for (let i = 0; i < rc.length; i++) {
    fr += rc[i]! / nr;
    fc += ccExt[i + 1]! / Math.max(nc, 1);
    d = Math.max(d, Math.abs(fr - fc));
    w += Math.abs(fr - fc) * (edges[i + 1]! - edges[i]!);
  }
  // Mass beyond the range contributes its distance to the nearest edge.
  const lo = edges[0]!;
  const hi = edges[edges.length - 1]!;
  for (let i = 0; i < nc && cur[i]! < lo; i++) w += (lo - cur[i]!) / nc;
  for (let i = nc - 1; i >= 0 && cur[i]! > hi; i--) w += (cur[i]! - hi) / nc;
  const en = (nr * nc) / Math.max(nr + nc, 1);
  const std = b.numeric.std;
  const base = {
    referenceRows: nr, currentRows: nc,
    ks: nc ? { statistic: d, pValue: kolmogorovSf(Math.sqrt(en) * d), method: 'asymp-binned' } : null,
    wassersteinNormed: num(std > 0 ? w / std : w === 0 ? 0 : Infinity),
    psi: nc ? num(psi(rcExt, ccExt)) : null, jensenShannon: nc ? num(jensenShannon(rcExt, ccExt, 2)) : null, chiSquare: null, approximate: true,
  };
  return {
    stats: finish(base, 'numeric', Math.max(6, rc.length), o),
    dist: { labels: edges.slice(0, -1).map((e) => e.toPrecision(4)), edges, reference: sharesOf(rc), current: sharesOf(Array.from(ccExt).slice(1, -1)) },
  };
}

function sliceColumn(col: Column, from: number, to: number, invert: boolean): Column {
  if (col.kind === 'numeric') {
    const v = invert ? Float64Array.from([...col.values.subarray(0, from), ...col.values.subarray(to)]) : col.values.slice(from, to);
    return { ...col, values: v };
  }
  return { ...col, values: invert ? [...col.values.slice(0, from), ...col.values.slice(to)] : col.values.slice(from, to) };
}

/** Largest distance between a contiguous reference chunk and the rest of the reference, when above the configured threshold. */
function calibrateThreshold(
  ref: Column,
  cur: Column,
  co: CompareOptions,
  chunks: number,
  compare: (r: Column | undefined, c: Column) => { stats: DriftStats },
): number | null {
  const probe = compare(ref, cur).stats;
  if (P_VALUE_TESTS.has(probe.test)) return null;
  const n = ref.values.length;
  const size = Math.floor(n / chunks);
  if (size < 30) return null;
  let worst = -Infinity;
  // Chunks are smaller than the reference: keep the test the full comparison uses.
  const saved = co.test;
  co.test = probe.test;
  for (let k = 0; k < chunks; k++) {
    const from = k * size;
    const to = k === chunks - 1 ? n : from + size;
    const s = compare(sliceColumn(ref, from, to, true), sliceColumn(ref, from, to, false)).stats;
    const v = s.test === probe.test ? s.value : null;
    if (v !== null && v > worst) worst = v;
  }
  co.test = saved;
  return worst > probe.threshold ? worst : null;
}

function statesOf(frame: Frame, spec: StateSpec): (string | null)[] {
  if (typeof spec === 'function') return Array.from(spec(frame), (s) => (s === null || s === undefined ? null : String(s)));
  const col = frame.columns.get(spec);
  if (!col) throw new MillwrightError('BAD_INPUT', `drift: state column "${spec}" not found (columns: ${frame.names.join(', ')})`);
  return col.kind === 'categorical' ? col.values : Array.from(col.values, (v) => (Number.isFinite(v) ? String(v) : null));
}

/**
 * A state function for `state`: "running" when `column` is above `threshold`, else "idle".
 *
 * @example
 * new DataDriftMetric({ state: runningState('power_kw', 5) })
 */
export function runningState(column: string, threshold: number): (frame: Frame) => (string | null)[] {
  return (frame) => {
    const col = frame.columns.get(column);
    if (!col || col.kind !== 'numeric') throw new MillwrightError('BAD_INPUT', `runningState: numeric column "${column}" not found`);
    return Array.from(col.values, (v) => (Number.isFinite(v) ? (v > threshold ? 'running' : 'idle') : null));
  };
}

/**
 * Per-column drift between a reference and the current data (KS, PSI, normalised Wasserstein,
 * Jensen-Shannon, chi-square; one chosen per column by {@link chooseTest} unless configured), the
 * share of drifted columns, and, with `state`, like-for-like comparisons within operating states.
 *
 * @example
 * const report = runReport('drift', [new DataDriftMetric({ state: 'Load_Type' })], current, reference);
 */
export class DataDriftMetric implements Metric<DataDriftResult> {
  readonly type = 'data-drift';
  constructor(readonly options: DataDriftOptions = {}) {}

  compute(current: Frame, reference?: Frame): DataDriftResult {
    const o = this.options;
    const baseline = o.baseline ? new Map(o.baseline.map((b) => [b.name, b])) : undefined;
    if (!reference && !baseline) throw new MillwrightError('BAD_INPUT', 'drift: needs reference data or a baseline (FeatureSummary[]) to compare with');
    const thresholds = { ...DEFAULT_THRESHOLDS, ...o.thresholds };
    const exclude = new Set(o.exclude ?? ['ts']);
    if (typeof o.state === 'string') exclude.add(o.state);
    const refNames = reference ? reference.names : [...baseline!.keys()];
    const columns = o.columns ?? current.names.filter((n) => !exclude.has(n) && refNames.includes(n));
    for (const c of columns) {
      if (!current.columns.has(c)) throw new MillwrightError('BAD_INPUT', `drift: column "${c}" not in the current data`);
      if (!refNames.includes(c)) throw new MillwrightError('BAD_INPUT', `drift: column "${c}" not in the reference`);
    }
    const minStateRows = o.minStateRows ?? 30;
    let stateGroups: { state: string; ref: Frame; cur: Frame }[] | null = null;
    let stateMix: DataDriftResult['stateMix'] = null;
    let stateMixShift: DataDriftResult['stateMixShift'] = null;
    if (o.state !== undefined) {
      if (!reference) throw new MillwrightError('BAD_INPUT', 'drift: comparing by state needs reference rows (a baseline has no states)');
      const rs = statesOf(reference, o.state);
      const cs = statesOf(current, o.state);
      const rcnt = valueCounts(rs);
      const ccnt = valueCounts(cs);
      const all = [...new Set([...rcnt.keys(), ...ccnt.keys()])].sort();
      const rTot = [...rcnt.values()].reduce((a, b) => a + b, 0);
      const cTot = [...ccnt.values()].reduce((a, b) => a + b, 0);
      stateMix = all.map((s) => ({ state: s, referenceShare: rTot ? (rcnt.get(s) ?? 0) / rTot : 0, currentShare: cTot ? (ccnt.get(s) ?? 0) / cTot : 0 }));
      const r = all.map((s) => rcnt.get(s) ?? 0);
      const c = all.map((s) => ccnt.get(s) ?? 0);
      if (rTot && cTot) {
        const chi = chiSquare(c, r);
        stateMixShift = { chiSquare: num(chi.statistic), pValue: chi.pValue, jensenShannon: jensenShannon(r, c, 2) };
      }
      stateGroups = all
        .filter((s) => (rcnt.get(s) ?? 0) >= minStateRows && (ccnt.get(s) ?? 0) >= minStateRows)
        .map((s) => ({ state: s, ref: filterFrame(reference, rs.map((x) => x === s)), cur: filterFrame(current, cs.map((x) => x === s)) }));
    }
    if (reference) {
      const both = columns.map((c) => [reference.columns.get(c), current.columns.get(c)] as const);
      warmSortedStats(both.flatMap(([r, c]) => (r?.kind === 'numeric' && c?.kind === 'numeric' ? [sortedOf(r)] : [])));
    }
    const results: ColumnDrift[] = [];
    for (const name of columns) {
      const pc = o.perColumn?.[name];
      const curCol = current.columns.get(name)!;
      const kind = baseline ? (baseline.get(name)!.kind) : reference!.columns.get(name)!.kind;
      const co: CompareOptions = { test: pc?.test ?? (kind === 'numeric' ? o.numericTest ?? 'auto' : o.categoricalTest ?? 'auto'), threshold: pc?.threshold, thresholds };
      const compareWith = (opts: CompareOptions) => (ref: Column | undefined, cur: Column) => {
        if (baseline && !ref) return compareWithBaseline(baseline.get(name)!, cur, opts);
        if (ref!.kind === 'numeric' && cur.kind === 'numeric') return compareNumeric(sortedOf(ref!), sortedOf(cur), opts);
        const asStrings = (c: Column) => (c.kind === 'categorical' ? c.values : Array.from(c.values, (v) => (Number.isFinite(v) ? String(v) : null)));
        return compareCategorical(asStrings(ref!), asStrings(cur), opts);
      };
      const chunks = typeof o.calibrate === 'object' ? o.calibrate.chunks ?? 8 : 8;
      // Calibrated comparison of one reference/current pair (the whole data, or one state's rows).
      const calibratedCompare = (ref: Column | undefined, cur: Column) => {
        const opts: CompareOptions = { ...co };
        const run = compareWith(opts);
        let calibrated = false;
        if (o.calibrate && ref && opts.threshold === undefined) {
          const cal = calibrateThreshold(ref, cur, opts, chunks, run);
          if (cal !== null) {
            opts.threshold = cal;
            calibrated = true;
          }
        }
        const r = run(ref, cur);
        if (calibrated) r.stats.calibrated = true;
        return r;
      };
      const compare = calibratedCompare;
      const whole = compare(reference?.columns.get(name), curCol);
      let states: ColumnDrift['states'] = null;
      let headline = whole.stats;
      if (stateGroups) {
        states = [];
        for (const g of stateGroups) {
          const rc = g.ref.columns.get(name)!;
          const cc = g.cur.columns.get(name)!;
          const hasData = rc.kind === 'numeric' ? sortedOf(rc).length > 0 : rc.values.some((v) => v !== null);
          const hasCur = cc.kind === 'numeric' ? sortedOf(cc).length > 0 : cc.values.some((v) => v !== null);
          if (!hasData || !hasCur) continue;
          states.push({ state: g.state, ...compare(rc, cc).stats });
        }
        // Within-state verdicts decide; the whole-data comparison is kept for reference.
        const drifted = states.filter((s) => s.drifted);
        headline = drifted.length ? severest(drifted) : states.length ? severest(states) : whole.stats;
        headline = { ...headline, drifted: drifted.length > 0 };
      }
      results.push({ column: name, kind: curCol.kind, ...headline, states, distribution: whole.dist });
    }
    const driftedColumns = results.filter((r) => r.drifted).length;
    const shareDrifted = results.length ? driftedColumns / results.length : 0;
    const driftShare = o.driftShare ?? 0.5;
    return {
      type: 'data-drift',
      title: 'Data drift',
      columns: results,
      driftedColumns,
      shareDrifted,
      driftShare,
      datasetDrift: results.length > 0 && shareDrifted >= driftShare,
      stateMix,
      stateMixShift,
    };
  }

  checks(r: DataDriftResult): CheckResult[] {
    const drifted = r.columns.filter((c) => c.drifted).map((c) => `${c.column} (${c.test} ${fmt(c.value)})`);
    const checks: CheckResult[] = [{
      name: 'dataset drift',
      status: r.datasetDrift ? 'fail' : drifted.length ? 'warn' : 'pass',
      reason: `${r.driftedColumns} of ${r.columns.length} columns drifted (${(r.shareDrifted * 100).toFixed(0)}%; dataset drift at ${(r.driftShare * 100).toFixed(0)}%)${drifted.length ? ': ' + drifted.join(', ') : ''}`,
    }];
    if (r.stateMix && r.stateMixShift) {
      const moved = r.stateMix.map((s) => `${s.state} ${(s.referenceShare * 100).toFixed(0)}% → ${(s.currentShare * 100).toFixed(0)}%`).join(', ');
      checks.push({
        name: 'operating state mix',
        status: 'pass',
        reason: `time share per state: ${moved}; columns are compared within states, so a change of mix alone is not drift`,
      });
    }
    return checks;
  }
}

function severity(s: DriftStats): number {
  if (s.value === null) return Infinity;
  return P_VALUE_TESTS.has(s.test) ? s.threshold / Math.max(s.value, 1e-300) : s.value / s.threshold;
}

function severest<T extends DriftStats>(xs: T[]): T {
  return xs.reduce((a, b) => (severity(b) > severity(a) ? b : a));
}

function fmt(x: number | null): string {
  if (x === null) return '∞';
  return Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(3);
}
