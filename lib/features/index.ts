/**
 * Feature engineering for sensor data: pure functions over typed arrays (fast paths) and
 * arquero tables in long form (ts, asset, signal, value).
 *
 * @packageDocumentation
 */
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
export { learnAlarmBands, flagReadings, operatingState } from './alarm-bands.ts';
export type { AlarmBandOptions, FlagOptions, OperatingStateOptions } from './alarm-bands.ts';
export { floatColumn, groupRows } from './columns.ts';
export type { Group } from './columns.ts';
export { hourOfWeekProfile } from './hour-of-week.ts';
export type { HourOfWeekOptions } from './hour-of-week.ts';
export { windowFeatures } from './windows.ts';
export type { WindowStat, WindowFeatureOptions } from './windows.ts';
export { failureLabels } from './labels.ts';
export type { FailureLabelOptions, FailureLabels } from './labels.ts';
