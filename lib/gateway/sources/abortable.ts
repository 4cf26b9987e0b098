/**
 * Waiting the way a polled or reconnecting source must: every wait ends early when the gateway
 * stops, so `stop()` never hangs behind a backoff or a stuck request.
 */
import { MillwrightError } from '../../errors/index.ts';

/** Resolves after `ms`, or early when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** `promise`, or undefined as soon as `signal` aborts (the listener is removed either way). */
export async function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return undefined;
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** The error `SourceContext.emit` rejects with when the spool or the disk is full. */
export function isSpoolFull(err: unknown): boolean {
  return err instanceof MillwrightError && err.code === 'RESOURCE_EXHAUSTED';
}
