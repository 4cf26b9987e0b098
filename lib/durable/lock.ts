import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { open, readFile, link, unlink, stat, mkdir, rename } from 'node:fs/promises';
import { MillwrightError } from '../errors/index.ts';
import { uniqueId } from './atomic-file.ts';

/** How {@link acquireLock} and {@link withLock} treat a lock that is already held. */
export interface LockOptions {
  /**
   * Wait for a held lock (true, the default) and reject with UNAVAILABLE after `timeoutMs`, or
   * reject with CONFLICT at once (false) when a live owner holds it.
   */
  wait?: boolean;
  /** Give up after this long waiting for the lock (only with `wait`). Default 30 000 ms. */
  timeoutMs?: number;
  /**
   * A lock older than this is considered abandoned even if its owner looks alive. Default
   * 60 000 ms; `false` breaks only a lock whose owner is gone.
   */
  staleMs?: number | false;
  /**
   * Treat a lock holding this process's own pid as stale. For state that outlives a container:
   * after a restart the new process often gets the dead one's pid back, so "alive" would lie.
   * This also means two takers in one process do not exclude each other. Default false.
   */
  ownPidIsStale?: boolean;
  /**
   * The lock's directory is used from one machine only, so the recorded pid is checked even if
   * the recorded host name differs (a recreated container gets a new host name). By default a
   * lock from another host is never judged by its pid, only by its age. Default false.
   */
  singleHost?: boolean;
}

/** What the lock file holds. Older spool locks hold only the pid as text; those read as `{ pid }`. */
interface LockInfo {
  pid: number;
  host?: string;
  nonce?: string;
  createdAt?: string;
}

/** The holder of a lock another taker ran into, in `details` of the CONFLICT/UNAVAILABLE error. */
export interface LockHolder {
  pid?: number;
  host?: string;
}

// A lock file is written right after it is created; one that cannot be read as a lock for this
// long was left by a process killed mid-write.
const HALF_WRITTEN_MS = 2_000;

/**
 * Whether a process with this pid exists on this host (EPERM: it exists, owned by someone else).
 *
 * @example
 * if (!processAlive(pid)) await unlink(tempFileOf(pid));
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes an exclusive lock file (`O_CREAT|O_EXCL`) and resolves to its release function. A lock
 * whose owner process is gone, or that is older than `staleMs`, is broken: it is first renamed
 * aside (atomic, so only one taker wins) and restored if it turns out to be a fresh lock taken
 * in the meantime. Release removes the lock only if it is still this taker's.
 *
 * Rejects with UNAVAILABLE when waiting timed out, with CONFLICT at once when `wait: false` and
 * a live owner holds the lock; the error's `details.holder` names the holder.
 *
 * @example
 * const release = await acquireLock('/spool/.flush.lock', { wait: false, staleMs: false, ownPidIsStale: true, singleHost: true });
 * try { await flush(); } finally { await release(); }
 */
export async function acquireLock(lockPath: string, opts: LockOptions = {}): Promise<() => Promise<void>> {
  const wait = opts.wait ?? true;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const info: LockInfo = { pid: process.pid, host: hostname(), nonce: randomBytes(8).toString('hex'), createdAt: new Date().toISOString() };
  const text = JSON.stringify(info);
  const started = Date.now();
  let delay = 5;
  await mkdir(dirname(lockPath), { recursive: true });
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const verdict = await breakIfStale(lockPath, opts);
    if (verdict.state === 'held' && !wait) {
      const who = verdict.holder.pid === undefined ? 'another process' : `pid ${verdict.holder.pid}`;
      throw new MillwrightError('CONFLICT', `lock ${lockPath} is held by ${who}`, { details: { holder: verdict.holder } });
    }
    // Without waiting, a half-written lock still gets its grace period (it breaks after that).
    if (!wait && Date.now() - started > HALF_WRITTEN_MS * 2) {
      throw new MillwrightError('CONFLICT', `could not take the lock ${lockPath}`, { details: { holder: {} } });
    }
    if (wait && Date.now() - started > timeoutMs) {
      const holder = verdict.state === 'held' ? verdict.holder : {};
      throw new MillwrightError('UNAVAILABLE', `could not acquire lock ${lockPath} within ${timeoutMs} ms (held by another process; remove it if no millwright process is running)`, { details: { holder } });
    }
    if (verdict.state === 'broken') continue;
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 100);
  }
  return async () => {
    // Only remove our own lock (a stale-breaker may have replaced it if we were very slow).
    try {
      if ((await readFile(lockPath, 'utf8')) === text) await unlink(lockPath);
    } catch {
      // already gone
    }
  };
}

/**
 * Runs `fn` holding the lock file `lockPath` (see {@link acquireLock} for the options).
 *
 * @example
 * const next = await withLock('/registry/.lock', async () => allocateVersion());
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const release = await acquireLock(lockPath, opts);
  try {
    return await fn();
  } finally {
    await release();
  }
}

function parseLock(text: string): LockInfo | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) };
  try {
    const v = JSON.parse(trimmed) as Partial<LockInfo> | null;
    return v && typeof v.pid === 'number' && Number.isInteger(v.pid) && v.pid > 0 ? (v as LockInfo) : undefined;
  } catch {
    return undefined;
  }
}

type Verdict = { state: 'gone' } | { state: 'broken' } | { state: 'held'; holder: LockHolder } | { state: 'young' };

async function breakIfStale(lockPath: string, opts: LockOptions): Promise<Verdict> {
  const staleMs = opts.staleMs ?? 60_000;
  let text: string;
  let mtime: number;
  try {
    text = await readFile(lockPath, 'utf8');
    mtime = (await stat(lockPath)).mtimeMs;
  } catch {
    return { state: 'gone' }; // released meanwhile
  }
  const holder = parseLock(text);
  const age = Date.now() - mtime;
  let stale: boolean;
  if (holder === undefined) {
    // Being written (young) or left by a crash mid-write (old).
    if (age <= HALF_WRITTEN_MS) return { state: 'young' };
    stale = true;
  } else {
    const local = opts.singleHost === true || holder.host === undefined || holder.host === hostname();
    const ownerGone = local && (holder.pid === process.pid ? opts.ownPidIsStale === true : !processAlive(holder.pid));
    stale = ownerGone || (staleMs !== false && age > staleMs);
  }
  if (!stale) return { state: 'held', holder: { pid: holder?.pid, host: holder?.host } };
  const aside = `${lockPath}.stale-${uniqueId()}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return { state: 'gone' }; // someone else broke it first
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  if (moved !== text) {
    // We moved a lock that was re-taken after we judged it stale: put it back if the slot is free.
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
  return { state: 'broken' };
}
