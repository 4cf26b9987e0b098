import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { open, readFile, link, unlink, stat, mkdir, rename } from 'node:fs/promises';
import { MillwrightError } from '../errors/index.ts';

/** Unique suffix for temp names: pid + random, so concurrent writers never collide. */
export function uniqueSuffix(): string {
  return `${process.pid}-${randomBytes(6).toString('hex')}`;
}

export interface LockOptions {
  /** Give up after this long waiting for the lock. Default 30 000 ms. */
  timeoutMs?: number;
  /** A lock older than this is considered abandoned even if its owner looks alive. Default 60 000 ms. */
  staleMs?: number;
}

interface LockInfo {
  pid: number;
  host: string;
  nonce: string;
  createdAt: string;
}

/**
 * Runs `fn` holding an exclusive lock file (`O_CREAT|O_EXCL`). A lock whose owner process is
 * gone (same host) or that is older than `staleMs` is broken: it is first renamed aside
 * (atomic, so only one waiter wins) and restored if it turns out to be a fresh lock taken in
 * the meantime.
 *
 * @example
 * const next = await withLock('/registry/.lock', async () => allocateVersion());
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const staleMs = opts.staleMs ?? 60_000;
  const info: LockInfo = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString('hex'), createdAt: new Date().toISOString() };
  const started = Date.now();
  let delay = 5;
  await mkdir(dirname(lockPath), { recursive: true });
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      try {
        await fh.writeFile(JSON.stringify(info));
        await fh.sync();
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    await breakIfStale(lockPath, staleMs);
    if (Date.now() - started > timeoutMs) {
      throw new MillwrightError('UNAVAILABLE', `could not acquire lock ${lockPath} within ${timeoutMs} ms (held by another process; remove it if no millwright process is running)`);
    }
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn();
  } finally {
    // Only remove our own lock (a stale-breaker may have replaced it if we were very slow).
    try {
      const current = JSON.parse(await readFile(lockPath, 'utf8')) as LockInfo;
      if (current.nonce === info.nonce) await unlink(lockPath);
    } catch {
      // already gone
    }
  }
}

async function breakIfStale(lockPath: string, staleMs: number): Promise<void> {
  let text: string;
  let mtime: number;
  try {
    text = await readFile(lockPath, 'utf8');
    mtime = (await stat(lockPath)).mtimeMs;
  } catch {
    return; // released meanwhile
  }
  let holder: LockInfo | undefined;
  try {
    holder = JSON.parse(text) as LockInfo;
  } catch {
    // A lock file is written right after creation; an unparsable one is either being written
    // (young) or left by a crash mid-write (old).
  }
  const age = Date.now() - mtime;
  const ownerGone = holder !== undefined && holder.host === hostname() && !processAlive(holder.pid);
  const abandoned = age > staleMs || (holder === undefined && age > 2_000);
  if (!ownerGone && !abandoned) return;
  const aside = `${lockPath}.stale-${uniqueSuffix()}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  if (moved !== text) {
    // We moved a lock that was re-taken after we judged it stale: put it back if the slot is free.
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
