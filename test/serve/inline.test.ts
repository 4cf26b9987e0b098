// Small requests answered on the HTTP thread (serve/inline-model.ts): a forest served with the
// default --inline-max-body and one served with it off give byte-identical answers (status,
// content type, body) for single rows, a few rows, bad rows and a body too large for the inline
// path; the decision is logged and counted in /metrics. And the numeric JSON fast path answers
// exactly what the general JSON path answers.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadModel } from '../../lib/model/index.ts';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { invocations, invocationsNow } from '../../serve/invocations.ts';
import { gzipSync } from 'node:zlib';
import { trainEnergyForest, RF_FEATURES } from './fixtures/rf-model.ts';
import { csv, http, invoke, LINEAR_LOADER, REAL_LOADER, scratch } from './helpers.ts';
import { writeLinearModel } from './fixtures/linear-model.ts';

let inline: RunningServer;
let workersOnly: RunningServer;
let modelDir: string;
let rows: number[][];
let cleanup: () => Promise<void>;
const logs: Record<string, unknown>[][] = [[], []];

before(async () => {
  const s = await scratch();
  cleanup = s.cleanup;
  const t = await trainEnergyForest(join(s.dir, 'ml'), { trees: 20, maxDepth: 8, rows: 3000 });
  modelDir = t.modelDir;
  rows = t.data.slice(0, 300).map((r) => r.slice(0, RF_FEATURES.length));
  inline = await startServer({ modelDir, loader: REAL_LOADER, port: 0, workers: 1, log: (l) => logs[0]!.push(l) });
  workersOnly = await startServer({ modelDir, loader: REAL_LOADER, port: 0, workers: 1, inlineMaxBytes: 0, log: (l) => logs[1]!.push(l) });
});

after(async () => {
  await inline?.close();
  await workersOnly?.close();
  await cleanup?.();
});

test('the inline decision is logged with the model; a forest qualifies, and 0 turns it off', () => {
  const loaded = (i: number) => logs[i]!.find((l) => l.msg === 'model loaded')?.inline as { inline: boolean; reason: string; maxBytes?: number; probeMs?: number } | undefined;
  assert.equal(loaded(0)?.inline, true, JSON.stringify(loaded(0)));
  assert.equal(loaded(0)?.maxBytes, 4096);
  assert.ok(typeof loaded(0)?.probeMs === 'number' && loaded(0)!.probeMs! < 0.25);
  assert.equal(loaded(1)?.inline, false);
  assert.match(loaded(1)!.reason, /off/);
});

test('inline and worker answers are byte-identical, for good and bad bodies, small and large', async () => {
  const one = rows[7]!;
  const names = [...RF_FEATURES];
  const bodies: [string, string, string][] = [
    ['single-row CSV', csv([one]), 'text/csv'],
    ['three-row CSV with a header', `${names.join(',')}\n${csv(rows.slice(10, 13))}`, 'text/csv'],
    ['single-row JSON instances', JSON.stringify({ instances: [one] }), 'application/json'],
    ['JSON records', JSON.stringify({ instances: rows.slice(3, 5).map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]]))) }), 'application/json'],
    ['JSON dataframe_split', JSON.stringify({ dataframe_split: { columns: names, data: [one] } }), 'application/json'],
    ['top-level JSON array of rows', JSON.stringify([one, rows[8]]), 'application/json'],
    ['JSON with a string number', JSON.stringify({ instances: [[String(one[0]), ...one.slice(1)]] }), 'application/json'],
    ['JSON with a null', JSON.stringify({ instances: [[null, ...one.slice(1)]] }), 'application/json'],
    ['malformed JSON', '{"instances": [[1, 2', 'application/json'],
    ['CSV with a bad cell', csv([one]).replace(String(one[2]), 'abc'), 'text/csv'],
    ['CSV with a missing column', `${one.slice(1).join(',')}\n`, 'text/csv'],
    ['300-row CSV (over the inline limit)', csv(rows), 'text/csv'],
  ];
  for (const [what, body, type] of bodies) {
    for (const accept of ['application/json', 'text/csv']) {
      const a = await invoke(inline.url, body, type, accept);
      const b = await invoke(workersOnly.url, body, type, accept);
      assert.equal(a.status, b.status, `${what} (${accept}): status`);
      assert.equal(a.headers.get('content-type'), b.headers.get('content-type'), `${what} (${accept}): content type`);
      assert.equal(a.text, b.text, `${what} (${accept}): body`);
    }
  }
  // the small ones really were answered inline, the large one by the worker
  const count = async (url: string) => Number(/^millwright_invocations_inline_total (\S+)/m.exec((await http(`${url}/metrics`)).text)?.[1] ?? NaN);
  const before = await count(inline.url);
  await invoke(inline.url, csv([one]), 'text/csv');
  assert.equal(await count(inline.url), before + 1);
  await invoke(inline.url, csv(rows), 'text/csv');
  assert.equal(await count(inline.url), before + 1, 'a body over --inline-max-body goes to the workers');
  assert.equal(await count(workersOnly.url), 0);
});

test('numeric JSON fast path: the same answer as the general JSON path (table + predict) on every plain form', async () => {
  const model = await loadModel(modelDir);
  assert.ok(model.predictMatrix);
  const general = { ...model, predictMatrix: undefined };
  const names = [...RF_FEATURES];
  const docs = [
    { instances: rows.slice(0, 5) },
    { inputs: rows.slice(5, 6) },
    rows.slice(6, 9),
    { instances: rows.slice(9, 12).map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]]))) },
    { instances: [rows[1]!.map((v, i) => (i === 0 ? Math.round(v) : v))] },
  ];
  for (const doc of docs) {
    for (const accept of ['application/json', 'text/csv', 'application/jsonlines']) {
      const req = { body: JSON.stringify(doc), contentType: 'application/json', accept };
      const fast = await invocations(model, req);
      const slow = await invocations(general, req);
      assert.equal(fast.status, 200, fast.body);
      assert.deepEqual(fast, slow, `${JSON.stringify(doc).slice(0, 60)} (${accept})`);
    }
  }
});

test('the synchronous answer (invocationsNow, predictMatrixNow) is byte-identical to the promise path and the table path', async () => {
  const model = await loadModel(modelDir);
  assert.ok(model.predictMatrixNow);
  const promised = { ...model, predictMatrixNow: undefined };
  const table = { ...model, predictMatrix: undefined, predictMatrixNow: undefined };
  const one = rows[21]!;
  const names = [...RF_FEATURES];
  const good: [string, string][] = [
    [csv([one]), 'text/csv'],
    [csv(rows.slice(30, 34)), 'text/csv'],
    [`${names.join(',')}\n${csv(rows.slice(40, 42))}`, 'text/csv'],
    [JSON.stringify({ instances: [one] }), 'application/json'],
    [JSON.stringify({ inputs: rows.slice(50, 53) }), 'application/json'],
  ];
  const bad: [string, string][] = [
    [csv([one]).replace(String(one[3]), 'x'), 'text/csv'],
    [`${one.slice(2).join(',')}\n`, 'text/csv'],
    ['{"instances": [[1,', 'application/json'],
    [JSON.stringify({ instances: [one.slice(1)] }), 'application/json'],
  ];
  for (const [body, contentType] of [...good, ...bad]) {
    for (const accept of ['application/json', 'text/csv', undefined]) {
      const req = { body: Buffer.from(body), contentType, ...(accept ? { accept } : {}) };
      const now = invocationsNow(model, req);
      const isGood = good.some(([b]) => b === body);
      if (isGood) assert.ok(!(now instanceof Promise), `${body.slice(0, 40)}: a numeric body on the JS forest is answered synchronously`);
      const sync = now instanceof Promise ? await now : now;
      const what = `${contentType} ${body.slice(0, 40)} (${accept ?? 'no accept'})`;
      assert.deepEqual(sync, await invocations(promised, req), `${what}: vs predictMatrix`);
      if (isGood) {
        assert.equal(sync.status, 200, sync.body);
        const t = await invocations(table, req);
        assert.equal(sync.body, t.body, `${what}: vs table + predict`);
        assert.deepEqual(sync.headers, t.headers, what);
      } else assert.equal(sync.status, 400, sync.body);
    }
  }
});

test('the fast path writes the same response headers as the Express route (request id, inference id, type, length)', async () => {
  const body = csv(rows.slice(60, 62));
  const headers = { 'content-type': 'text/csv', accept: 'application/json', 'x-request-id': 'same-1', 'x-amzn-sagemaker-inference-id': 'inf-1' };
  const plain = await http(`${inline.url}/invocations`, { method: 'POST', body, headers });
  const zipped = await http(`${inline.url}/invocations`, { method: 'POST', body: gzipSync(body), headers: { ...headers, 'content-encoding': 'gzip' } });
  assert.equal(plain.status, 200, plain.text);
  assert.equal(plain.text, zipped.text);
  const names = (h: Headers) => [...h.keys()].filter((k) => k !== 'date' && k !== 'keep-alive').sort();
  assert.deepEqual(names(plain.headers), names(zipped.headers));
  for (const h of names(plain.headers)) assert.equal(plain.headers.get(h), zipped.headers.get(h), h);
  assert.equal(plain.headers.get('x-request-id'), 'same-1');
  assert.equal(plain.headers.get('x-amzn-sagemaker-inference-id'), 'inf-1');
  assert.equal(plain.headers.get('content-length'), String(Buffer.byteLength(plain.text)));
});

test('another loader is never answered inline: its code stays on the workers, within the deadline', async () => {
  const s = await scratch();
  const lines: Record<string, unknown>[] = [];
  const dir = await writeLinearModel(join(s.dir, 'linear'), { version: '1', weights: { a: 2, b: 3 } });
  const srv = await startServer({ modelDir: dir, loader: LINEAR_LOADER, port: 0, workers: 1, log: (l) => lines.push(l) });
  try {
    const r = await invoke(srv.url, '1,2\n', 'text/csv');
    assert.equal(r.status, 200, r.text);
    assert.equal(lines.find((l) => l.msg === 'model loaded')?.inline, undefined);
    assert.match((await http(`${srv.url}/metrics`)).text, /^millwright_invocations_inline_total 0$/m);
  } finally {
    await srv.close();
    await s.cleanup();
  }
});

test('concurrent single-row requests (answers written in batches: serve/answer-batch.ts) each get their own answer, id and log line', async () => {
  const some = rows.slice(100, 140);
  const headers = (i: number) => ({ 'content-type': 'text/csv', accept: 'application/json', 'x-request-id': `burst-${i}` });
  const alone: string[] = [];
  for (let i = 0; i < some.length; i++) alone.push((await http(`${inline.url}/invocations`, { method: 'POST', body: csv([some[i]!]), headers: headers(i) })).text);
  const before = logs[0]!.length;
  const together = await Promise.all(some.map((r, i) => http(`${inline.url}/invocations`, { method: 'POST', body: csv([r]), headers: headers(i) })));
  together.forEach((r, i) => {
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, alone[i], `row ${i}`);
    assert.equal(r.headers.get('x-request-id'), `burst-${i}`);
  });
  assert.ok(new Set(alone).size > some.length / 2, 'the rows have different predictions');
  const lines = logs[0]!.slice(before).filter((l) => l.msg === 'request');
  assert.deepEqual(lines.map((l) => l.requestId).sort(), some.map((_, i) => `burst-${i}`).sort());
  assert.ok(lines.every((l) => l.status === 200 && l.rows === 1));
});
