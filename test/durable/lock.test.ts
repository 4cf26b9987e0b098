// The one lock primitive in both of its uses: the registry's (wait, UNAVAILABLE after a timeout,
// break a lock older than staleMs) and the spool's (CONFLICT at once, own pid is stale).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, readFile, writeFile, utimes, access } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { acquireLock, withLock, processAlive, uniqueId } from '../../lib/durable/index.ts';
import { lockSpool } from '../../lib/spool/index.ts';
import { isErrorCode, MillwrightError } from '../../lib/errors/index.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mw-lock-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const deadPid = (): number => spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
const lockOf = (pid: number, host = hostname()): string => JSON.stringify({ pid, host, nonce: uniqueId(), createdAt: new Date().toISOString() });
const exists = (p: string): Promise<boolean> => access(p).then(() => true, () => false);
const lockIn = async (name: string): Promise<string> => {
  await mkdir(join(dir, name), { recursive: true });
  return join(dir, name, '.lock');
};
const SPOOL_MODE = { wait: false, staleMs: false, ownPidIsStale: true, singleHost: true } as const;

test('processAlive: this process yes, an exited child no', () => {
  assert.equal(processAlive(process.pid), true);
  assert.equal(processAlive(deadPid()), false);
});

test('wait mode: takers queue up, a live fresh lock is waited for until UNAVAILABLE', async () => {
  const lock = await lockIn('wait');
  const order: number[] = [];
  await Promise.all([1, 2, 3].map((n) => withLock(lock, async () => { order.push(n); await new Promise((r) => setTimeout(r, 5)); order.push(-n); })));
  // Never two inside at once: every entry is followed by its own exit.
  for (let i = 0; i < order.length; i += 2) assert.equal(order[i + 1], -order[i]!);
  assert.equal(await exists(lock), false, 'released');

  await writeFile(lock, lockOf(process.pid));
  const t0 = Date.now();
  await assert.rejects(withLock(lock, async () => 'no', { timeoutMs: 150 }), (e: unknown) => isErrorCode(e, 'UNAVAILABLE') && (e.details?.holder as { pid: number }).pid === process.pid);
  assert.ok(Date.now() - t0 >= 150, 'it waited');
  await rm(lock);
});

test('wait mode: a lock older than staleMs is broken even with a live owner; staleMs false keeps it', async () => {
  const lock = await lockIn('old');
  await writeFile(lock, lockOf(process.pid));
  const old = new Date(Date.now() - 120_000);
  await utimes(lock, old, old);
  await assert.rejects(acquireLock(lock, { timeoutMs: 100, staleMs: false }), (e: unknown) => isErrorCode(e, 'UNAVAILABLE'));
  assert.equal(await withLock(lock, async () => 'broken', { timeoutMs: 5000 }), 'broken');
  assert.equal(await exists(lock), false);
});

test('a dead owner is taken over in both modes; a dead owner on another host only with singleHost', async () => {
  const lock = await lockIn('dead');
  await writeFile(lock, lockOf(deadPid()));
  assert.equal(await withLock(lock, async () => 'waited', { timeoutMs: 5000 }), 'waited');
  await writeFile(lock, lockOf(deadPid()));
  assert.equal(await withLock(lock, async () => 'at once', SPOOL_MODE), 'at once');

  await writeFile(lock, lockOf(deadPid(), 'another-host'));
  await assert.rejects(acquireLock(lock, { wait: false }), (e: unknown) => isErrorCode(e, 'CONFLICT'));
  assert.equal(await withLock(lock, async () => 'same volume', SPOOL_MODE), 'same volume');
});

test('no-wait mode: a live owner is a CONFLICT at once, naming the holder', async () => {
  const lock = await lockIn('conflict');
  // This process's parent (the test runner) is alive and is not us.
  await writeFile(lock, lockOf(process.ppid));
  const t0 = Date.now();
  await assert.rejects(acquireLock(lock, SPOOL_MODE), (e: unknown) => e instanceof MillwrightError && e.code === 'CONFLICT' && (e.details?.holder as { pid: number }).pid === process.ppid);
  assert.ok(Date.now() - t0 < 1000, 'without waiting');
  assert.equal(JSON.parse(await readFile(lock, 'utf8')).pid, process.ppid, 'a held lock is left alone');
  await rm(lock);
});

test('own pid: stale with ownPidIsStale (pid reuse after a restart), held otherwise', async () => {
  const lock = await lockIn('own');
  await writeFile(lock, lockOf(process.pid));
  await assert.rejects(acquireLock(lock, { wait: false }), (e: unknown) => isErrorCode(e, 'CONFLICT'));
  const release = await acquireLock(lock, SPOOL_MODE);
  const mine = await readFile(lock, 'utf8');
  assert.notEqual(JSON.parse(mine).nonce, undefined);
  // A second taker in this process takes it over too; the first release then leaves the new lock.
  const second = await acquireLock(lock, SPOOL_MODE);
  await release();
  assert.equal(await exists(lock), true);
  await second();
  assert.equal(await exists(lock), false);
});

test('lockSpool: the spool mode, with a plain-pid lock file as older versions wrote it', async () => {
  const spool = join(dir, 'spool');
  const release = await lockSpool(spool);
  await release();
  await writeFile(join(spool, '.flush.lock'), String(process.ppid));
  await assert.rejects(lockSpool(spool), (e: unknown) => isErrorCode(e, 'CONFLICT') && e.message === `another flush (pid ${process.ppid}) is running on spool ${spool}; wait for it or stop it`);
  await writeFile(join(spool, '.flush.lock'), String(deadPid()));
  await (await lockSpool(spool))();
  await writeFile(join(spool, '.flush.lock'), String(process.pid));
  await (await lockSpool(spool))();
  assert.equal(await exists(join(spool, '.flush.lock')), false);
});

test('a half-written (unreadable) lock is respected while young and broken once old', async () => {
  const lock = await lockIn('torn');
  await writeFile(lock, '');
  await assert.rejects(acquireLock(lock, { timeoutMs: 100 }), (e: unknown) => isErrorCode(e, 'UNAVAILABLE'));
  const old = new Date(Date.now() - 10_000);
  await utimes(lock, old, old);
  await (await acquireLock(lock, SPOOL_MODE))();
  await writeFile(lock, '{"pid"');
  await utimes(lock, old, old);
  await (await acquireLock(lock, { timeoutMs: 1000 }))();
  assert.equal(await exists(lock), false);
});
