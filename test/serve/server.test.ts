// The HTTP contract through real HTTP on 127.0.0.1, serving a random forest trained through
// lib/model's real training path on the steel plant energy data.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import * as aq from 'arquero';
import { loadModel } from '../../lib/model/index.ts';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { listCaptureFiles, type CaptureRecord } from '../../lib/capture/index.ts';
import { trainEnergyForest, RF_FEATURES } from './fixtures/rf-model.ts';
import { csv, http, invoke, REAL_LOADER, scratch } from './helpers.ts';

let srv: RunningServer;
let cleanup: () => Promise<void>;
let rows: number[][];
let expected: number[];
let captureDir: string;
let reportsDir: string;
const logs: Record<string, unknown>[] = [];
const TOKEN = 'test-admin-token-123';

before(async () => {
  const s = await scratch();
  cleanup = s.cleanup;
  const { modelDir, data } = await trainEnergyForest(join(s.dir, 'ml'), { trees: 20, maxDepth: 8, rows: 3000 });
  rows = data.slice(0, 50).map((r) => r.slice(0, RF_FEATURES.length));
  // Reference predictions straight from lib/model, in-process: the server must return exactly these.
  const model = await loadModel(modelDir);
  const cols = Object.fromEntries(RF_FEATURES.map((f, i) => [f, rows.map((r) => r[i]!)]));
  expected = (await model.predict(aq.table(cols))) as number[];
  captureDir = join(s.dir, 'capture');
  reportsDir = join(s.dir, 'reports');
  await mkdir(join(reportsDir, 'drift'), { recursive: true });
  await writeFile(join(reportsDir, 'drift', 'latest.html'), '<!doctype html><title>drift</title><p>no drift</p>');
  await writeFile(join(reportsDir, 'drift', 'latest.json'), '{"drift":false}');
  srv = await startServer({
    modelDir,
    loader: REAL_LOADER,
    port: 0,
    workers: 2,
    capture: { dir: captureDir, sampleRate: 1, flushIntervalMs: 50 },
    reportsDir,
    reportSchedule: { everyMs: 0 },
    adminToken: TOKEN,
    log: (l) => logs.push(l),
  });
});

after(async () => {
  await srv?.close();
  await cleanup?.();
});

describe('health and metadata', () => {
  test('/ping is 200 with an empty body; liveness and readiness report the model', async () => {
    const ping = await http(`${srv.url}/ping`);
    assert.equal(ping.status, 200);
    assert.equal(ping.text, '');
    assert.equal((await http(`${srv.url}/health/live`)).status, 200);
    const ready = await http(`${srv.url}/health/ready`);
    assert.equal(ready.status, 200);
    assert.equal(ready.json<{ model: { name: string; algorithm: string } }>().model.algorithm, 'random-forest-regression');
  });

  test('/execution-parameters describes batch transform settings', async () => {
    assert.deepEqual((await http(`${srv.url}/execution-parameters`)).json(), { MaxConcurrentTransforms: 2, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: 6 });
  });
});

describe('POST /invocations content types', () => {
  const close = (got: number[], want: number[]) => {
    assert.equal(got.length, want.length);
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-9, `row ${i}: ${g} vs ${want[i]}`));
  };

  test('headerless CSV rows in feature order, one prediction per row in order', async () => {
    const r = await invoke(srv.url, csv(rows), 'text/csv');
    assert.equal(r.status, 200);
    close(r.json<{ predictions: number[] }>().predictions, expected);
  });

  test('CSV with a header row in another column order is mapped by name; CRLF and quotes accepted', async () => {
    const order = [...RF_FEATURES].reverse();
    const body = `${order.map((n) => `"${n}"`).join(',')}\r\n${rows.slice(0, 5).map((r) => order.map((n) => r[RF_FEATURES.indexOf(n)]).join(',')).join('\r\n')}\r\n`;
    const r = await invoke(srv.url, body, 'text/csv; charset=utf-8');
    assert.equal(r.status, 200, r.text);
    close(r.json<{ predictions: number[] }>().predictions, expected.slice(0, 5));
  });

  test('a gzip-compressed body (served by the Express route) and a plain one (the node:http fast path) answer alike', async () => {
    const body = csv(rows.slice(0, 4));
    const plain = await invoke(srv.url, body, 'text/csv');
    const zipped = await http(`${srv.url}/invocations`, { method: 'POST', body: gzipSync(body), headers: { 'content-type': 'text/csv', 'content-encoding': 'gzip', 'x-request-id': 'zip-1', accept: 'application/json' } });
    assert.equal(plain.status, 200);
    assert.equal(zipped.status, 200, zipped.text);
    assert.equal(zipped.text, plain.text);
    for (const h of ['content-type', 'content-length']) assert.equal(zipped.headers.get(h), plain.headers.get(h), h);
    assert.equal(zipped.headers.get('x-request-id'), 'zip-1');
    assert.match(plain.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    close(plain.json<{ predictions: number[] }>().predictions, expected.slice(0, 4));
    const bad = await http(`${srv.url}/invocations`, { method: 'POST', body: gzipSync('1,2\n'), headers: { 'content-type': 'text/csv', 'content-encoding': 'gzip' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json<{ error_code: string }>().error_code, 'BAD_INPUT');
  });

  test('Accept: text/csv returns one line per row', async () => {
    const r = await invoke(srv.url, csv(rows.slice(0, 3)), 'text/csv', 'text/csv');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
    close(r.text.trim().split('\n').map(Number), expected.slice(0, 3));
  });

  test('MLflow dataframe_split, dataframe_records, instances and inputs', async () => {
    const three = rows.slice(0, 3);
    const records = three.map((r) => Object.fromEntries(RF_FEATURES.map((f, i) => [f, r[i]])));
    const bodies = [
      { dataframe_split: { columns: [...RF_FEATURES], data: three } },
      { dataframe_records: records },
      { instances: three },
      { instances: records },
      { inputs: three },
      { inputs: Object.fromEntries(RF_FEATURES.map((f, i) => [f, three.map((r) => r[i])])) },
    ];
    for (const b of bodies) {
      const r = await invoke(srv.url, JSON.stringify(b), 'application/json');
      assert.equal(r.status, 200, `${Object.keys(b)[0]}: ${r.text}`);
      close(r.json<{ predictions: number[] }>().predictions, expected.slice(0, 3));
    }
  });

  test('JSON Lines in (both media types), JSON Lines or JSON out', async () => {
    const body = rows.slice(0, 4).map((r, i) => JSON.stringify(i % 2 ? r : Object.fromEntries(RF_FEATURES.map((f, j) => [f, r[j]])))).join('\n');
    for (const type of ['application/jsonlines', 'application/x-ndjson']) {
      const r = await invoke(srv.url, body, type, 'application/jsonlines');
      assert.equal(r.status, 200, r.text);
      close(r.text.trim().split('\n').map(Number), expected.slice(0, 4));
    }
    const j = await invoke(srv.url, body, 'application/jsonlines', 'application/json');
    close(j.json<{ predictions: number[] }>().predictions, expected.slice(0, 4));
  });
});

describe('large batches are split across workers', () => {
  test('a 10,000-row CSV (with and without header) returns the same predictions in order; a bad row is named exactly', async () => {
    const big = Array.from({ length: 10_000 }, (_, i) => rows[i % rows.length]!);
    const want = big.map((_, i) => expected[i % rows.length]!);
    const body = csv(big);
    assert.ok(body.length > 128 * 1024);
    const r = await invoke(srv.url, body, 'text/csv');
    assert.equal(r.status, 200);
    const got = r.json<{ predictions: number[] }>().predictions;
    assert.equal(got.length, 10_000);
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-9, `row ${i}`));
    const headed = await invoke(srv.url, `${RF_FEATURES.join(',')}\n${body}`, 'text/csv', 'text/csv');
    assert.deepEqual(headed.text.trim().split('\n').map(Number).slice(9990), want.slice(9990));
    const lines = body.split('\n');
    lines[8765] = '1,2,3';
    const bad = await invoke(srv.url, lines.join('\n'), 'text/csv');
    assert.equal(bad.status, 400);
    assert.match(bad.json<{ message: string }>().message, /^row 8766 \(line 8766\): expected 6 value/);
  });
  test('split batches one after another (parts handed over in a reused shared buffer): each answers its own rows only', async () => {
    const body = (n: number, offset: number) => csv(Array.from({ length: n }, (_, i) => rows[(offset + i * 3) % rows.length]!));
    const big = body(10_000, 3);
    const first = await invoke(srv.url, big, 'text/csv', 'text/csv');
    assert.equal(first.status, 200);
    assert.equal(first.text.split('\n').length, 10_001);
    // smaller than the last one (the reused buffer holds its tail), still split; its halves are not
    // the rows' text length depends on the data, so the row count is chosen for the size: over the
    // 128 KiB split threshold, under twice it (the halves are not split again), under the big batch
    let n = 1_000;
    let small = body(n, 11);
    while (small.length < 132 * 1024 && n < 9_000) small = body((n += 250), 11);
    assert.ok(small.length >= 128 * 1024 && small.length < 256 * 1024 && small.length < big.length, `${small.length} bytes`);
    const cut = small.indexOf('\n', small.length >> 1) + 1;
    const whole = await invoke(srv.url, small, 'text/csv', 'text/csv');
    const halves = await Promise.all([small.slice(0, cut), small.slice(cut)].map((b) => invoke(srv.url, b, 'text/csv', 'text/csv')));
    assert.equal(whole.status, 200);
    assert.equal(whole.text, halves[0]!.text + halves[1]!.text);
    // with a header row (each part repeats it), then the first batch again
    const headed = await invoke(srv.url, `${RF_FEATURES.join(',')}\n${small}`, 'text/csv', 'text/csv');
    assert.equal(headed.text, whole.text);
    const again = await invoke(srv.url, big, 'text/csv', 'text/csv');
    assert.equal(again.text, first.text);
  });
  test('concurrent big batches (split only onto idle workers, else whole on one) give the same bytes; a bad one its error', async () => {
    const big = Array.from({ length: 10_000 }, (_, i) => rows[(i * 7) % rows.length]!);
    const body = csv(big);
    const alone = await invoke(srv.url, body, 'text/csv', 'text/csv');
    assert.equal(alone.status, 200);
    const lines = body.split('\n');
    lines[4321] = '1,2,x,4,5,6';
    const badBody = lines.join('\n');
    const badAlone = await invoke(srv.url, badBody, 'text/csv');
    assert.equal(badAlone.status, 400);
    const together = await Promise.all([body, badBody, body, body, badBody].map((b) => invoke(srv.url, b, 'text/csv', 'text/csv')));
    for (const [i, r] of together.entries()) {
      const want = i === 1 || i === 4 ? badAlone : alone;
      assert.equal(r.status, want.status, `request ${i}`);
      assert.equal(r.text, want.text, `request ${i}`);
    }
  });
});

describe('errors are JSON {error_code, message} with the mapped status', () => {
  const err = (r: { status: number; json: () => unknown }) => r.json() as { error_code: string; message: string };

  test('415 for an unsupported or missing Content-Type, and for an unsupported Accept', async () => {
    for (const ct of ['text/plain', 'application/xml', undefined]) {
      const r = await invoke(srv.url, csv(rows.slice(0, 1)), ct);
      assert.equal(r.status, 415);
      assert.equal(err(r).error_code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.match(err(r).message, /text\/csv/);
    }
    const a = await invoke(srv.url, csv(rows.slice(0, 1)), 'text/csv', 'image/png');
    assert.equal(a.status, 415);
  });

  test('400 for a wrong column count names the row and the expected columns', async () => {
    const body = `${csv(rows.slice(0, 2))}1,2,3\n`;
    const r = await invoke(srv.url, body, 'text/csv');
    assert.equal(r.status, 400);
    assert.equal(err(r).error_code, 'BAD_INPUT');
    assert.match(err(r).message, /row 3 \(line 3\): expected 6 value\(s\) \(lagging_kvarh, .*nsm\), got 3/);
  });

  test('400 for a non-numeric value names row, feature and expectation', async () => {
    const r = await invoke(srv.url, JSON.stringify({ instances: [rows[0], [1, 2, 'high', 4, 5, 6]] }), 'application/json');
    assert.equal(r.status, 400);
    assert.match(err(r).message, /instances row 2: feature "co2" \(3 of 6\) is "high"; expected a finite number/);
  });

  test('400 for malformed JSON and for an unknown JSON shape', async () => {
    assert.match(err(await invoke(srv.url, '{"instances": [[1,2', 'application/json')).message, /not valid JSON/);
    const shape = await invoke(srv.url, '{"rows": []}', 'application/json');
    assert.equal(shape.status, 400);
    assert.match(err(shape).message, /dataframe_split/);
  });

  test('413 for a body over the limit', async () => {
    const line = `${rows[0]!.join(',')}\n`;
    const big = line.repeat(Math.ceil((7 * 1024 * 1024) / line.length));
    assert.ok(big.length > 6 * 1024 * 1024);
    const r = await invoke(srv.url, big, 'text/csv');
    assert.equal(r.status, 413);
    assert.equal(err(r).error_code, 'PAYLOAD_TOO_LARGE');
  });

  test('404 JSON for unknown routes; admin needs the bearer token (401)', async () => {
    const nf = await http(`${srv.url}/nope`);
    assert.equal(nf.status, 404);
    assert.equal(err(nf).error_code, 'NOT_FOUND');
    const noAuth = await http(`${srv.url}/admin/model`);
    assert.equal(noAuth.status, 401);
    assert.match(noAuth.headers.get('www-authenticate') ?? '', /Bearer/);
    assert.equal((await http(`${srv.url}/admin/model`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const ok = await http(`${srv.url}/admin/model`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
  });
});

describe('observability', () => {
  test('/metrics exposes request counts by status, latency histogram and model version', async () => {
    const m = (await http(`${srv.url}/metrics`)).text;
    assert.match(m, /millwright_http_requests_total\{route="\/invocations",method="POST",status="200"\} \d+/);
    assert.match(m, /millwright_http_requests_total\{route="\/invocations",method="POST",status="400"\} \d+/);
    assert.match(m, /millwright_http_request_duration_seconds_bucket\{le="0.01",route="\/invocations"\} \d+/);
    assert.match(m, /millwright_model_info\{name="steel-energy",version="[^"]+",algorithm="random-forest-regression"\} 1/);
  });

  test('one structured log line per request', async () => {
    const before = logs.length;
    await invoke(srv.url, csv(rows.slice(0, 2)), 'text/csv');
    await new Promise((r) => setTimeout(r, 20));
    const line = logs.slice(before).find((l) => l.msg === 'request' && l.path === '/invocations');
    assert.ok(line, 'request log line');
    assert.equal(line.status, 200);
    assert.equal(line.rows, 2);
    assert.equal(typeof line.ms, 'number');
  });

  test('data capture writes SageMaker capture records under <endpoint>/AllTraffic/YYYY/MM/DD/HH/', async () => {
    const body = csv(rows.slice(7, 10));
    const r = await invoke(srv.url, body, 'text/csv');
    await srv.capture!.flush();
    const files = await listCaptureFiles(captureDir);
    assert.ok(files.length >= 1);
    assert.match(files[0]!.path, /capture\/steel-energy\/AllTraffic\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl$/);
    const records = (await Promise.all(files.map((f) => readFile(f.path, 'utf8'))))
      .join('')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as CaptureRecord);
    const rec = records.find((x) => x.captureData.endpointInput.data === body)!;
    assert.ok(rec, 'the request was captured');
    assert.deepEqual(rec.captureData.endpointInput, { observedContentType: 'text/csv', mode: 'INPUT', data: body, encoding: 'CSV' });
    assert.equal(rec.captureData.endpointOutput.data, r.text);
    assert.equal(rec.captureData.endpointOutput.encoding, 'JSON');
    assert.match(rec.eventMetadata.inferenceTime, /^\d{4}-\d{2}-\d{2}T/);
    assert.equal(rec.eventMetadata.eventId, r.headers.get('x-request-id'));
    // Errors are not captured.
    assert.ok(records.every((x) => !x.captureData.endpointOutput.data.includes('error_code')));
  });

  test('/reports serves an index and the files, behind the admin token', async () => {
    assert.equal((await http(`${srv.url}/reports/`)).status, 401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const index = await http(`${srv.url}/reports/`, { headers: auth });
    assert.equal(index.status, 200);
    assert.match(index.text, /href="drift\/latest.html"/);
    const json = await http(`${srv.url}/reports/index.json`, { headers: auth });
    assert.ok(['drift/latest.html', 'drift/latest.json'].every((p) => json.json<{ reports: { path: string }[] }>().reports.some((r) => r.path === p)));
    const page = await http(`${srv.url}/reports/drift/latest.html`, { headers: auth });
    assert.match(page.text, /no drift/);
    assert.equal((await http(`${srv.url}/reports/drift/../../model.json`, { headers: auth })).status, 404);
  });

  test('POST /admin/reports/regenerate builds quality and drift reports from the captured traffic', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    for (let i = 0; i < 20; i++) await invoke(srv.url, csv(rows.slice(i, i + 10)), 'text/csv');
    const r = await http(`${srv.url}/admin/reports/regenerate`, { method: 'POST', headers: auth });
    assert.equal(r.status, 200, r.text);
    const run = r.json<{ rows: number; reports: { kind: string }[] }>();
    assert.ok(run.rows >= 200, `rows ${run.rows}`);
    assert.deepEqual(run.reports.map((x) => x.kind).sort(), ['drift', 'quality']);
    const index = await http(`${srv.url}/reports/index.json`, { headers: auth });
    const paths = index.json<{ reports: { path: string }[] }>().reports.map((x) => x.path);
    assert.ok(paths.includes('drift/report.html') && paths.includes('quality/report.json') && paths.includes('summary.json'), paths.join(' '));
    const html = await http(`${srv.url}/reports/drift/report.html`, { headers: auth });
    assert.match(html.text, /<svg|<table/);
  });
});
