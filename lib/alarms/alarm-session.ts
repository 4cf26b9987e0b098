import { MillwrightError } from '../errors/index.ts';
import type { EventRow } from '../store/index.ts';
import { AlarmEvaluator, type CodedReadingColumns, type ReadingColumns, type SeriesRuns } from './evaluator.ts';
import type { AlarmRules } from './load-rules.ts';
import { AlarmStateDir, type AttachedState } from './state-dir.ts';

/**
 * An evaluator bound to a state directory: restores the snapshot, applies queued operator
 * actions before each batch, and saves the snapshot after the caller has made the batch's rows
 * durable ({@link AlarmSession.commit}). The gateway and `alarms run` both use it.
 *
 * @example
 * import { AlarmSession, loadAlarmRules } from 'millwright';
 * const s = await AlarmSession.open(await loadAlarmRules('rules.yaml'), { site: 'plant-a', stateDir: '.millwright/alarms' });
 * const rows = await s.process(batch); // write rows, then:
 * await s.commit();
 */
export class AlarmSession {
  private applied: string[] = [];
  /**
   * @param saved what was saved beside the snapshot by the last {@link AlarmSession.commit}
   * (empty on a first start): the caller restores its own state from it.
   */
  private constructor(readonly evaluator: AlarmEvaluator, readonly state: AlarmStateDir | undefined, private saved: AttachedState) {}

  /** The state attached to the snapshot: as loaded at open, then as last committed. */
  get attached(): AttachedState {
    return this.saved;
  }

  static async open(rules: AlarmRules, opts: { site: string; stateDir?: string }): Promise<AlarmSession> {
    const state = opts.stateDir ? new AlarmStateDir(opts.stateDir) : undefined;
    const saved = await state?.loadAll();
    return new AlarmSession(new AlarmEvaluator(rules, { site: opts.site, snapshot: saved?.snapshot }), state, saved?.attached ?? {});
  }

  /** Rows of queued operator actions (ack, shelve), applied now. Unknown alarm ids are skipped with a note. */
  async actions(log?: (line: string) => void): Promise<EventRow[]> {
    if (!this.state) return [];
    const rows: EventRow[] = [];
    for (const { file, action } of await this.state.pending()) {
      try {
        if (action.action === 'ack') rows.push(...this.evaluator.ack(action.id, action.at, action.note));
        else {
          const base = Math.max(this.evaluator.clock, action.at);
          rows.push(...this.evaluator.shelve(action.id, base, base + (action.forMs ?? 0), action.note));
        }
      } catch (err) {
        if (!(err instanceof MillwrightError)) throw err;
        log?.(`alarm action ${action.action} ${action.id} skipped: ${err.message}`);
      }
      this.applied.push(file);
    }
    return rows;
  }

  /** Operator actions first, then the readings: the rows to write. */
  async process(batch: ReadingColumns | CodedReadingColumns, log?: (line: string) => void): Promise<EventRow[]> {
    const rows = await this.actions(log);
    rows.push(...this.evaluator.process(batch));
    return rows;
  }

  /** Operator actions first, then readings as series runs ({@link AlarmEvaluator.processSeries}): the rows to write. */
  async processSeries(runs: SeriesRuns, log?: (line: string) => void): Promise<EventRow[]> {
    const rows = await this.actions(log);
    rows.push(...this.evaluator.processSeries(runs));
    return rows;
  }

  /**
   * Saves the snapshot (with `attached`, in the same atomic write; without it, what was attached
   * before is kept) and deletes the applied action files; call once the rows are durable (and
   * their notifications queued).
   */
  async commit(attached?: AttachedState): Promise<void> {
    if (!this.state) return;
    if (attached) this.saved = attached;
    await this.state.save(this.evaluator.snapshot(), this.saved);
    await this.state.done(this.applied);
    this.applied = [];
  }
}
