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
import { isoTimeAt, jsonNumberAt, scanCaptureLine } from '../../reports/capture-scan.ts';

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

test('readCapture from the bytes (capture-scan) gives the string path\'s table on every kind of line; scanCaptureLine declines what it must', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-capscan-'));
  try {
    const features = [{ name: 'a', type: 'number' as const }, { name: 'b', type: 'number' as const }];
    const t = (ms: number) => new Date(Date.UTC(2026, 11, 2, 3) + ms);
    const rec = (o: { input?: string; ct?: string; out?: string; outCt?: string; id?: string; eventId?: string; ms?: number }) => JSON.stringify(captureRecord({
      endpoint: 'm', modelVersion: '1', eventId: o.eventId ?? `e${Math.random()}`, ...(o.id !== undefined ? { inferenceId: o.id } : {}), inferenceTime: t(o.ms ?? 0),
      inputContentType: o.ct ?? 'text/csv', input: o.input ?? '1.25,-2e3', outputContentType: o.outCt ?? 'application/json', output: o.out ?? '{"predictions":[0.5]}',
    }));
    const good = rec({ id: 'i-0', eventId: 'e-0', input: '3.5,4', out: '{"predictions":[7.25]}' });
    const variants = [
      good,
      rec({ eventId: 'no-inference-id' }),
      rec({ id: 'quote "q"', eventId: 'e-q' }),
      rec({ id: 'caf\u00e9', eventId: 'e-u' }),
      rec({ id: 'x\u0001y', eventId: 'e-ctl' }),
      rec({ input: ' 1 , 2 ', eventId: 'e-sp' }),
      rec({ input: '0.1,12345678901234567890', out: '{"predictions":[-0]}', eventId: 'e-long' }),
      rec({ input: '1,2\n', eventId: 'e-nl' }),
      rec({ input: 'a,b\n5,6', eventId: 'e-head' }),
      rec({ input: 'b,a\n5,6', eventId: 'e-swap' }),
      rec({ input: '1,2\n3,4', out: '{"predictions":[1,2]}', eventId: 'e-two' }),
      rec({ input: '1,2', out: '{"predictions":[1,2]}', eventId: 'e-mismatch' }),
      rec({ input: '1,2', out: '{"predictions":[01]}', eventId: 'e-badnum' }),
      rec({ input: '7,2.5', eventId: 'e-int' }),
      rec({ input: '1,x', eventId: 'e-badcell' }),
      rec({ input: '1,2,3', eventId: 'e-wide' }),
      rec({ input: '1', eventId: 'e-narrow' }),
      rec({ outCt: 'text/csv', out: '5', eventId: 'e-csvout' }),
      rec({ ct: 'application/json', input: '{"instances":[{"a":1,"b":2}]}', eventId: 'e-json' }),
      rec({ ms: -1, eventId: 'e-before' }),
      rec({ ms: 3_600_000, eventId: 'e-after' }),
      rec({ eventId: 'e-last', ms: 3_599_999 }),
      `  ${good}`,
      `${good}\r`,
      `\uFEFF${good}`,
      good.replace('"inferenceTime":"', '"inferenceTime":"x'),
      good.slice(0, -3),
      '',
      '   ',
      'not json',
    ];
    const sub = join(dir, 'm', 'AllTraffic', '2026', '12', '02', '03');
    await mkdir(sub, { recursive: true });
    // Every variant after a run of good lines (the scanner only takes over once the columns exist), twice over.
    const body = [good, good, ...variants, good, ...[...variants].reverse(), good].join('\n');
    await writeFile(join(sub, 'a.jsonl'), body);
    await writeFile(join(sub, 'b.jsonl'), `${body}\n`);
    const integerA = [{ name: 'a', type: 'integer' as const }, { name: 'b', type: 'number' as const }];
    for (const [feats, window] of [[features, {}], [features, { from: Date.UTC(2026, 11, 2, 3), to: Date.UTC(2026, 11, 2, 4) }], [integerA, {}]] as const) {
      const scanned = await readCapture(join(dir, 'm'), { features: [...feats], ...window });
      const plain = await readCapture(join(dir, 'm'), { features: [...feats], ...window, scan: false });
      assert.deepEqual(scanned, plain);
      assert.ok(scanned.frame.rows > (feats === integerA ? 10 : 40) && scanned.skipped.length > 10, `${scanned.frame.rows} rows, ${scanned.skipped.length} skipped`);
    }
    // The line scanner itself: the writer's line, and each kind it must leave to the string path.
    const buf = (s: string) => Buffer.from(s, 'utf8');
    const g = buf(good);
    const sg = scanCaptureLine(g, 0, g.length, features)!;
    assert.deepEqual({ x: sg.x, prediction: sg.prediction, time: sg.time, eventId: g.toString('latin1', sg.eventStart, sg.eventEnd), inferenceId: g.toString('latin1', sg.idStart, sg.idEnd) },
      { x: Float64Array.from([3.5, 4]), prediction: 7.25, time: t(0).getTime(), eventId: 'e-0', inferenceId: 'i-0' });
    const inLine = buf(`xx${good}\nyy`);
    const si = scanCaptureLine(inLine, 2, 2 + g.length, features)!;
    assert.equal(inLine.toString('latin1', si.eventStart, si.eventEnd), 'e-0');
    const noId = buf(variants[1]!);
    assert.equal(scanCaptureLine(noId, 0, noId.length, features)!.idStart, -1);
    for (const v of [variants[2]!, variants[3]!, variants[4]!, variants[7]!, variants[8]!, variants[10]!, variants[11]!, variants[12]!, variants[17]!, variants[18]!, `  ${good}`, `${good}\r`, good.slice(0, -3)]) {
      const b = buf(v);
      assert.equal(scanCaptureLine(b, 0, b.length, features), undefined, v);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('business keys: read from JSON (instances, records, dataframe_split, JSON Lines) and header CSV bodies, null where a row lacks one', async () => {
  const { captureKeyValues } = await import('../../reports/capture-keys.ts');
  assert.deepEqual(captureKeyValues('{"instances":[{"a":1,"lot":"L7"},{"a":2}]}', 'json', ['lot'], 2), [['L7', null]]);
  assert.deepEqual(captureKeyValues('{"dataframe_split":{"columns":["a","lot","t"],"data":[[1,"L1",5],[2,"L2",6]]}}', 'json', ['lot', 't'], 2), [['L1', 'L2'], [5, 6]]);
  assert.deepEqual(captureKeyValues('{"a":1,"lot":{"nested":1}}\n{"a":2,"lot":"L9"}\n', 'jsonl', ['lot'], 2), [[null, 'L9']]);
  assert.deepEqual(captureKeyValues('a,"lot",b\n1,"L,1",2\n3,,4\n', 'csv', ['lot'], 2), [['L,1', null]]);
  assert.deepEqual(captureKeyValues('1,2\n3,4\n', 'csv', ['lot'], 2), [[null, null]], 'a headerless CSV names no key');
  assert.deepEqual(captureKeyValues('not json', 'json', ['lot'], 1), [[null]]);
  // Through readCapture: the key column sits beside the features; the records without it still count.
  const dir = await mkdtemp(join(tmpdir(), 'mw-capkeys-'));
  try {
    const recs = [
      captureRecord({ endpoint: 'm', eventId: 'k1', inferenceTime: at, inputContentType: 'application/json', input: '{"instances":[{"a":1,"b":2,"lot":"L1"}]}', outputContentType: 'application/json', output: '{"predictions":[3]}' }),
      captureRecord({ endpoint: 'm', eventId: 'k2', inferenceTime: at, inputContentType: 'text/csv', input: '4,5\n', outputContentType: 'application/json', output: '{"predictions":[6]}' }),
    ];
    await writeFile(join(dir, 'c.jsonl'), recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const features = [{ name: 'a', type: 'number' as const }, { name: 'b', type: 'number' as const }];
    const r = await readCapture(join(dir, 'c.jsonl'), { features, keys: ['lot'] });
    assert.equal(r.records, 2);
    assert.deepEqual(r.frame.columns.get('lot')!.values, ['L1', null]);
    assert.deepEqual([...(r.frame.columns.get('a')!.values as Float64Array)], [1, 4]);
    assert.equal((await readCapture(join(dir, 'c.jsonl'), { features })).frame.columns.has('lot'), false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the scanner\'s number and time readers give JSON.parse\'s numbers and Date.parse\'s times, or decline', () => {
  const b = (x: string) => Buffer.from(`[${x}]`, 'latin1');
  const numbers = ['0', '-0', '1', '-1', '7.25', '0.1', '0.3', '1e-7', '2.5E+3', '1E22', '1e23', '9007199254740993', '123456789012345', '1234567890123456',
    '12345678901234567890', '27.123456789012345', '9007199254740991', '9007199254740992', '9007199254740993', '0.9007199254740993', '4503599627370497.5',
    '900719925474099.3', '1.0000000000000002', '0.30000000000000004', '123.45678901234567e-3', '1000000000000000000000e-22', '-3.0000000000000004', '5e-324', '1.7976931348623157e308', '1e400', '-1e400', '0.000001', '1e000001', '00', '01', '1.', '.5',
    '+1', '-', '1e', '1e+', '--1', '1.2.3', ' 1', '1 ', 'NaN', 'Infinity', '0x10', '1_0', ''];
  const r = (() => { let s = 7; return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296); })();
  for (let i = 0; i < 2000; i++) {
    const v = (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
    numbers.push(String(v), v.toFixed(Math.floor(r() * 8)), v.toExponential(Math.floor(r() * 17)), String(Math.round(v)));
  }
  for (const x of numbers) {
    const buf = b(x);
    // The strict grammar or nothing (' 1' is JSON.parse's 1, but the scanner leaves it to the string path).
    const want = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(x) ? (JSON.parse(x) as number) : Number.NaN;
    assert.ok(Object.is(jsonNumberAt(buf, 1, buf.length - 1), want), `${x}: ${jsonNumberAt(buf, 1, buf.length - 1)} vs ${want}`);
  }
  const times = ['2026-12-02T03:04:05.006Z', '1970-01-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z', '2026-02-29T00:00:00.000Z', '2026-02-30T00:00:00.000Z',
    '2026-04-31T00:00:00.000Z', '2026-12-01T24:00:00.000Z', '2026-12-01T23:59:60.000Z', '2026-13-01T00:00:00.000Z', '2026-00-01T00:00:00.000Z', '2026-01-00T00:00:00.000Z',
    '1969-12-31T23:59:59.999Z', '0000-01-01T00:00:00.000Z', '2100-02-29T00:00:00.000Z', '2000-02-29T00:00:00.000Z', '2026-12-02T03:04:05Z', '2026-12-02T03:04:05.006+01:00',
    '2026-12-02 03:04:05.006Z', '2026-12-02T03:04:05.00xZ', 'x026-12-02T03:04:05.006Z', '+002026-12-02T03:04:05.006Z', '2026-12-02', 'not a time', ''];
  for (let i = 0; i < 2000; i++) times.push(new Date(Math.floor(r() * 8e12 - 1e12)).toISOString());
  for (const x of times) {
    const buf = Buffer.from(`"${x}"`, 'latin1');
    assert.ok(Object.is(isoTimeAt(buf, 1, buf.length - 1), Date.parse(x)), `${x}: ${isoTimeAt(buf, 1, buf.length - 1)} vs ${Date.parse(x)}`);
  }
});

test('readCapture reads files in chunks: lines across chunk boundaries and a line longer than a chunk give the string path\'s table', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-capchunk-'));
  try {
    const features = [{ name: 'a', type: 'number' as const }, { name: 'b', type: 'number' as const }];
    const sub = join(dir, 'm', 'AllTraffic', '2026', '12', '02', '03');
    await mkdir(sub, { recursive: true });
    const rec = (i: number, input: string, output = `{"predictions":[${i / 7}]}`) => JSON.stringify(captureRecord({ endpoint: 'm', eventId: `e${i}`, inferenceId: `i${i}`,
      inferenceTime: new Date(Date.UTC(2026, 11, 2, 3) + i), inputContentType: 'text/csv', input, outputContentType: 'application/json', output }));
    const lines: string[] = [];
    for (let i = 0; i < 12_000; i++) lines.push(rec(i, `${i % 97},${(i * 1.5).toFixed(2)}`));
    // A 2.5 MiB line (a 300,000-row batch) in the middle, and one that is not a record.
    lines.splice(6_000, 0, rec(-1, '1,2\n'.repeat(300_000), `{"predictions":[${Array(300_000).fill(3).join(',')}]}`), 'torn');
    await writeFile(join(sub, 'a.jsonl'), lines.join('\n'));
    await writeFile(join(sub, 'b.jsonl'), `${lines.slice(0, 3_000).join('\n')}\n`);
    const scanned = await readCapture(join(dir, 'm'), { features });
    const plain = await readCapture(join(dir, 'm'), { features, scan: false });
    assert.equal(scanned.frame.rows, 12_000 + 300_000 + 3_000);
    assert.deepEqual(scanned.skipped, [{ file: join(sub, 'a.jsonl'), line: 6_002, reason: scanned.skipped[0]!.reason }]);
    assert.deepEqual(scanned, plain);
    // And what the lines hold, independently of the reader's chunking.
    const ids = [...Array.from({ length: 6_000 }, (_, i) => `i${i}`), ...Array<string>(300_000).fill('i-1'), ...Array.from({ length: 6_000 }, (_, i) => `i${6_000 + i}`), ...Array.from({ length: 3_000 }, (_, i) => `i${i}`)];
    assert.deepEqual(scanned.frame.columns.get('inferenceId')!.values, ids);
    const a = scanned.frame.columns.get('a')!.values as Float64Array;
    const b = scanned.frame.columns.get('b')!.values as Float64Array;
    const p = scanned.frame.columns.get('prediction')!.values as Float64Array;
    ids.forEach((id, r) => {
      const i = Number(id.slice(1));
      if (i < 0) assert.ok(a[r] === 1 && b[r] === 2 && p[r] === 3);
      else assert.ok(a[r] === i % 97 && b[r] === Number((i * 1.5).toFixed(2)) && p[r] === i / 7, `row ${r}`);
    });
    // Only scanned records: the same table as the string path too.
    await writeFile(join(sub, 'a.jsonl'), lines.slice(0, 5_000).join('\n'));
    assert.deepEqual(await readCapture(join(dir, 'm'), { features }), await readCapture(join(dir, 'm'), { features, scan: false }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
