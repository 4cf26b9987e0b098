import type { EventSeverity } from '../store/index.ts';

/** ISA-18.2 alarm states (the `state` of an alarm row's message). */
export const ALARM_STATES = ['normal', 'unack-active', 'ack-active', 'cleared-unack'] as const;
/** One of {@link ALARM_STATES}. */
export type AlarmState = (typeof ALARM_STATES)[number];

/** One alarm (a rule on one asset's signal) and where it stands. */
export interface AlarmRecord {
  /** `rule/asset/signal`: what `alarms ack` and `alarms shelve` take. */
  id: string;
  rule: string;
  asset: string;
  signal: string;
  severity: EventSeverity;
  state: AlarmState;
  /** The process condition (after deadband and minimum duration), whatever the operator did. */
  active: boolean;
  /** When the alarm last became active (epoch ms). */
  activeSince?: number;
  /** When it last cleared. */
  clearedAt?: number;
  value: number;
  limit: number;
  /** Shelved until this time (readings' clock): no rows while shelved. */
  shelvedUntil?: number;
  note?: string;
  /** Time of the last state change. */
  changedAt: number;
}

/** The state an alarm moves to when its condition becomes active / clears, or the operator acknowledges. */
export function nextState(state: AlarmState, event: 'activate' | 'clear' | 'ack'): AlarmState {
  switch (event) {
    case 'activate':
      return state === 'ack-active' ? 'ack-active' : 'unack-active';
    case 'clear':
      return state === 'unack-active' ? 'cleared-unack' : state === 'ack-active' ? 'normal' : state;
    case 'ack':
      return state === 'unack-active' ? 'ack-active' : state === 'cleared-unack' ? 'normal' : state;
  }
}
