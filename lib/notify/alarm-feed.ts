import type { Outbox } from './outbox.ts';
import type { AlarmEventRow } from './notification.ts';

/** What {@link AlarmFeed.push} did with one batch of event rows. */
export interface AlarmFeedResult {
  /** Rows written to at least one channel's queue. */
  queued: number;
  /** Rows every routed channel already had (same key): not written again. */
  duplicates: number;
  /** Alarm rows inside a flood window already summarised: not notified one by one. */
  suppressed: number;
  /** Rows that are not alarm state changes or flood summaries, or that no route takes (left alone). */
  skipped: number;
}

/** What an {@link AlarmFeed} remembers across restarts: the flood windows already summarised, `[from, to)` epoch ms. */
export interface AlarmFeedSnapshot {
  floods: [number, number][];
}

/** Flood windows remembered to suppress their later state changes (oldest dropped first). */
const MAX_WINDOWS = 64;

/**
 * Turns the event rows an alarm evaluator wrote into outbox notifications, one per alarm state
 * change (`kind: 'alarm'`) and one per flood summary (`kind: 'alarm-flood'`). Once a flood summary
 * was seen, the state changes that fall inside its window are not notified one by one (the
 * summary stands for them; the rows stay in the `events` table). The outbox's keys make a batch
 * pushed twice (a re-run, a retried batch) send nothing new. The gateway (`notify:` key) and
 * `millwright alarms run --notify` push every batch's rows through one of these, and save its
 * {@link AlarmFeed.snapshot} in the same atomic write as the alarm state (restored with `snapshot`
 * at start), so a state change just after a restart inside a summarised window stays suppressed.
 *
 * @example
 * import { AlarmFeed, createOutbox, loadNotifyConfig } from 'millwright';
 * const cfg = await loadNotifyConfig('notify.yaml');
 * const feed = new AlarmFeed(await createOutbox({ dir: cfg.outbox, channels: cfg.channels, routes: cfg.routes }));
 * await feed.push(rows); // rows of AlarmEvaluator.process: durable in the outbox when it resolves
 * const saved = feed.snapshot(); // kept beside the alarm state; new AlarmFeed(outbox, saved) after a restart
 */
export class AlarmFeed {
  private readonly floods: [number, number][] = [];
  readonly totals: AlarmFeedResult = { queued: 0, duplicates: 0, suppressed: 0, skipped: 0 };

  constructor(readonly outbox: Outbox, snapshot?: AlarmFeedSnapshot) {
    this.restore(snapshot);
  }

  /** Replaces the remembered flood windows by a saved {@link AlarmFeed.snapshot} (none: forgets them). */
  restore(snapshot: AlarmFeedSnapshot | undefined): void {
    this.floods.length = 0;
    for (const w of snapshot?.floods ?? []) {
      if (Array.isArray(w) && w.length === 2 && Number.isFinite(w[0]) && Number.isFinite(w[1])) this.floods.push([Number(w[0]), Number(w[1])]);
    }
    if (this.floods.length > MAX_WINDOWS) this.floods.splice(0, this.floods.length - MAX_WINDOWS);
  }

  /** The flood windows remembered (a copy), to save beside the alarm state after each batch. */
  snapshot(): AlarmFeedSnapshot {
    return { floods: this.floods.map(([a, b]) => [a, b]) };
  }

  private inFlood(ts: number): boolean {
    for (const [from, to] of this.floods) if (ts >= from && ts < to) return true;
    return false;
  }

  /** Enqueues the notifications of `rows` in their order; resolves once they are on disk. */
  async push(rows: readonly AlarmEventRow[]): Promise<AlarmFeedResult> {
    const r: AlarmFeedResult = { queued: 0, duplicates: 0, suppressed: 0, skipped: 0 };
    for (const row of rows) {
      if (row.kind === 'alarm-flood') {
        const from = Number(row.from ?? row.ts);
        const to = Number(row.to ?? from);
        if (!this.floods.some(([a, b]) => a === from && b === to)) this.floods.push([from, to]);
        if (this.floods.length > MAX_WINDOWS) this.floods.shift();
      } else if (row.kind !== 'alarm') {
        r.skipped++;
        continue;
      } else if (this.inFlood(Number(row.ts))) {
        r.suppressed++;
        continue;
      }
      const e = await this.outbox.enqueue(row);
      if (e.channels.length > 0) r.queued++;
      else if (e.duplicates.length > 0) r.duplicates++;
      else r.skipped++; // no route takes it
    }
    for (const k of Object.keys(r) as (keyof AlarmFeedResult)[]) this.totals[k] += r[k];
    return r;
  }
}
