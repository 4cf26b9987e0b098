/**
 * Finished answers of the `/invocations` fast path, held until the end of the event loop's poll
 * phase and then written back to back.
 *
 * Why: a client on the same host (nginx in front of a SageMaker-layout container, a local gateway,
 * a load generator) usually sleeps in `epoll_wait` while the server computes. Each answer written
 * on its own wakes it again, and the wake-up is paid on the server's thread inside `writev`
 * (loopback delivers the segment synchronously: `tcp_v4_rcv` -> `sock_def_readable` ->
 * `try_to_wake_up`). Measured with perf on a 2-core VM under wrk (32 connections, single-row CSV):
 * ~17 µs of the server's ~100 µs CPU per request went there, against ~5 µs for a bare node:http
 * server whose client never got the time to fall asleep. Answers written together wake the client
 * once per batch; the rest of each batch finds it awake.
 *
 * What it costs: an answer waits for the other answers computed in the same turn of the event
 * loop, never longer than `maxHoldMs` after the batch's first one (then the batch is written at
 * once). At a low rate each batch is one answer, written in the check phase of the same turn.
 * It holds no closure per answer (the fast path allocates none).
 */
import type { ServerResponse } from 'node:http';

/** One held answer: what `writeHead` and `end` will be given. */
export interface HeldAnswer {
  res: ServerResponse;
  status: number;
  /** Raw `writeHead` header list: name, value, name, value... */
  headers: (string | number)[];
  body: string;
}

/**
 * @example
 * import { AnswerBatch } from './answer-batch.ts';
 * const batch = new AnswerBatch(1, (a, err) => a.res.destroy(err as Error));
 * batch.hold({ res, status: 200, headers: ['content-length', 2], body: '{}' }); // written in this turn's check phase
 */
export class AnswerBatch {
  private queue: HeldAnswer[] = [];
  private firstAt = 0;
  private readonly maxHoldMs: number;
  private readonly onWriteError: (answer: HeldAnswer, err: unknown) => void;
  private readonly flushBound = (): void => this.flush();

  /**
   * @param maxHoldMs longest an answer waits for the rest of its batch
   * @param onWriteError called when `writeHead`/`end` throws for one answer (the others are still written)
   */
  constructor(maxHoldMs: number, onWriteError: (answer: HeldAnswer, err: unknown) => void) {
    this.maxHoldMs = maxHoldMs;
    this.onWriteError = onWriteError;
  }

  /** Answers held now. */
  get size(): number {
    return this.queue.length;
  }

  /** Holds an answer; writes the whole batch now if its first answer has waited `maxHoldMs`. */
  hold(answer: HeldAnswer): void {
    if (this.queue.push(answer) === 1) {
      this.firstAt = performance.now();
      setImmediate(this.flushBound);
    } else if (performance.now() - this.firstAt >= this.maxHoldMs) {
      this.flush();
    }
  }

  /** Writes every held answer (a response closed meanwhile is skipped). */
  flush(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    for (let i = 0; i < batch.length; i++) {
      const a = batch[i]!;
      if (a.res.headersSent || a.res.destroyed) continue;
      try {
        a.res.writeHead(a.status, a.headers);
        a.res.end(a.body);
      } catch (err) {
        this.onWriteError(a, err);
      }
    }
  }
}
