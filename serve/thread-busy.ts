/**
 * How long a call keeps the calling thread busy, as opposed to how long it takes. An inline
 * answer (serve/inline-model.ts) holds the HTTP thread only while it computes there: while it
 * awaits work done elsewhere (sharp's decode on the libuv threadpool, a timer) the thread parses
 * and answers other requests and fires their deadline timers. The event loop's utilisation
 * (`performance.eventLoopUtilization`) counts exactly that: time outside the wait for events.
 * onnxruntime-node's `session.run` is not such a wait: it computes synchronously on the calling
 * thread (inside a `setImmediate`), so all of it counts.
 */
import { performance } from 'node:perf_hooks';

/**
 * Milliseconds the event loop of this thread was active while `fn` ran and settled (anything else
 * this thread ran meanwhile counts too: take the smallest of several calls).
 *
 * @example
 * const ms = await threadBusyMs(() => model.predictTensors!(inputs)); // onnxruntime's run: all of it
 * const idle = await threadBusyMs(() => new Promise((r) => setTimeout(r, 5))); // ~0: waiting is not busy
 */
export async function threadBusyMs(fn: () => Promise<unknown>): Promise<number> {
  // Before this thread's event loop has first run there is no utilisation to read (it stays 0 even
  // across a synchronous spin): wall time then, which over-counts and so never lets a slow model in.
  if (performance.nodeTiming.loopStart < 0) {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  }
  const start = performance.eventLoopUtilization();
  await fn();
  return performance.eventLoopUtilization(start).active;
}
