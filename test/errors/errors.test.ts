// The one error-code table: every code complete, docs/errors.md in step with it, and errors
// surviving a real worker-thread round trip through toJSON()/fromJSON().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import {
  ERROR_CODES, MillwrightError, errorCodesMarkdown, exitCodeFor, exitCodesSummary, httpStatusFor, isKnownErrorCode, type ErrorCode, type MillwrightErrorJSON,
} from '../../lib/errors/index.ts';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

test('every code has an HTTP status, an exit code and a description', () => {
  for (const code of codes) {
    const e: { status?: unknown; exit?: unknown; summary?: unknown } = ERROR_CODES[code];
    assert.ok(Number.isInteger(e.status) && (e.status as number) >= 400 && (e.status as number) < 600, `${code}: status`);
    assert.ok(Number.isInteger(e.exit) && (e.exit as number) > 0, `${code}: exit code`);
    assert.ok(typeof e.summary === 'string' && e.summary.length > 10, `${code}: description`);
  }
  assert.deepEqual([httpStatusFor('INTEGRITY'), httpStatusFor('USAGE'), exitCodeFor('USAGE'), exitCodeFor('INTERNAL')], [500, 400, 2, 1]);
  // A deliberate check failure must be distinguishable from a crash and from a usage error.
  assert.ok(![exitCodeFor('INTERNAL'), exitCodeFor('USAGE')].includes(exitCodeFor('CHECK_FAILED')));
  assert.equal(exitCodesSummary(), 'Exit codes: 0 ok, 1 failure, 2 usage error, 3 check failed (e.g. report --fail-on).');
  assert.equal(isKnownErrorCode('ENOENT'), false);
});

test('docs/errors.md is generated from the table (run npm run docs:tables after changing it)', async () => {
  const onDisk = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  assert.equal(onDisk, errorCodesMarkdown(), 'docs/errors.md is out of date: run npm run docs:tables');
  for (const code of codes) assert.match(onDisk, new RegExp(`\`${code}\``));
});

test('toJSON/fromJSON: code, message, details and the cause message survive a worker thread', async () => {
  // tsx's hooks do not reach worker threads by themselves: register them inside the thread.
  const tsx = import.meta.resolve('tsx/esm/api');
  const file = new URL('./fixtures/error-worker.ts', import.meta.url).href;
  const worker = new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(file)}); })`, { eval: true });
  const messages: MillwrightErrorJSON[] = [];
  await new Promise<void>((resolve, reject) => {
    worker.on('message', (m: MillwrightErrorJSON) => {
      messages.push(m);
      if (messages.length === 2) resolve();
    });
    worker.on('error', reject);
  });
  await worker.terminate();
  const e = MillwrightError.fromJSON(messages[0]!);
  assert.ok(e instanceof MillwrightError);
  assert.deepEqual([e.code, e.message, e.details, (e.cause as Error).message], ['INTEGRITY', 'model v3 failed verification', { file: 'forest.bin' }, 'checksum mismatch in forest.bin']);
  const crash = MillwrightError.fromJSON(messages[1]!);
  assert.deepEqual([crash.code, crash.message, (crash.cause as Error).message], ['INTERNAL', 'disk full', 'disk full']);
  // A code from another build is not passed on unmapped.
  assert.equal(MillwrightError.fromJSON({ name: 'MillwrightError', code: 'NOPE' as ErrorCode, message: 'x' }).code, 'INTERNAL');
});
