/**
 * The bookkeeping behind every polled or subscribed source's `status()`: its state and when that
 * last changed, the readings acknowledged, the newest reading's time and the last error. One
 * class, so the sources cannot drift apart in what `/status` and `gateway status` show.
 */
import type { SourceState, SourceStatus } from './source.ts';

/**
 * @example
 * import { SourceStatusTracker } from 'millwright';
 * const st = new SourceStatusTracker('starting');
 * st.set('connected');
 * st.counted(10, Date.now());
 * st.snapshot({ name: 'pump', type: 'modbus' }).readings; // 10
 */
export class SourceStatusTracker {
  state: SourceState;
  /** Epoch ms of the last state change. */
  since = Date.now();
  readings = 0;
  lastValueTs: number | undefined;
  lastError: string | undefined;

  constructor(initial: SourceState = 'stopped') {
    this.state = initial;
  }

  /** Moves to `state`; `since` changes only when the state does. */
  set(state: SourceState): void {
    if (state === this.state) return;
    this.state = state;
    this.since = Date.now();
  }

  /** `n` more readings acknowledged, the newest stamped `newestTs` (lastValueTs never goes back). */
  counted(n: number, newestTs: number | undefined): void {
    this.readings += n;
    if (newestTs !== undefined && (this.lastValueTs === undefined || newestTs > this.lastValueTs)) this.lastValueTs = newestTs;
  }

  snapshot(source: { name: string; type: string }): SourceStatus {
    return { name: source.name, type: source.type, state: this.state, since: this.since, readings: this.readings, lastValueTs: this.lastValueTs, lastError: this.lastError };
  }
}
