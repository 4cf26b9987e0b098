/**
 * Feature profiling: per-column baseline statistics stored in model manifests and used by the
 * drift and data-quality reports.
 */
export { profileTable, profileColumn, quantileSorted, BASELINE_QUANTILES } from './profileTable.ts';
export type { ProfileOptions } from './profileTable.ts';
export type { FeatureBaseline } from '../model/contract.ts';
