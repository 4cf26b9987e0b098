/**
 * Feature engineering for sensor data: pure functions over typed arrays (fast paths) and
 * arquero tables in long form (ts, asset, signal, value).
 */
// The one duration parser lives in lib/units; re-exported here so 'millwright' keeps offering it.
export { parseDuration, type DurationOptions } from '../units/index.ts';
export { timeDomainFeatures, vibrationWindows, TIME_DOMAIN_FEATURES } from './vibration.ts';
export type { TimeDomainFeatures, TimeDomainOptions, VibrationWindowOptions } from './vibration.ts';
export { welchPsd, spectrumFeatures, featuresOfPsd } from './spectrum.ts';
export type { Psd, SpectrumOptions, SpectrumFeatureOptions, SpectrumFeatures } from './spectrum.ts';
export { rolling, rollingFeatures, ROLLING_STATS } from './rolling.ts';
export type { RollingStat, RollingOptions, RollingColumns, RollingFeatureOptions } from './rolling.ts';
export { lagFeatures } from './lags.ts';
export type { LagOptions } from './lags.ts';
export { segmentRuns, findRuns, runFeatures, labelRuns } from './runs.ts';
export type { Segment, SegmentOptions, FindRunsOptions, RunFeatureOptions } from './runs.ts';
export { dailySummary, dailyRunSummary } from './daily.ts';
export type { DailyOptions } from './daily.ts';
export { learnBaseline, flagReadings, operatingState } from './baseline.ts';
// The one quantile lives in lib/stats; re-exported here so 'millwright' keeps offering it.
export { quantileSorted } from '../stats/index.ts';
export type { BaselineOptions, FlagOptions, OperatingStateOptions } from './baseline.ts';
export { floatColumn, groupRows } from './columns.ts';
export type { Group } from './columns.ts';
export { hourOfWeekProfile } from './profile.ts';
export type { HourOfWeekOptions } from './profile.ts';
export { windowFeatures } from './windows.ts';
export type { WindowStat, WindowFeatureOptions } from './windows.ts';
