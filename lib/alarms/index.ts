/**
 * Alarms on readings: rule files (fixed limits, trained threshold bands per operating state, rate
 * of change, stuck sensor, no data, model output, ISO 20816-3 vibration severity), one incremental
 * evaluator with the ISA-18.2 state model, acknowledge and shelve, flood protection, run in the
 * gateway on arriving batches and over a store range (docs/alarms.md).
 *
 * @packageDocumentation
 */
export { ruleSchema, ruleFileSchema, RULE_KINDS, type RuleSpec, type RuleFileSpec } from './rule-schema.ts';
export { loadAlarmRules, parseAlarmRules, type AlarmRules, type CompiledRule, type RuleLoadOptions } from './load-rules.ts';
export { ALARM_STATES, nextState, type AlarmState, type AlarmRecord } from './alarm-state.ts';
export { AlarmEvaluator, type ReadingColumns, type CodedReadingColumns, type SeriesRuns, type EvaluatorSnapshot, type EvaluatorCounts } from './evaluator.ts';
export { AlarmStateDir, type AttachedState, type OperatorAction } from './state-dir.ts';
export { AlarmSession } from './alarm-session.ts';
export { runAlarms, type RunAlarmsOptions, type RunAlarmsResult } from './run-store.ts';
export { ISO_20816_3_ZONES, VIBRATION_ZONES, machineGroupKey, zoneBoundaries, vibrationZone, type VibrationZone } from './iso-20816.ts';
export { velocityRms } from './velocity-rms.ts';
