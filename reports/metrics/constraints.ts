import type { Frame } from '../data.ts';
import type { CheckResult, Metric, MetricResult } from '../engine.ts';
import { checkConstraints, type BaselineConstraints, type BaselineStatistics, type Violation } from '../monitor-baseline.ts';

export interface ConstraintViolationsResult extends MetricResult {
  type: 'constraint-violations';
  /** constraint_violations.json's `violations`. */
  violations: Violation[];
  checkedFeatures: number;
}

/**
 * Violations of baseline constraints (statistics.json + constraints.json, SageMaker layout).
 * Missing columns, type and completeness violations fail the report; drift, domain and
 * extra-column violations warn.
 *
 * @example
 * new ConstraintViolationsMetric(computeBaseline(trainingTable))
 */
export class ConstraintViolationsMetric implements Metric<ConstraintViolationsResult> {
  readonly type = 'constraint-violations';
  constructor(readonly baseline: { statistics: BaselineStatistics; constraints: BaselineConstraints }) {}
  compute(current: Frame): ConstraintViolationsResult {
    return {
      type: 'constraint-violations',
      title: 'Baseline constraint violations',
      violations: checkConstraints(current, this.baseline),
      checkedFeatures: this.baseline.constraints.features.length,
    };
  }
  checks(r: ConstraintViolationsResult): CheckResult[] {
    const failing = new Set(['missing_column_check', 'data_type_check', 'completeness_check']);
    const fails = r.violations.filter((v) => failing.has(v.constraint_check_type));
    const warns = r.violations.filter((v) => !failing.has(v.constraint_check_type));
    const describe = (vs: Violation[]) => vs.slice(0, 6).map((v) => `${v.feature_name}: ${v.constraint_check_type}`).join('; ') + (vs.length > 6 ? `; and ${vs.length - 6} more` : '');
    return [{
      name: 'baseline constraints',
      status: fails.length ? 'fail' : warns.length ? 'warn' : 'pass',
      reason: r.violations.length ? `${r.violations.length} violation(s): ${describe([...fails, ...warns])}` : `all ${r.checkedFeatures} baseline features meet their constraints`,
    }];
  }
}
