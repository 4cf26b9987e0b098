// The shared deadline timer of the /invocations fast path (serve/deadline-queue.ts): an entry still
// queued at its deadline expires once, an answered (removed) one never does, whatever the order of
// adds and removes, and a callback may queue more.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DeadlineQueue } from '../../serve/deadline-queue.ts';

interface E {
  deadlineAt?: number;
  id: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('entries still queued at their deadline expire once, in any order; removed ones never', async () => {
  const expired: string[] = [];
  const q = new DeadlineQueue<E>((e) => expired.push(e.id), 1);
  const now = Date.now();
  const a = { id: 'a', deadlineAt: now + 30 };
  const b = { id: 'b', deadlineAt: now + 10 };
  const c = { id: 'c', deadlineAt: now + 20 };
  const d = { id: 'd', deadlineAt: now + 15 };
  for (const e of [a, b, c, d]) q.add(e);
  q.add(b); // twice: still one entry
  assert.equal(q.size, 4);
  q.remove(c);
  q.remove(c); // not queued: a no-op
  assert.equal(q.size, 3);
  await sleep(22);
  assert.deepEqual(expired.sort(), ['b', 'd']);
  await sleep(40);
  assert.deepEqual(expired.sort(), ['a', 'b', 'd']);
  assert.equal(q.size, 0);
});

test('a callback may queue more; an entry added with an earlier deadline re-arms the timer', async () => {
  const expired: string[] = [];
  const q: DeadlineQueue<E> = new DeadlineQueue<E>((e) => {
    expired.push(e.id);
    if (e.id === 'first') q.add({ id: 'second', deadlineAt: Date.now() + 5 });
  }, 1);
  q.add({ id: 'late', deadlineAt: Date.now() + 1000 });
  q.add({ id: 'first', deadlineAt: Date.now() + 5 });
  await sleep(60);
  assert.deepEqual(expired, ['first', 'second']);
  assert.equal(q.size, 1);
});
