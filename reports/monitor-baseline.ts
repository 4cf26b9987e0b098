/**
 * Baseline statistics and constraints in SageMaker Model Monitor's file layout
 * (`statistics.json`, `constraints.json`, and `constraint_violations.json` for checks), so people
 * who know that tool read them without a manual.
 *
 * Differences from SageMaker, on purpose: `distribution.kll.sketch.data` holds one level of up to
 * `k` equally weighted order statistics (exact when n <= k) instead of a randomized KLL
 * compactor; `baseline_drift_check` compares that quantile summary with the current data by the
 * KS distance (sup |F_baseline - F_current|), which is what SageMaker's "Robust" method measures.
 * `non_negative_check` is millwright's name for violations of `num_constraints.is_non_negative`.
 */
import type { Frame, NumericColumn } from './data.ts';
import { toFrame, sortedOf, meanStd, valueCounts, warmSortedStats, type TableInput } from './data.ts';
import { MillwrightError } from '../lib/errors/index.ts';
import { searchSorted } from './stats/distances.ts';

export type InferredType = 'Integral' | 'Fractional' | 'String' | 'Unknown';

export interface KllBucket {
  lower_bound: number;
  upper_bound: number;
  count: number;
}

export interface NumericalStatistics {
  common: { num_present: number; num_missing: number };
  mean: number;
  sum: number;
  std_dev: number;
  min: number;
  max: number;
  distribution: { kll: { buckets: KllBucket[]; sketch: { parameters: { c: number; k: number }; data: number[][] } } };
}

export interface StringStatistics {
  common: { num_present: number; num_missing: number };
  distinct_count: number;
  distribution: { categorical: { buckets: { value: string; count: number }[] } };
}

export interface FeatureStatistics {
  name: string;
  inferred_type: InferredType;
  numerical_statistics?: NumericalStatistics;
  string_statistics?: StringStatistics;
}

/** statistics.json */
export interface BaselineStatistics {
  version: number;
  dataset: { item_count: number };
  features: FeatureStatistics[];
}

export interface FeatureConstraint {
  name: string;
  inferred_type: InferredType;
  completeness: number;
  num_constraints?: { is_non_negative: boolean };
  string_constraints?: { domains: string[] };
}

/** constraints.json */
export interface BaselineConstraints {
  version: number;
  features: FeatureConstraint[];
  monitoring_config: {
    evaluate_constraints: 'Enabled' | 'Disabled';
    emit_metrics: 'Enabled' | 'Disabled';
    datatype_check_threshold: number;
    domain_content_threshold: number;
    distribution_constraints: { perform_comparison: 'Enabled' | 'Disabled'; comparison_threshold: number; comparison_method: 'Robust' | 'Simple' };
  };
}

export type ViolationType =
  | 'data_type_check'
  | 'completeness_check'
  | 'missing_column_check'
  | 'extra_column_check'
  | 'categorical_values_check'
  | 'baseline_drift_check'
  | 'non_negative_check';

/** One entry of constraint_violations.json. */
export interface Violation {
  feature_name: string;
  constraint_check_type: ViolationType;
  description: string;
}

export interface MonitorBaselineOptions {
  /** Columns to leave out (e.g. `ts`, ids). Default none. */
  exclude?: string[];
  /** Equal-width buckets in `distribution.kll.buckets`. Default 10 (SageMaker's). */
  buckets?: number;
  /** Order statistics kept in the sketch. Default 2048 (SageMaker's KLL k). */
  k?: number;
  /** String columns with more distinct values than this get no `domains` constraint. Default 100. */
  maxDomain?: number;
  /** `monitoring_config.distribution_constraints.comparison_threshold`. Default 0.1. */
  comparisonThreshold?: number;
}

/**
 * statistics.json for a table.
 *
 * @example
 * const stats = computeStatistics(trainingTable, { exclude: ['ts'] });
 * stats.features[0].numerical_statistics?.mean;
 */
export function computeStatistics(input: TableInput, options: MonitorBaselineOptions = {}): BaselineStatistics {
  const frame = toFrame(input);
  const exclude = new Set(options.exclude ?? []);
  const nb = options.buckets ?? 10;
  const k = options.k ?? 2048;
  const features: FeatureStatistics[] = [];
  warmSortedStats(frame.names.flatMap((n) => {
    const c = frame.columns.get(n)!;
    return !exclude.has(n) && c.kind === 'numeric' ? [sortedOf(c)] : [];
  }));
  for (const name of frame.names) {
    if (exclude.has(name)) continue;
    const col = frame.columns.get(name)!;
    if (col.kind === 'numeric') {
      const s = sortedOf(col);
      const present = s.length;
      if (present === 0) {
        features.push({ name, inferred_type: 'Unknown' });
        continue;
      }
      const { mean, std, sum } = meanStd(s);
      features.push({
        name,
        inferred_type: col.integral ? 'Integral' : 'Fractional',
        numerical_statistics: {
          common: { num_present: present, num_missing: frame.rows - present },
          mean,
          sum,
          // SageMaker reports the population standard deviation.
          std_dev: present > 1 ? std * Math.sqrt((present - 1) / present) : 0,
          min: s[0]!,
          max: s[present - 1]!,
          distribution: { kll: { buckets: equalWidthBuckets(s, nb), sketch: { parameters: { c: 0.64, k }, data: [orderStatistics(s, k)] } } },
        },
      });
    } else {
      const counts = valueCounts(col.values);
      let present = 0;
      for (const c of counts.values()) present += c;
      const buckets = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([value, count]) => ({ value, count }));
      features.push({
        name,
        inferred_type: 'String',
        string_statistics: { common: { num_present: present, num_missing: frame.rows - present }, distinct_count: counts.size, distribution: { categorical: { buckets } } },
      });
    }
  }
  return { version: 0.0, dataset: { item_count: frame.rows }, features };
}

function equalWidthBuckets(s: Float64Array, nb: number): KllBucket[] {
  const lo = s[0]!;
  const hi = s[s.length - 1]!;
  if (hi === lo) return [{ lower_bound: lo, upper_bound: hi, count: s.length }];
  const out: KllBucket[] = [];
  let i = 0;
  for (let b = 0; b < nb; b++) {
    const lower = lo + ((hi - lo) * b) / nb;
    const upper = b === nb - 1 ? hi : lo + ((hi - lo) * (b + 1)) / nb;
    let c = 0;
    while (i < s.length && (s[i]! < upper || (b === nb - 1 && s[i]! <= upper))) {
      c++;
      i++;
    }
    out.push({ lower_bound: lower, upper_bound: upper, count: c });
  }
  return out;
}

function orderStatistics(s: Float64Array, k: number): number[] {
  if (s.length <= k) return Array.from(s);
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(s[Math.min(s.length - 1, Math.floor(((i + 0.5) * s.length) / k))]!);
  return out;
}

/**
 * constraints.json suggested from statistics, as SageMaker's suggest_baseline does: completeness
 * as observed, non-negativity where the minimum is >= 0, domains for string columns.
 *
 * @example
 * const constraints = suggestConstraints(computeStatistics(train), { maxDomain: 50 });
 */
export function suggestConstraints(stats: BaselineStatistics, options: MonitorBaselineOptions = {}): BaselineConstraints {
  const maxDomain = options.maxDomain ?? 100;
  const features: FeatureConstraint[] = stats.features.map((f) => {
    const common = f.numerical_statistics?.common ?? f.string_statistics?.common;
    const total = common ? common.num_present + common.num_missing : 0;
    const c: FeatureConstraint = { name: f.name, inferred_type: f.inferred_type, completeness: total ? common!.num_present / total : 0 };
    if (f.numerical_statistics) c.num_constraints = { is_non_negative: f.numerical_statistics.min >= 0 };
    if (f.string_statistics && f.string_statistics.distinct_count <= maxDomain) {
      c.string_constraints = { domains: f.string_statistics.distribution.categorical.buckets.map((b) => b.value).sort() };
    }
    return c;
  });
  return {
    version: 0.0,
    features,
    monitoring_config: {
      evaluate_constraints: 'Enabled',
      emit_metrics: 'Enabled',
      datatype_check_threshold: 1.0,
      domain_content_threshold: 1.0,
      distribution_constraints: { perform_comparison: 'Enabled', comparison_threshold: options.comparisonThreshold ?? 0.1, comparison_method: 'Robust' },
    },
  };
}

/**
 * Baseline = statistics + suggested constraints of a training table.
 *
 * @example
 * const { statistics, constraints } = computeBaseline(trainingTable, { exclude: ['ts'] });
 */
export function computeBaseline(input: TableInput, options: MonitorBaselineOptions = {}): { statistics: BaselineStatistics; constraints: BaselineConstraints } {
  const statistics = computeStatistics(input, options);
  return { statistics, constraints: suggestConstraints(statistics, options) };
}

/**
 * Validates parsed JSON as statistics.json / constraints.json (clear error on the wrong file).
 *
 * @example
 * parseBaselineFiles(JSON.parse(statsText), JSON.parse(constraintsText));
 */
export function parseBaselineFiles(statistics: unknown, constraints: unknown): { statistics: BaselineStatistics; constraints: BaselineConstraints } {
  const s = statistics as BaselineStatistics;
  const c = constraints as BaselineConstraints;
  if (!s || !Array.isArray(s.features) || typeof s.dataset?.item_count !== 'number') {
    throw new MillwrightError('BAD_INPUT', 'statistics.json: expected {version, dataset: {item_count}, features: [...]} (SageMaker Model Monitor layout)');
  }
  if (!c || !Array.isArray(c.features) || typeof c.monitoring_config !== 'object') {
    throw new MillwrightError('BAD_INPUT', 'constraints.json: expected {version, features: [...], monitoring_config: {...}} (SageMaker Model Monitor layout)');
  }
  return { statistics: s, constraints: c };
}

/**
 * KS distance between the baseline's quantile summary and a sorted current sample. Between two
 * sketch values the sketch CDF is flat, so the largest gap there is at one end of the interval:
 * two binary searches per sketch value give the same maximum as a merge walk over every
 * current value (same counts, same arithmetic).
 */
function sketchDistance(sketch: number[], cur: Float64Array): number {
  const ref = Float64Array.from(sketch).sort();
  const nr = ref.length;
  const nc = cur.length;
  let i = 0;
  let d = 0;
  while (i < nr) {
    const x = ref[i]!;
    d = Math.max(d, Math.abs(i / nr - searchSorted(cur, x, 'left') / nc));
    while (i < nr && ref[i]! <= x) i++;
    d = Math.max(d, Math.abs(i / nr - searchSorted(cur, x, 'right') / nc));
  }
  return d;
}

/** One baseline feature's constraints. */
type FeatureConstraints = BaselineConstraints['features'][number];
/** A column of the current data. */
type CurrentColumn = NonNullable<ReturnType<Frame['columns']['get']>>;

/** How many values are present, and how many of them fit the baseline's inferred type. */
function typeFit(col: CurrentColumn, fc: FeatureConstraints): { present: number; fitting: number } {
  let present = 0;
  let fitting = 0;
  if (col.kind === 'numeric') {
    // The sorted finite values are shared with the other checks and reports: no pass over the rows.
    const s = sortedOf(col);
    present = s.length;
    if (fc.inferred_type === 'Integral') {
      // `integral` already says whether every present value is an integer.
      if (col.integral) fitting = present;
      else for (let i = 0; i < s.length; i++) if (Number.isInteger(s[i]!)) fitting++;
    } else if (fc.inferred_type !== 'String') fitting = present;
  } else {
    // Per distinct value (counts are cached and shared with the other reports), not per row.
    for (const [v, c] of valueCounts(col.values)) {
      present += c;
      if (fc.inferred_type === 'String' || fc.inferred_type === 'Unknown') fitting += c;
      else if (Number.isFinite(Number(v)) && (fc.inferred_type !== 'Integral' || Number.isInteger(Number(v)))) fitting += c;
    }
  }
  return { present, fitting };
}

/** The categorical_values_check violation when too few values are in the baseline domain. */
function domainViolation(fc: FeatureConstraints, domains: string[], col: CurrentColumn & { kind: 'categorical' }, present: number, cfg: BaselineConstraints['monitoring_config']): Violation | undefined {
  const domain = new Set(domains);
  let inDomain = 0;
  const unknown = new Map<string, number>();
  for (const [v, c] of valueCounts(col.values)) {
    if (domain.has(v)) inDomain += c;
    else unknown.set(v, c);
  }
  if (present > 0 && inDomain / present < cfg.domain_content_threshold) {
    const examples = [...unknown.keys()].slice(0, 5).map((v) => `"${v}"`).join(', ');
    return {
      feature_name: fc.name,
      constraint_check_type: 'categorical_values_check',
      description: `Data type match requirement is not met: ${fmtPct(1 - inDomain / present)} of values are outside the baseline domain (e.g. ${examples}); expected at least ${fmtPct(cfg.domain_content_threshold)} in domain.`,
    };
  }
  return undefined;
}

/** The baseline_drift_check violation when the current distribution is too far from the baseline sketch. */
function driftViolation(fc: FeatureConstraints, col: CurrentColumn, fs: BaselineStatistics['features'][number] | undefined, cfg: BaselineConstraints['monitoring_config']): Violation | undefined {
  if (cfg.distribution_constraints.perform_comparison === 'Enabled' && fs?.numerical_statistics && col.kind === 'numeric') {
    const cur = sortedOf(col as NumericColumn);
    const sketch = fs.numerical_statistics.distribution.kll.sketch.data.flat();
    if (cur.length > 0 && sketch.length > 0) {
      const d = sketchDistance(sketch, cur);
      if (d > cfg.distribution_constraints.comparison_threshold) {
        return {
          feature_name: fc.name,
          constraint_check_type: 'baseline_drift_check',
          description: `Baseline drift distance: ${d.toFixed(4)} exceeds threshold: ${cfg.distribution_constraints.comparison_threshold}`,
        };
      }
    }
  }
  return undefined;
}

/**
 * Checks a table against baseline constraints: SageMaker's violation types, plus
 * `non_negative_check`. Returns the `violations` array of constraint_violations.json.
 *
 * @example
 * const violations = checkConstraints(lastHour, computeBaseline(train));
 * // [{ feature_name: 'mode', constraint_check_type: 'categorical_values_check', description: '...' }]
 */
export function checkConstraints(input: TableInput, baseline: { statistics: BaselineStatistics; constraints: BaselineConstraints }): Violation[] {
  const frame: Frame = toFrame(input);
  const cfg = baseline.constraints.monitoring_config;
  const out: Violation[] = [];
  const known = new Set(baseline.constraints.features.map((f) => f.name));
  const statsByName = new Map(baseline.statistics.features.map((f) => [f.name, f]));
  for (const fc of baseline.constraints.features) {
    const col = frame.columns.get(fc.name);
    if (!col) {
      out.push({ feature_name: fc.name, constraint_check_type: 'missing_column_check', description: `Baseline column "${fc.name}" is missing from the current data.` });
      continue;
    }
    const total = frame.rows;
    // Data type: share of present values that fit the baseline type.
    const { present, fitting } = typeFit(col, fc);
    if (present > 0 && fitting / present < cfg.datatype_check_threshold) {
      out.push({
        feature_name: fc.name,
        constraint_check_type: 'data_type_check',
        description: `Data type match requirement is not met. Expected data type: ${fc.inferred_type}, expected match: ${cfg.datatype_check_threshold * 100}%. Observed: only ${fmtPct(fitting / present)} of ${present} values matched.`,
      });
    }
    const completeness = total ? present / total : 1;
    if (completeness < fc.completeness - 1e-12) {
      out.push({
        feature_name: fc.name,
        constraint_check_type: 'completeness_check',
        description: `Data completeness requirement is not met. Expected: ${fmtPct(fc.completeness)} present, observed ${fmtPct(completeness)} (${total - present} of ${total} missing).`,
      });
    }
    if (col.kind === 'numeric' && fc.num_constraints?.is_non_negative) {
      const negative = searchSorted(sortedOf(col), 0, 'left');
      if (negative > 0) {
        out.push({ feature_name: fc.name, constraint_check_type: 'non_negative_check', description: `${negative} negative values; the baseline constrains this column to be non-negative.` });
      }
    }
    if (fc.string_constraints && col.kind === 'categorical') {
      const v = domainViolation(fc, fc.string_constraints.domains, col, present, cfg);
      if (v) out.push(v);
    }
    const drift = driftViolation(fc, col, statsByName.get(fc.name), cfg);
    if (drift) out.push(drift);
  }
  for (const name of frame.names) {
    if (!known.has(name)) {
      out.push({ feature_name: name, constraint_check_type: 'extra_column_check', description: `Column "${name}" is not in the baseline.` });
    }
  }
  return out;
}

function fmtPct(x: number): string {
  return `${(x * 100).toFixed(x > 0.999 && x < 1 ? 2 : 1)}%`;
}
