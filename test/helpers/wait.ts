import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `cond` every `everyMs` until it holds; after `ms` it throws naming `what`. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 20): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
