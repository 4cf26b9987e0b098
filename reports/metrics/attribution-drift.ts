/**
 * Feature attribution drift, SageMaker Model Monitor's rule: for each label, rank the features by
 * their global attribution (mean |SHAP|) on the baseline and on the live data, and score the live
 * ranking by nDCG with the baseline attributions as relevance:
 *   DCG = Σ_i a(f'_i) / log2(i + 1)   (f' = features by live attribution, a = baseline attribution)
 *   iDCG = Σ_i a(f_i) / log2(i + 1)   (f = features by baseline attribution)
 * nDCG = DCG / iDCG; below the threshold (0.9) is a `feature_attribution_drift_check` violation.
 * The baseline analysis is the constraints file (SageMaker's analysis.json layout).
 */
import type { Frame } from '../data.ts';
import type { CheckResult, Metric, MetricResult } from '../engine.ts';

/** SageMaker Clarify's analysis.json, as written for the baseline (constraints) and per run. */
export interface AttributionAnalysis {
  version: '1.0';
  explanations: {
    /** Label -> global attribution per feature and the expected (base) value. */
    tree_shap: Record<string, { global_shap_values: Record<string, number>; expected_value: number }>;
  };
}

/** One entry of constraint_violations.json for attribution drift (SageMaker's schema). */
export interface AttributionViolation {
  label: string;
  metric_name: 'shap';
  constraint_check_type: 'feature_attribution_drift_check';
  description: string;
}

/** SageMaker's threshold: nDCG below it is a violation. */
export const ATTRIBUTION_NDCG_THRESHOLD = 0.9;

/**
 * Builds the analysis (constraints) document from global attributions per label.
 *
 * @example
 * import { attributionAnalysis } from 'millwright/reports';
 * attributionAnalysis({ prediction: { speed: 3.1, load: 0.4 } }, { prediction: 52.3 });
 */
export function attributionAnalysis(global: Record<string, Record<string, number>>, expected: Record<string, number>): AttributionAnalysis {
  const tree_shap: AttributionAnalysis['explanations']['tree_shap'] = {};
  for (const [label, values] of Object.entries(global)) tree_shap[label] = { global_shap_values: { ...values }, expected_value: expected[label] ?? Number.NaN };
  return { version: '1.0', explanations: { tree_shap } };
}

/** Features by attribution, largest first; ties by name so the order is reproducible. */
function ranked(values: Record<string, number>): string[] {
  return Object.keys(values).sort((a, b) => values[b]! - values[a]! || (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * nDCG of the live ranking against the baseline attributions (1 = same order of importance).
 * Features missing from the live analysis rank last; a baseline with no attribution at all
 * (iDCG = 0) gives 1, as nothing could have moved.
 *
 * @example
 * attributionNdcg({ a: 3, b: 2, c: 1 }, { a: 0.1, b: 5, c: 0.2 }); // 0.846...
 */
export function attributionNdcg(baseline: Record<string, number>, live: Record<string, number>): number {
  const ideal = ranked(baseline);
  const liveOrder = ranked(Object.fromEntries(ideal.map((f) => [f, live[f] ?? Number.NEGATIVE_INFINITY])));
  let dcg = 0;
  let idcg = 0;
  for (let i = 0; i < ideal.length; i++) {
    const discount = Math.log2(i + 2);
    idcg += Math.abs(baseline[ideal[i]!]!) / discount;
    dcg += Math.abs(baseline[liveOrder[i]!]!) / discount;
  }
  return idcg === 0 ? 1 : dcg / idcg;
}

/**
 * Violations of the baseline attribution constraints by a live analysis, one per label whose
 * nDCG is below `threshold` (strictly: exactly 0.9 passes, as in SageMaker's "less than").
 *
 * @example
 * checkAttributionDrift(baselineAnalysis, liveAnalysis); // [] or [{ label, metric_name: 'shap', ... }]
 */
export function checkAttributionDrift(baseline: AttributionAnalysis, live: AttributionAnalysis, threshold = ATTRIBUTION_NDCG_THRESHOLD): AttributionViolation[] {
  const out: AttributionViolation[] = [];
  for (const [label, b] of Object.entries(baseline.explanations.tree_shap)) {
    const l = live.explanations.tree_shap[label];
    const score = l === undefined ? 0 : attributionNdcg(b.global_shap_values, l.global_shap_values);
    if (score < threshold) {
      out.push({
        label,
        metric_name: 'shap',
        constraint_check_type: 'feature_attribution_drift_check',
        description: l === undefined ? `no live attributions for label ${label}` : `Feature attribution drift ${score.toFixed(4)} exceeds threshold ${threshold} (nDCG of the live ranking below it)`,
      });
    }
  }
  return out;
}

export interface AttributionDriftOptions {
  /** The baseline analysis (constraints), e.g. from the training data. */
  baseline: AttributionAnalysis;
  /** The analysis of the current (captured) data. */
  current: AttributionAnalysis;
  /** Default 0.9. */
  threshold?: number;
}

export interface AttributionDriftResult extends MetricResult {
  type: 'attribution-drift';
  threshold: number;
  labels: { label: string; ndcg: number; drifted: boolean; baselineRanking: string[]; currentRanking: string[]; /** The current global attribution (mean abs) per feature. */ current: Record<string, number> }[];
  violations: AttributionViolation[];
}

/**
 * The drift report's attribution section: per label nDCG, both rankings and the violations.
 *
 * @example
 * driftReport(capture, training, { attributions: { baseline, current } });
 */
export class AttributionDriftMetric implements Metric<AttributionDriftResult> {
  readonly type = 'attribution-drift';
  constructor(readonly options: AttributionDriftOptions) {}
  compute(_current: Frame): AttributionDriftResult {
    const { baseline, current } = this.options;
    const threshold = this.options.threshold ?? ATTRIBUTION_NDCG_THRESHOLD;
    const labels = Object.entries(baseline.explanations.tree_shap).map(([label, b]) => {
      const live = current.explanations.tree_shap[label]?.global_shap_values ?? {};
      const ndcg = current.explanations.tree_shap[label] === undefined ? 0 : attributionNdcg(b.global_shap_values, live);
      return { label, ndcg, drifted: ndcg < threshold, baselineRanking: ranked(b.global_shap_values), currentRanking: ranked(live), current: { ...live } };
    });
    return { type: 'attribution-drift', title: 'Feature attribution drift (nDCG)', threshold, labels, violations: checkAttributionDrift(baseline, current, threshold) };
  }
  checks(r: AttributionDriftResult): CheckResult[] {
    const bad = r.labels.filter((l) => l.drifted);
    return [{
      name: 'feature attribution drift',
      status: bad.length ? 'warn' : 'pass',
      reason: bad.length
        ? `${bad.map((l) => `${l.label}: nDCG ${l.ndcg.toFixed(3)} < ${r.threshold}`).join('; ')}`
        : `attribution ranking kept (nDCG >= ${r.threshold} for ${r.labels.length} label(s))`,
    }];
  }
}
