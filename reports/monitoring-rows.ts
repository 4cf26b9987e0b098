/**
 * The rows one monitoring run leaves in the store's `monitoring` table (lib/store
 * `writeMonitoring`) and on the server's /metrics: per-feature drift, constraint and attribution
 * violations, the attribution ranking, estimated performance per chunk and, with ground truth,
 * the realised model quality, read off the reports' JSON.
 */
import type { MonitoringRow } from '../lib/store/write-monitoring.ts';
import type { ReportResult } from './engine.ts';
import type { DataDriftResult } from './metrics/drift.ts';
import type { AttributionDriftResult } from './metrics/attribution-drift.ts';
import type { ConstraintViolationsResult } from './metrics/constraints.ts';
import type { ModelQualityResult } from './metrics/model-quality.ts';
import type { PerformanceEstimationResult } from './metrics/performance-estimation.ts';

/** Who and when: shared by every row of one run. */
export interface MonitoringRunInfo {
  ts: number;
  model: string;
  modelVersion?: string;
  run: string;
}

/**
 * Monitoring rows from a run's reports (any of quality, drift, model, performance); see
 * `MonitoringRow` for what each kind holds. Reports without those sections add no rows.
 *
 * @example
 * import { monitoringRows } from 'millwright/reports';
 * import { writeMonitoring } from 'millwright';
 * await writeMonitoring(storeRoot, monitoringRows([drift, quality], { ts: Date.now(), model: 'press', run: 'r1' }));
 */
export function monitoringRows(reports: ReportResult[], info: MonitoringRunInfo): MonitoringRow[] {
  const rows: MonitoringRow[] = [];
  const base = { ts: info.ts, model: info.model, run: info.run, ...(info.modelVersion !== undefined ? { modelVersion: info.modelVersion } : {}) };
  for (const report of reports) {
    for (const m of report.metrics) {
      if (m.type === 'data-drift') {
        for (const c of (m as DataDriftResult).columns) {
          rows.push({ ...base, kind: 'drift', feature: c.column, metric: c.test, value: c.value, threshold: c.threshold, alert: c.drifted, ...(c.value === null ? { detail: 'infinite' } : {}) });
        }
      } else if (m.type === 'constraint-violations') {
        for (const v of (m as ConstraintViolationsResult).violations) {
          rows.push({ ...base, kind: 'violation', feature: v.feature_name, metric: v.constraint_check_type, value: 1, alert: true, detail: v.description });
        }
      } else if (m.type === 'attribution-drift') {
        const a = m as AttributionDriftResult;
        for (const l of a.labels) {
          rows.push({ ...base, kind: 'attribution', metric: `ndcg:${l.label}`, value: l.ndcg, threshold: a.threshold, alert: l.drifted });
          l.currentRanking.forEach((feature, i) => rows.push({ ...base, kind: 'attribution', feature, metric: `rank:${l.label}`, value: l.current?.[feature] ?? null, rank: i + 1, alert: l.drifted }));
        }
        for (const v of a.violations) rows.push({ ...base, kind: 'violation', feature: v.label, metric: v.constraint_check_type, value: 1, alert: true, detail: v.description });
      } else if (m.type === 'performance-estimation') {
        const e = m as PerformanceEstimationResult;
        for (const c of e.chunks) {
          if (c.period !== 'analysis') continue;
          rows.push({
            ...base, kind: 'estimated_performance', metric: e.metric, value: c.estimate, alert: c.alert, from: c.start, to: c.end,
            ...(c.lower !== null ? { lower: c.lower } : {}), ...(c.upper !== null ? { upper: c.upper } : {}),
            detail: `${e.method}, ${c.rows} rows${c.realised !== null ? `, realised ${c.realised}` : ''}; reference band ${e.thresholds.lower}..${e.thresholds.upper}`,
          });
        }
      } else if (m.type === 'model-quality') {
        const q = m as ModelQualityResult;
        for (const [metric, value] of Object.entries(q.metrics)) {
          if (typeof value !== 'number' && value !== null) continue;
          const cmp = q.comparison.find((c) => c.metric === metric);
          rows.push({ ...base, kind: 'model_quality', metric, value, alert: cmp?.status === 'warn' || cmp?.status === 'fail', ...(cmp && cmp.training !== null ? { threshold: cmp.training, detail: `training ${cmp.training}` } : {}) });
        }
      }
    }
  }
  return rows;
}
