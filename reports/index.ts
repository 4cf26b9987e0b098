/**
 * Reports that watch a model: data quality, drift, model quality and hourly energy deviation.
 * Metric → result → report → renderer, in the manner of Evidently: each metric is a settings
 * object with a pure `compute(current, reference)` returning JSON; a report is metrics plus
 * checks; renderers write self-contained HTML (inline SVG, no scripts) and CSV.
 *
 * @example
 * import { driftReport, writeReport } from 'millwright/reports';
 * const report = driftReport(currentTable, trainingTable, { state: 'Load_Type' });
 * await writeReport(report, 'out/drift'); // report.html, report.json, report.csv
 *
 * @module millwright/reports
 */
export { toFrame, filterFrame, type Frame, type Column, type NumericColumn, type CategoricalColumn, type TableInput } from './data.ts';
export { runReport, worst, type Metric, type MetricResult, type CheckResult, type CheckStatus, type ReportResult, type ReportKind, type RunReportOptions } from './engine.ts';
export {
  computeStatistics, suggestConstraints, computeBaseline, checkConstraints, parseBaselineFiles,
  type BaselineStatistics, type BaselineConstraints, type MonitorBaselineOptions, type FeatureStatistics, type FeatureConstraint, type Violation, type ViolationType, type InferredType,
} from './monitor-baseline.ts';
export { ColumnSummaryMetric, summarize, type ColumnSummaryResult, type ColumnSummary, type ColumnSummaryOptions } from './metrics/summary.ts';
export { ConstraintViolationsMetric, type ConstraintViolationsResult } from './metrics/constraints.ts';
export { SensorFaultsMetric, type SensorFaultsOptions, type SensorFaultsResult, type FaultEvent, type FaultKind } from './metrics/sensor-faults.ts';
export {
  DataDriftMetric, chooseTest, proportionsZTest, runningState, DEFAULT_THRESHOLDS,
  type DataDriftOptions, type DataDriftResult, type ColumnDrift, type DriftStats, type DriftTest, type StateSpec,
} from './metrics/drift.ts';
export {
  AttributionDriftMetric, attributionAnalysis, attributionNdcg, checkAttributionDrift, ATTRIBUTION_NDCG_THRESHOLD,
  type AttributionAnalysis, type AttributionViolation, type AttributionDriftOptions, type AttributionDriftResult,
} from './metrics/attribution-drift.ts';
export {
  sensorDrift, effectiveSampleSize, integratedEffectiveSize, lag1Autocorrelation,
  type SensorDriftOptions, type SensorDriftResult, type ChunkDrift, type ChunkSpec,
} from './metrics/sensor-drift.ts';
export { kstwoSf } from './stats/kstwo.ts';
export { fillEmptyShares } from './stats/distances.ts';
export { MultivariateDriftMetric, type MultivariateDriftOptions, type MultivariateDriftResult } from './metrics/multivariate.ts';
export { rocAuc } from './metrics/quality-statistics.ts';
export { PerformanceEstimationMetric, isotonicCalibration, type PerformanceEstimationOptions, type PerformanceEstimationResult, type EstimatedChunk, type EstimatedMetric } from './metrics/performance-estimation.ts';
export { regressionStatistics, binaryClassificationStatistics, type RegressionStatistics, type BinaryClassificationStatistics, type QualityValue } from './metrics/quality-statistics.ts';
export { mergeGroundTruth, type MergeGroundTruthOptions, type MergeGroundTruthResult } from './ground-truth.ts';
export { ModelQualityMetric, joinGroundTruth, regressionMetrics, classificationMetrics, type ModelQualityOptions, type ModelQualityResult, type JoinOptions } from './metrics/model-quality.ts';
export { EnergyDeviationMetric, type EnergyDeviationOptions, type EnergyDeviationResult, type EnergyHour } from './metrics/energy.ts';
export { EnergyPerformanceMetric, type EnergyPerformanceOptions, type EnergyPerformanceResult, type EnergyPerformancePeriod, type StaticFactorAdjustment } from './metrics/energy-performance.ts';
export type { RollUpRow } from './energy-performance/roll-up.ts';
export { AlarmScoresMetric, scoreRule, type AlarmScoreOptions, type AlarmScoresResult, type AlarmInterval, type FailureMark, type RuleScore, type GroupRuleScore, type AssetTimeline } from './metrics/alarm-scores.ts';
export { assetGroups, groupOf, readAssetPlaces, ASSET_LEVELS, UNASSIGNED_GROUP, type AssetLevel, type AssetPlace, type AssetGroups } from './asset-groups.ts';
export { readAlarmIntervals, readFailures, readAlarmedReadings } from './alarm-store.ts';
export type { Granularity } from './energy-performance/periods.ts';
export type { Shift } from './energy-performance/baseline-model.ts';
export { savingsUncertainty, type SavingsUncertainty, type UncertaintyInputs } from './energy-performance/savings.ts';
export { studentTCdf, studentTCritical } from './stats/student-t.ts';
export { ks2samp, ksStatistic, type KsResult, type KsMethod } from './stats/ks.ts';
export { wasserstein, jensenShannon, chiSquare, psi, type ChiSquareResult } from './stats/distances.ts';
export { chi2Sf, kolmogorovSf } from './stats/special.ts';
export { sortedFinite } from './stats/sort.ts';
export { qualityReport, driftReport, driftReportFromFeatureSummary, modelReport, performanceReport, energyReport, energyPerformanceReport, alarmsReport, alarmsReportFromStore, writeReport, type QualityReportOptions, type DriftReportOptions, type WrittenReport } from './presets.ts';
export { renderHtml } from './render/html.ts';
export { renderCsv } from './render/csv.ts';
export { readCapture, type CaptureReadOptions, type CaptureReadResult } from './capture.ts';
export { captureKeyValues, type KeyValue } from './capture-keys.ts';
export { readV2Capture, readV2Exchange, isV2Request, type V2CaptureRows } from './capture-v2.ts';
export { loadSource, readBaselineDir } from './load.ts';
export { addPredictions } from './predict.ts';
export { generateReports, defaultAttributionRows, ATTRIBUTION_SAMPLE_ROWS, ATTRIBUTION_MIN_ROWS, ATTRIBUTION_STEP_BUDGET, type GenerateReportsOptions, type GenerateReportsResult, type GeneratedReport } from './generate.ts';
export { renderBoard, type BoardRow } from './board.ts';
export { monitoringRows, type MonitoringRunInfo } from './monitoring-rows.ts';
