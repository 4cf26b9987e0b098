// The pure parts: invocations() without HTTP, the error→status table, settings resolution and
// data-capture rotation/bounds (with a controlled clock).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LoadedModel } from '../../lib/model/contract.ts';
import { CaptureWriter, errorResponse, invocations, resolveSettings } from '../../serve/index.ts';
import { httpStatusFor } from '../../lib/errors/index.ts';
import { listCaptureFiles, type CaptureRecord } from '../../lib/capture/index.ts';
import { parseCsv } from '../../lib/wire/index.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { mergeResults, splitCsvBody } from '../../serve/shard.ts';
import { loadModel, writeLinearModel } from './fixtures/linear-model.ts';
import { scratch } from './helpers.ts';

let model: LoadedModel;
let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  const s = await scratch();
  dir = s.dir;
  cleanup = s.cleanup;
  model = await loadModel(await writeLinearModel(join(dir, 'm'), { version: 'v1', weights: { speed: 0.5, load: 2 }, intercept: 1 }));
});
after(async () => cleanup?.());

describe('invocations (pure)', () => {
  test('CSV in, JSON/CSV/JSON Lines out; header row used when present', async () => {
    const json = await invocations(model, { body: new TextEncoder().encode('2,1\n4,0\n'), contentType: 'text/csv', accept: 'application/json' });
    assert.deepEqual([json.status, JSON.parse(json.body)], [200, { predictions: [4, 3] }]);
    // No Accept, or */*: the request's own format (SageMaker's built-ins answer CSV with CSV).
    for (const accept of [undefined, '*/*']) {
      const same = await invocations(model, { body: '2,1\n4,0\n', contentType: 'text/csv; charset=utf-8', accept });
      assert.deepEqual([same.status, same.headers['content-type'], same.body], [200, 'text/csv', '4\n3\n']);
    }
    const fromJson = await invocations(model, { body: '[[2,1]]', contentType: 'application/json', accept: '*/*' });
    assert.equal(fromJson.body, '{"predictions":[4]}');
    const c = await invocations(model, { body: 'load,speed\n1,2\n', contentType: 'text/csv', accept: 'text/csv' });
    assert.deepEqual([c.status, c.headers['content-type'], c.body], [200, 'text/csv', '4\n']);
    const jl = await invocations(model, { body: '{"speed":2,"load":1}\n[4,0]\n', contentType: 'application/jsonlines', accept: 'application/jsonlines;q=0.9, text/csv;q=0.1' });
    assert.equal(jl.body, '4\n3\n');
  });

  test('errors are mapped in one place', async () => {
    const r = await invocations(model, { body: '1,2\n3\n', contentType: 'text/csv' });
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.body), { error_code: 'BAD_INPUT', message: 'row 2 (line 2): expected 2 value(s) (speed, load), got 1' });
    const big = await invocations(model, { body: '1,2\n'.repeat(10), contentType: 'text/csv' }, { maxBodyBytes: 10 });
    assert.equal(big.status, 413);
    const dl = errorResponse(new MillwrightError('DEADLINE_EXCEEDED', 'late'));
    assert.deepEqual([dl.status, dl.headers['retry-after']], [503, '1']);
    const hidden = errorResponse(new Error('secret stack detail'));
    assert.equal(hidden.status, 500);
    assert.doesNotMatch(hidden.body, /secret/);
    assert.deepEqual(
      (['UNSUPPORTED_MEDIA_TYPE', 'BAD_INPUT', 'PAYLOAD_TOO_LARGE', 'DEADLINE_EXCEEDED', 'UNAVAILABLE', 'UNAUTHORIZED', 'NOT_FOUND', 'INTEGRITY', 'INTERNAL'] as const).map(httpStatusFor),
      [415, 400, 413, 503, 503, 401, 404, 500, 500],
    );
  });

  test('a model that throws yields a generic 500 with the cause kept for the log', async () => {
    const bad: LoadedModel = { ...model, predict: async () => { throw new Error('division by zero in tree 7'); } };
    const r = await invocations(bad, { body: '1,2', contentType: 'text/csv' });
    assert.equal(r.status, 500);
    assert.doesNotMatch(r.body, /tree 7/);
    assert.match(r.internal ?? '', /tree 7/);
  });

  test('CSV parser: quotes, escaped quotes, CRLF, blank lines', () => {
    assert.deepEqual(parseCsv('a,"b,c"\r\n\r\n"say ""hi""",2\n').map((r) => [r.cells, r.line]), [
      [['a', 'b,c'], 1],
      [['say "hi"', '2'], 3],
    ]);
  });
});

describe('batch sharding', () => {
  const features = [{ name: 'speed', type: 'number' as const }, { name: 'load', type: 'number' as const }];
  test('splits a large CSV at line boundaries, repeating the header; small, quoted or JSON bodies are not split', () => {
    const rowsText = Array.from({ length: 30_000 }, (_, i) => `${i},${i % 7}`).join('\n') + '\n';
    const parts = splitCsvBody(Buffer.from(`speed,load\n${rowsText}`), 'text/csv', features, 2)!;
    assert.equal(parts.length, 2);
    const texts = parts.map((p) => Buffer.from(p).toString());
    assert.ok(texts.every((t) => t.startsWith('speed,load\n')));
    assert.equal(texts.map((t) => t.slice('speed,load\n'.length)).join(''), rowsText);
    assert.equal(splitCsvBody(Buffer.from('1,2\n'), 'text/csv', features, 2), undefined);
    assert.equal(splitCsvBody(Buffer.from(`"1",2\n${rowsText}`), 'text/csv', features, 2), undefined);
    assert.equal(splitCsvBody(Buffer.from(rowsText), 'application/json', features, 2), undefined);
  });
  test('a part holding only whitespace lines is dropped (as its trimmed text would be empty); any other byte keeps it', () => {
    const rowsText = Array.from({ length: 20_000 }, (_, i) => `${i},${i % 7}`).join('\n') + '\n';
    const blankTail = ' \t\r\n\v\f\n'.repeat(100_000);
    // the second half is blank: one part left, so the body is not split
    assert.equal(splitCsvBody(Buffer.from(rowsText + blankTail), 'text/csv', features, 2), undefined);
    const kept = splitCsvBody(Buffer.from(rowsText + blankTail + 'x\n'), 'text/csv', features, 2)!;
    assert.equal(kept.length, 2);
    assert.equal(Buffer.concat(kept).toString(), rowsText + blankTail + 'x\n');
  });
  test('merges JSON and CSV results in order; any failed part means no merge', () => {
    const ok = (body: string, rows: number) => ({ status: 200, headers: { 'content-type': 'application/json' }, body, rows });
    assert.deepEqual(mergeResults([ok('{"predictions":[1,2]}', 2), ok('{"predictions":[3]}', 1)]), ok('{"predictions":[1,2,3]}', 3));
    const c = (body: string) => ({ status: 200, headers: { 'content-type': 'text/csv' }, body, rows: 1 });
    assert.equal(mergeResults([c('1\n'), c('2\n')])!.body, '1\n2\n');
    assert.equal(mergeResults([ok('{"predictions":[1]}', 1), { status: 400, headers: {}, body: '{}' }]), undefined);
  });
});

describe('settings', () => {
  test('flags beat SAGEMAKER_* which beat MODEL_SERVER_*; defaults 8080 / 5 s / 6 MB', () => {
    assert.deepEqual(resolveSettings({}, {}), { port: 8080, host: '127.0.0.1', workers: undefined, timeoutMs: 5000, maxBodyBytes: 6 * 1024 * 1024 });
    const env = { SAGEMAKER_BIND_TO_PORT: '9000', MODEL_SERVER_TIMEOUT: '30', MODEL_SERVER_WORKERS: '3', SAGEMAKER_MODEL_SERVER_WORKERS: '4' };
    assert.deepEqual(resolveSettings({}, env), { port: 9000, host: '127.0.0.1', workers: 4, timeoutMs: 30_000, maxBodyBytes: 6 * 1024 * 1024 });
    assert.deepEqual(resolveSettings({ port: '81', timeout: '250ms', 'max-body': '512kb', workers: '1' }, env), { port: 81, host: '127.0.0.1', workers: 1, timeoutMs: 250, maxBodyBytes: 512 * 1024 });
    assert.throws(() => resolveSettings({ workers: '0' }, {}), /positive integer/);
  });
});

describe('data capture', () => {
  test('samples, rotates by size and by hour, and deletes the oldest files beyond the bounds', async () => {
    const capDir = join(dir, 'cap');
    let now = new Date('2026-03-01T10:59:58.000Z');
    let r = 0;
    const randoms = [0.05, 0.5]; // alternate: captured, not captured (sampleRate 0.1)
    const cap = new CaptureWriter({ dir: capDir, sampleRate: 0.1, maxFileBytes: 1500, maxFiles: 4, flushIntervalMs: 10_000, now: () => now, random: () => randoms[r++ % 2]! });
    const ev = (i: number) => ({ endpoint: 'press energy', modelVersion: 'v1', inputContentType: 'text/csv', input: `${i},1\n`, outputContentType: 'application/json', output: `{"predictions":[${i}]}` });
    assert.equal(cap.offer(ev(0)), true);
    assert.equal(cap.offer(ev(1)), false);
    await cap.flush();
    now = new Date('2026-03-01T11:00:01.000Z'); // next hour: new directory
    for (let i = 2; i < 60; i++) {
      cap.offer(ev(i));
      await cap.flush();
    }
    await cap.close();
    const files = (await listCaptureFiles(capDir)).sort((a, b) => a.path.localeCompare(b.path));
    assert.equal(files.length, 4, 'bounded to maxFiles');
    assert.ok(files.every((f) => f.bytes <= 1500));
    assert.ok(files.every((f) => f.path.includes(join('press_energy', 'AllTraffic', '2026', '03', '01', '11'))), 'oldest (hour 10) deleted first');
    const lines = (await Promise.all(files.map((f) => readFile(f.path, 'utf8')))).join('').trim().split('\n');
    const recs = lines.map((l) => JSON.parse(l) as CaptureRecord);
    // Every other offer was sampled (even i); the newest ones survive, none is lost in between.
    const kept = recs.map((x) => Number(x.captureData.endpointInput.data.split(',')[0])).sort((a, b) => a - b);
    assert.equal(kept.at(-1), 58);
    kept.forEach((v, i) => assert.equal(v, kept[0]! + 2 * i));
    assert.deepEqual(recs[0]!.captureData.endpointOutput.mode, 'OUTPUT');
    assert.equal(recs[0]!.eventMetadata.modelVersion, 'v1');
    assert.equal(recs[0]!.eventVersion, '0');
  });

  test('rotates by age within an hour', async () => {
    let now = new Date('2026-03-01T10:00:00.000Z');
    const cap = new CaptureWriter({ dir: join(dir, 'cap-age'), sampleRate: 1, maxFileAgeMs: 60_000, now: () => now });
    const ev = { endpoint: 'm', inputContentType: 'text/csv', input: '1,2\n', outputContentType: 'application/json', output: '{"predictions":[1]}' };
    cap.offer(ev);
    await cap.flush();
    now = new Date('2026-03-01T10:00:59.000Z');
    cap.offer(ev);
    await cap.flush();
    assert.equal((await listCaptureFiles(join(dir, 'cap-age'))).length, 1, 'same file within the age limit');
    now = new Date('2026-03-01T10:01:01.000Z');
    cap.offer(ev);
    await cap.close();
    assert.equal((await listCaptureFiles(join(dir, 'cap-age'))).length, 2, 'new file after maxFileAgeMs');
  });

  test('non-text bodies are stored as BASE64', async () => {
    const cap = new CaptureWriter({ dir: join(dir, 'cap2'), sampleRate: 1 });
    cap.offer({ endpoint: 'm', inputContentType: 'text/csv', input: Uint8Array.from([0xff, 0x00]), outputContentType: 'application/json', output: '{}' });
    await cap.close();
    const [f] = await listCaptureFiles(join(dir, 'cap2'));
    const rec = JSON.parse(await readFile(f!.path, 'utf8')) as CaptureRecord;
    assert.deepEqual(rec.captureData.endpointInput, { observedContentType: 'text/csv', mode: 'INPUT', data: '/wA=', encoding: 'BASE64' });
  });
});
