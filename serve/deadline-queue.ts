/**
 * Per-request deadlines on one shared timer. A `setTimeout` per request (plus the `close` listener
 * that clears it) was a measurable part of a single-row request's cost on the HTTP thread: the
 * timer list insert and removal, the Timeout object and two closures, for a timer that almost
 * never fires. Here a request is linked into a list (its notes object carries the links, nothing
 * is allocated) and unlinked when it is answered; one timer, armed for the earliest deadline,
 * walks the (short: only requests in flight) list when it fires and expires what is due.
 */

/** What the queue needs on an entry: its deadline (epoch ms) and room for the links. */
export interface DeadlineEntry {
  deadlineAt?: number;
  /** Links of the queue (set and cleared by it). */
  dlPrev?: DeadlineEntry;
  dlNext?: DeadlineEntry;
  dlQueued?: boolean;
}

/**
 * Entries in flight with a deadline; `onExpire` is called once for each entry still queued when
 * its deadline passes (and it is removed first). The timer is unref'd: an open request keeps the
 * process alive through its socket, not through its deadline.
 *
 * @example
 * const q = new DeadlineQueue<{ deadlineAt?: number; id: string }>((e) => console.log('late', e.id));
 * const e = { deadlineAt: Date.now() + 5000, id: 'a' };
 * q.add(e);
 * q.remove(e); // answered in time
 */
export class DeadlineQueue<T extends DeadlineEntry> {
  private head: T | undefined;
  private tail: T | undefined;
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;
  private readonly onExpire: (entry: T) => void;
  /** How long after a deadline the timer fires (so the entry is surely due by then). */
  private readonly slackMs: number;

  constructor(onExpire: (entry: T) => void, slackMs = 5) {
    this.onExpire = onExpire;
    this.slackMs = slackMs;
  }

  /** Queues `e` until `e.deadlineAt` (epoch ms). */
  add(e: T): void {
    if (e.dlQueued) return;
    e.dlQueued = true;
    e.dlPrev = this.tail;
    e.dlNext = undefined;
    if (this.tail) this.tail.dlNext = e;
    else this.head = e;
    this.tail = e;
    const at = e.deadlineAt ?? Infinity;
    if (at < this.armedFor) this.arm(at);
  }

  /** Unqueues `e` (answered, or gone); a no-op when it is not queued. */
  remove(e: T): void {
    if (!e.dlQueued) return;
    e.dlQueued = false;
    const prev = e.dlPrev as T | undefined;
    const next = e.dlNext as T | undefined;
    if (prev) prev.dlNext = next;
    else this.head = next;
    if (next) next.dlPrev = prev;
    else this.tail = prev;
    e.dlPrev = undefined;
    e.dlNext = undefined;
  }

  /** Entries queued now (walks the list; for tests and diagnostics). */
  get size(): number {
    let n = 0;
    for (let e = this.head; e; e = e.dlNext as T | undefined) n++;
    return n;
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(this.fire, Math.max(0, at - Date.now()) + this.slackMs);
    this.timer.unref();
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = Date.now();
    let next = Infinity;
    let due: T[] | undefined;
    for (let e = this.head; e; e = e.dlNext as T | undefined) {
      const at = e.deadlineAt ?? Infinity;
      if (at <= now) (due ??= []).push(e);
      else if (at < next) next = at;
    }
    if (next < Infinity) this.arm(next);
    // unlinked before any callback runs: a callback may add or remove entries freely
    if (due) for (const e of due) this.remove(e);
    if (due) for (const e of due) this.onExpire(e);
  };
}
