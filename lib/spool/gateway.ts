import { setTimeout as sleep } from 'node:timers/promises';
import { flushSpool, type FlushResult } from './flush.ts';
import { spoolStatus } from './spool.ts';

/** Options of {@link runGateway}. */
export interface GatewayOptions {
  spool: string;
  store: string;
  /** Time between flushes when all is well, ms (default 10,000). */
  every?: number;
  /** Longest wait between retries after failures, ms (default 300,000: 5 minutes). */
  maxBackoff?: number;
  /** Readings per store write (default 1,000,000). */
  maxRows?: number;
  /** Stops the loop (after the flush in progress, if any). */
  signal?: AbortSignal;
  /** One line per event (default: none). */
  log?: (line: string) => void;
  /** Called after each successful flush. */
  onFlush?: (result: FlushResult) => void;
}

/**
 * The gateway loop: flushes the spool into the store every `every` ms. When the store cannot be
 * written (unreachable mount, permissions, a file where the directory should be) it logs, keeps
 * every reading in the spool and retries with exponential backoff (`every` doubling up to
 * `maxBackoff`); the first successful flush resets the pace. Restarting it resumes from whatever
 * the spool holds. Resolves when `signal` aborts.
 *
 * @example
 * const stop = new AbortController();
 * process.on('SIGTERM', () => stop.abort());
 * await runGateway({ spool: '/var/spool/mw', store: '/mnt/lake/store', every: 10_000, signal: stop.signal, log: console.error });
 */
export async function runGateway(opts: GatewayOptions): Promise<void> {
  const every = opts.every ?? 10_000;
  const maxBackoff = Math.max(every, opts.maxBackoff ?? 300_000);
  const log = opts.log ?? (() => {});
  let failures = 0;
  while (!opts.signal?.aborted) {
    let wait = every;
    try {
      const r = await flushSpool({ spool: opts.spool, store: opts.store, maxRows: opts.maxRows, log });
      if (failures > 0) log(`store ${opts.store} writable again after ${failures} failed attempt(s)`);
      failures = 0;
      if (r.segments > 0) log(`flushed ${r.rows} readings from ${r.segments} segment(s) into ${r.files} file(s)`);
      opts.onFlush?.(r);
    } catch (err) {
      failures++;
      wait = Math.min(maxBackoff, every * 2 ** Math.min(failures, 30));
      const st = await spoolStatus(opts.spool).catch(() => undefined);
      const kept = st ? `; ${st.rows} readings in ${st.segments} segment(s) kept in the spool` : '';
      log(`flush failed (attempt ${failures}): ${(err as Error).message}${kept}; retrying in ${(wait / 1000).toFixed(1)} s`);
    }
    try {
      await sleep(wait, undefined, { signal: opts.signal });
    } catch {
      break; // aborted
    }
  }
}
