// The fast path's answer batch (serve/answer-batch.ts), on real node:http responses: answers held in
// one turn of the event loop are all written in that turn's check phase, a batch whose first answer
// has waited maxHoldMs is written at once, a response closed meanwhile is skipped, and one answer
// that node:http refuses is reported without losing the others.
import assert from 'node:assert/strict';
import { createServer, request, Agent, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { AnswerBatch, type HeldAnswer } from '../../serve/answer-batch.ts';

/** A server that hands its first `n` responses (one per socket) to `use`, all at once. */
async function withResponses(n: number, use: (rs: ServerResponse[]) => void): Promise<{ status: number; body: string }[]> {
  const rs: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      rs.push(res);
      if (rs.length === n) use(rs);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: false, maxSockets: n });
  try {
    return await Promise.all(
      Array.from({ length: n }, (_, i) =>
        new Promise<{ status: number; body: string }>((ok, fail) => {
          const r = request({ host: '127.0.0.1', port, path: `/${i}`, method: 'POST', agent }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => ok({ status: res.statusCode ?? 0, body }));
          });
          r.on('error', (err) => ok({ status: -1, body: err.message }));
          r.on('timeout', () => fail(new Error('timed out')));
          r.end('x');
        }),
      ),
    );
  } finally {
    agent.destroy();
    await new Promise((ok) => server.close(ok));
  }
}

const answer = (res: ServerResponse, body: string, headers: (string | number)[] = []): HeldAnswer => ({
  res,
  status: 200,
  headers: [...headers, 'content-type', 'text/plain', 'content-length', Buffer.byteLength(body)],
  body,
});

test('answers held in one turn are written together in its check phase, each to its own response', async () => {
  const seen: { sentWhenHeld: boolean[]; sizeAfterHold: number; sentInSameTurn: boolean[] } = { sentWhenHeld: [], sizeAfterHold: 0, sentInSameTurn: [] };
  const batch = new AnswerBatch(1000, (_a, err) => assert.fail(String(err)));
  const got = await withResponses(4, (rs) => {
    rs.forEach((res, i) => batch.hold(answer(res, `answer ${i}`)));
    seen.sizeAfterHold = batch.size;
    seen.sentWhenHeld = rs.map((r) => r.headersSent);
    // queued after the batch's own immediate, so it runs right after it, in the same check phase
    setImmediate(() => (seen.sentInSameTurn = rs.map((r) => r.headersSent)));
  });
  assert.equal(seen.sizeAfterHold, 4);
  assert.deepEqual(seen.sentWhenHeld, [false, false, false, false], 'nothing is written while the turn goes on');
  assert.deepEqual(seen.sentInSameTurn, [true, true, true, true], 'all are written by the end of the same turn');
  assert.equal(batch.size, 0);
  assert.deepEqual(new Set(got.map((g) => g.body)), new Set(['answer 0', 'answer 1', 'answer 2', 'answer 3']));
  assert.ok(got.every((g) => g.status === 200));
});

test('a batch whose first answer has waited maxHoldMs is written at once, the new answer with it', async () => {
  const batch = new AnswerBatch(2, (_a, err) => assert.fail(String(err)));
  const state: { first?: boolean; second?: boolean; size?: number } = {};
  await withResponses(2, (rs) => {
    batch.hold(answer(rs[0]!, 'early'));
    const until = performance.now() + 3;
    while (performance.now() < until); // a long computation between two answers of one turn
    batch.hold(answer(rs[1]!, 'late'));
    state.first = rs[0]!.headersSent;
    state.second = rs[1]!.headersSent;
    state.size = batch.size;
  });
  assert.deepEqual(state, { first: true, second: true, size: 0 });
});

test('a response closed while held is skipped; one that node:http refuses is reported and the rest are written', async () => {
  const failed: { index: number; message: string }[] = [];
  const batch = new AnswerBatch(1000, (a, err) => {
    failed.push({ index: Number(a.body.split(' ')[1]), message: (err as Error).message });
    a.res.writeHead(500, ['content-length', 6]);
    a.res.end('failed');
  });
  const got = await withResponses(3, (rs) => {
    batch.hold(answer(rs[0]!, 'answer 0'));
    batch.hold(answer(rs[1]!, 'answer 1', ['x-bad', 'line\nbreak']));
    batch.hold(answer(rs[2]!, 'answer 2'));
    rs[2]!.destroy();
  });
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.index, 1);
  assert.match(failed[0]!.message, /Invalid character in header content \["x-bad"\]/);
  assert.deepEqual(got[0], { status: 200, body: 'answer 0' });
  assert.deepEqual(got[1], { status: 500, body: 'failed' });
  assert.equal(got[2]!.status, -1, 'the destroyed response is not written (its client sees the socket close)');
});
