// Reading the capture: the writer-layout scanner gives what JSON.parse gives, and the numeric
// fast path gives what the general parser gives, on mixed and awkward records.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { captureRecord } from '../../lib/capture/index.ts';
import { quickCaptureLine } from '../../reports/capture-line.ts';
import { readCapture } from '../../reports/capture.ts';

const at = new Date(Date.UTC(2026, 11, 2, 3, 4, 5, 6));
const lines = [
  captureRecord({ endpoint: 'm', modelVersion: '3', inferenceId: 'order 7/"x"', eventId: 'e1', inferenceTime: at, inputContentType: 'text/csv', input: '1.5,2\n3,4e1\n', outputContentType: 'application/json', output: '{"predictions":[1,2]}' }),
  captureRecord({ endpoint: 'm', eventId: 'e2', inferenceTime: at, inputContentType: 'application/json', input: '{"instances":[{"a":1,"b":"q\\\\z"}]}', outputContentType: 'application/json', output: '{"predictions":[{"expected":3,"best":2}]}' }),
  captureRecord({ endpoint: 'm', eventId: 'e3', inferenceTime: at, inputContentType: 'application/octet-stream', input: new Uint8Array([0, 255, 7]), outputContentType: 'text/csv', output: '5\n' }),
  captureRecord({ endpoint: 'm', eventId: 'e4', inferenceId: 'tab\tx', inferenceTime: at, inputContentType: 'text/csv', input: 'a,b\n1,2\n', outputContentType: 'text/csv', output: '9\n' }),
].map((r) => JSON.stringify(r));

test('the scanner reads the writer\'s own lines exactly as JSON.parse does, and declines any other line', () => {
  let taken = 0;
  for (const line of lines) {
    const q = quickCaptureLine(line);
    const j = JSON.parse(line) as { captureData: { endpointInput: Record<string, unknown>; endpointOutput: Record<string, unknown> }; eventMetadata: Record<string, unknown> };
    if (q === undefined) continue;
    taken++;
    for (const side of ['endpointInput', 'endpointOutput'] as const) {
      for (const k of ['observedContentType', 'data', 'encoding'] as const) assert.equal(q.captureData[side][k], j.captureData[side][k], `${side}.${k}`);
    }
    for (const k of ['eventId', 'inferenceId', 'inferenceTime'] as const) assert.equal(q.eventMetadata[k], j.eventMetadata[k], k);
  }
  assert.ok(taken >= 2, `${taken} of ${lines.length} taken by the scanner`);
  assert.equal(taken, lines.length, 'newlines, tabs, quotes and backslashes are decoded');
  // A \u escape is left to JSON.parse.
  const u = JSON.stringify(captureRecord({ endpoint: 'm', eventId: 'x\u0001y', inferenceTime: at, inputContentType: 'text/csv', input: '1', outputContentType: 'text/csv', output: '1' }));
  assert.match(u, /\\u0001/);
  assert.equal(quickCaptureLine(u), undefined);
  // A long body with one escape per row stays linear (a 10,000-row batch).
  const big = JSON.stringify(captureRecord({ endpoint: 'm', eventId: 'b', inferenceTime: at, inputContentType: 'text/csv', input: '1,2\n'.repeat(10_000), outputContentType: 'text/csv', output: '1' }));
  assert.equal(quickCaptureLine(big)!.captureData.endpointInput.data, '1,2\n'.repeat(10_000));
  // A torn line, another key order, whitespace: declined.
  assert.equal(quickCaptureLine(lines[0]!.slice(0, -5)), undefined);
  assert.equal(quickCaptureLine(JSON.stringify(JSON.parse(lines[0]!), null, 1)), undefined);
  const j = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(quickCaptureLine(JSON.stringify({ eventVersion: '0', ...j })), undefined);
});

test('readCapture: numeric CSV records (fast path) mixed with JSON, BASE64, header CSV and torn lines give the general parser\'s table', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-capread-'));
  try {
    const features = [{ name: 'a', type: 'number' as const }, { name: 'b', type: 'number' as const }];
    const rec = (input: string, ct: string, out: string, id: string) => JSON.stringify(captureRecord({ endpoint: 'm', eventId: id, inferenceTime: at, inputContentType: ct, input, outputContentType: 'application/json', output: out }));
    const sub = join(dir, 'm', 'AllTraffic', '2026', '12', '02', '03');
    await mkdir(sub, { recursive: true });
    const body = [
      rec('1,2\n3,4\n', 'text/csv', '{"predictions":[10,20]}', 'n1'),
      rec('5,6', 'text/csv', '{"predictions":[30]}', 'n2'),
      rec('{"instances":[{"a":7,"b":8}]}', 'application/json', '{"predictions":[40]}', 'j1'),
      rec('b,a\n9,10\n', 'text/csv', '{"predictions":[50]}', 'h1'),
      rec('11,12', 'text/csv', '{"predictions":[60]}', 'n3'),
      rec('11,12', 'text/csv', '{"predictions":[60]}', 'torn').slice(0, -9),
      rec('13,x', 'text/csv', '{"predictions":[70]}', 'bad'),
    ].join('\n');
    await writeFile(join(sub, 'a.jsonl'), `${body}\n`);
    const r = await readCapture(join(dir, 'm'), { features });
    assert.equal(r.frame.rows, 6);
    assert.deepEqual(Array.from(r.frame.columns.get('a')!.values as ArrayLike<number>), [1, 3, 5, 7, 10, 11]);
    assert.deepEqual(Array.from(r.frame.columns.get('b')!.values as ArrayLike<number>), [2, 4, 6, 8, 9, 12]);
    assert.deepEqual(Array.from(r.frame.columns.get('prediction')!.values as ArrayLike<number>), [10, 20, 30, 40, 50, 60]);
    assert.deepEqual(r.frame.columns.get('inferenceId')!.values, ['n1', 'n1', 'n2', 'j1', 'h1', 'n3']);
    assert.deepEqual(r.skipped.map((s) => s.line), [6, 7]);
    // Predictions read without JSON.parse are JSON.parse's numbers; a malformed body is still an error.
    const odd = ['1e-7', '-0', '12345678901234567890', '0.1', '2.5E+3'];
    await writeFile(join(sub, 'a.jsonl'), `${[
      ...odd.map((p, i) => rec('1,2', 'text/csv', `{"predictions":[${p}]}`, `p${i}`)),
      rec('1,2', 'text/csv', '{"predictions":[1,]}', 'bad1'),
      rec('1,2', 'text/csv', '{"predictions":[01]}', 'bad2'),
    ].join('\n')}\n`);
    const p = await readCapture(join(dir, 'm'), { features });
    assert.deepEqual(Array.from(p.frame.columns.get('prediction')!.values as ArrayLike<number>), odd.map((x) => JSON.parse(x) as number));
    assert.ok(Object.is((p.frame.columns.get('prediction')!.values as ArrayLike<number>)[1], -0));
    assert.deepEqual(p.skipped.map((s) => s.line), [6, 7]);
    // Numeric records only: the unboxed columns.
    await writeFile(join(sub, 'a.jsonl'), `${[rec('1,2\n3,4\n', 'text/csv', '{"predictions":[10,20]}', 'n1'), rec('5,6', 'text/csv', '{"predictions":[30]}', 'n2')].join('\n')}\n`);
    const n = await readCapture(join(dir, 'm'), { features });
    assert.deepEqual(Array.from(n.frame.columns.get('b')!.values as ArrayLike<number>), [2, 4, 6]);
    assert.deepEqual(Array.from(n.frame.columns.get('capturedAt')!.values as ArrayLike<number>), [at.getTime(), at.getTime(), at.getTime()]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
