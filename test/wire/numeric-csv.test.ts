// The numeric CSV fast path (lib/wire/numeric-csv.ts) against the general parser it short-cuts
// (parseInput): the same values for everything it accepts, and for everything else it declines,
// so parseInput gives its usual answer or error. Also the server-side route end to end
// (serve/invocations.ts) on a real forest model: same bodies out of both paths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNumericCsv, readNumericRecord, readQuotedNumericRecord } from '../../lib/wire/numeric-csv.ts';
import { parseInput } from '../../lib/wire/parse-input.ts';
import { formatNumbers, formatPredictions } from '../../lib/wire/format-output.ts';
import type { FeatureSpec, LoadedModel } from '../../lib/model/contract.ts';
import { loadModel, trainPackage } from '../../lib/model/index.ts';
import { invocations } from '../../serve/invocations.ts';
import { syntheticTable, synthetic } from '../algorithms/fixtures.ts';

const feats: FeatureSpec[] = [
  { name: 'a', type: 'number' },
  { name: 'b', type: 'number' },
  { name: 'c', type: 'number' },
];

/** What parseInput makes of the body: row-major values, or its error message. */
function general(text: string, features: FeatureSpec[]): number[] | string {
  try {
    const { table, rows } = parseInput(text, 'csv', features);
    const out: number[] = [];
    for (let r = 0; r < rows; r++) for (const f of features) out.push((table.array(f.name) as Float64Array)[r]!);
    return out;
  } catch (err) {
    return (err as Error).message;
  }
}

function fast(text: string, features: FeatureSpec[]): number[] | undefined {
  const b = parseNumericCsv(text, features);
  return b ? Array.from(b.X) : undefined;
}

test('accepted bodies give exactly the values parseInput gives', () => {
  const bodies = [
    '1,2,3\n4,5,6\n',
    '1,2,3', // no final newline
    '1,2,3\r\n4,5,6\r\n', // CRLF
    '\n\n 1 ,\t2, 3 \n   \n4,5,6\n\n', // blank lines, padding
    '-0,+1.5,.25\n1.,-.5e-3,2E+2\n', // signs, bare fractions, exponents
    '0.1,0.2,0.30000000000000004\n', // 17 significant digits: Number() decides
    '12345678901234567890,1e-400,1e-5\n', // long mantissa, underflow to 0
    '000123.4500,0.000000000000000000000001,9007199254740993\n',
    'a,b,c\n1,2,3\n', // header in order
    'c,x,a,b\n3,skip me,1,2\n6,,4,5\n', // header in another order, with an unused column
    'a,b,c\r\n1,2,3\r\n',
  ];
  for (const body of bodies) {
    const g = general(body, feats);
    assert.ok(Array.isArray(g), `${JSON.stringify(body)}: parseInput failed: ${String(g)}`);
    const f = fast(body, feats);
    assert.ok(f !== undefined, `${JSON.stringify(body)}: the fast path declined`);
    assert.equal(f.length, g.length);
    for (let i = 0; i < f.length; i++) assert.ok(Object.is(f[i], g[i]), `${JSON.stringify(body)} value ${i}: fast ${f[i]} vs general ${g[i]}`);
  }
});

test('random realistic numbers parse to the same doubles as Number()', () => {
  const d = synthetic(400, 5);
  const lines: string[] = [];
  for (let r = 0; r < 400; r++) {
    const x = d.columns.slice(0, 3).map((c, f) => (f === 0 ? String(c[r]) : f === 1 ? c[r]!.toPrecision(6) : c[r]!.toExponential(4)));
    lines.push(x.join(','));
  }
  const body = lines.join('\n');
  assert.deepEqual(fast(body, feats), general(body, feats));
});

test('headerless rows: every value is the double Number() gives, on random and edge mantissas and exponents', () => {
  // the one-pass row reader takes m / 10^k for m < 2^53, k <= 22 and Number() beyond: both must be Number()'s double
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const digits = (k: number) => Array.from({ length: k }, () => String(Math.floor(rand() * 10))).join('');
  const cells: string[] = [
    '9007199254740991', '9007199254740992', '9007199254740993', '0.9007199254740993', '900719925474099.3', '1e22', '1e23', '9007199254740991e22',
    '9007199254740991e-22', '123456789012345678', '0.1', '0.2', '0.3', '5e-324', '2.2250738585072014e-308', '1.7976931348623157e308', '0e999', '-0', '-0.0e-30',
    '0.000001', '1e-22', '1e-23', '4.35', '1.005', '.5', '5.', '+3', '-.25e+2', '00000000000000000000001.5', '1.00000000000000000000000000000001',
  ];
  for (let i = 0; i < 3000; i++) {
    const int = digits(Math.floor(rand() * 6));
    const frac = digits(Math.floor(rand() * 19));
    const exp = rand() < 0.3 ? `e${rand() < 0.5 ? '-' : ''}${Math.floor(rand() * 40)}` : '';
    const sign = rand() < 0.3 ? '-' : '';
    if (int === '' && frac === '') continue;
    cells.push(`${sign}${int}${frac ? `.${frac}` : rand() < 0.5 ? '' : '.'}${exp}`.replace(/^(-?)\.$/, '$10'));
  }
  for (let i = 0; i < 1000; i++) cells.push(String((rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20)), (rand() * 1000).toPrecision(1 + Math.floor(rand() * 17)));
  const one: FeatureSpec[] = [{ name: 'v', type: 'number' }];
  const body = Buffer.from(`${cells.join('\n')}\n`);
  const b = parseNumericCsv(body, one);
  assert.ok(b, 'declined');
  assert.equal(b.rows, cells.length);
  for (let i = 0; i < cells.length; i++) assert.ok(Object.is(b.X[i], Number(cells[i])), `${cells[i]}: ${b.X[i]} vs Number() ${Number(cells[i])}`);
  // the same cells three to a row, and with CRLF, blank lines and padding around them
  const rows3: string[] = [];
  for (let i = 0; i + 3 <= cells.length; i += 3) rows3.push(` ${cells[i]},\t${cells[i + 1]} ,${cells[i + 2]}`);
  const b3 = parseNumericCsv(Buffer.from(`\r\n${rows3.join('\r\n \t\r\n')}`), feats);
  assert.ok(b3, 'declined (3 columns)');
  assert.deepEqual(Array.from(b3.X), cells.slice(0, rows3.length * 3).map(Number));
  assert.deepEqual(general(rows3.join('\n'), feats), cells.slice(0, rows3.length * 3).map(Number));
  // bodies much shorter or longer per row than the first row (the matrix grows)
  const grown = ['1,2,3', ...Array.from({ length: 500 }, () => '1e0,2e0,3e0'), ...Array.from({ length: 500 }, () => '1,2,3')].join('\n');
  assert.equal(parseNumericCsv(grown, feats)!.rows, 1001);
  // the last line: a record without a line feed, or ending in a lone CR, reads as one with it; a
  // last line of only spaces, tabs or CRs is declined (parseInput answers it), as before
  for (const [b, rows] of [['1,2,3', 1], ['1,2,3\r', 1], ['1,2,3 \t', 1], ['1,2,3\n4,5,6 \r', 2], ['1,2,3\n\n\n', 1], ['1,2,3\n \r\n', 1]] as const) {
    assert.equal(parseNumericCsv(Buffer.from(b), feats)?.rows, rows, JSON.stringify(b));
  }
  for (const b of ['1,2,3\n   ', '1,2,3\n\r', '1,2,3\n \t\r', '1,2,3\r\r', '1,2,3\r \n', '1,2,3,']) assert.equal(parseNumericCsv(Buffer.from(b), feats), undefined, JSON.stringify(b));
  const shrunk = [`${'1'.repeat(300)},2,3`, ...Array.from({ length: 2000 }, () => '1,2,3')].join('\n');
  assert.deepEqual(Array.from(parseNumericCsv(shrunk, feats)!.X.subarray(-3)), [1, 2, 3]);
});

test('declined bodies are those parseInput answers differently or rejects, with its own error', () => {
  const cases: [string, RegExp | 'ok'][] = [
    ['"1",2,3\n', 'ok'], // quoted: the general parser takes it
    ['1,2\n', /expected 3 value/],
    ['1,2,3,4\n', /expected 3 value/],
    ['1,,3\n', /feature "b".*empty/],
    ['1,x,3\n', /feature "b".*"x"/],
    ['1,Infinity,3\n', /feature "b"/],
    ['1,0x10,3\n', 'ok'], // Number() reads hex; the fast path leaves it to the general parser
    ['1,1e999,3\n', /feature "b"/],
    ['1,2,3\n4,5\n', /row 2 \(line 2\)/],
    ['a,b\n1,2\n', /missing feature\(s\) c/],
    ['a,b,c\n', /header row but no data rows/],
    ['1,2,3,\n', /expected 3 value/],
    ['1,\u00a02,3\n', 'ok'], // non-ASCII space: trimmed by the general parser only
    ['1,2\v,3\n', 'ok'],
    ['   \n', /empty request body/],
  ];
  for (const [body, expect] of cases) {
    assert.equal(fast(body, feats), undefined, `${JSON.stringify(body)}: the fast path should decline`);
    const g = general(body, feats);
    if (expect === 'ok') assert.ok(Array.isArray(g), `${JSON.stringify(body)}: ${String(g)}`);
    else assert.match(String(g), expect, JSON.stringify(body));
  }
  // integer features: whole numbers pass, fractions are left to the general parser's error
  const ints: FeatureSpec[] = [{ name: 'n', type: 'integer' }];
  assert.deepEqual(fast('3\n-4\n', ints), [3, -4]);
  assert.equal(fast('3.5\n', ints), undefined);
  assert.match(String(general('3.5\n', ints)), /expected an integer/);
  // bytes as the server hands them over: the same values; non-ASCII bytes are declined
  assert.deepEqual(Array.from(parseNumericCsv(Buffer.from('a,b,c\r\n1,2.5,-3e2\n'), feats)!.X), [1, 2.5, -300]);
  assert.equal(parseNumericCsv(Buffer.from('1,2,3\n4,5,6\u00e9\n'), feats), undefined);
  // non-numeric features never take the fast path
  assert.equal(fast('x\n', [{ name: 's', type: 'string' }]), undefined);
});

test('readNumericRecord: true exactly on one-record bodies parseNumericCsv reads as one row, with its values', () => {
  const d = synthetic(200, 5);
  const bodies = [
    '1,2,3', ' 1 ,\t2, 3 ', '-0,+1.5,.25', '1.,-.5e-3,2E+2', '0.1,0.2,0.30000000000000004', '12345678901234567890,1e-400,1e-5',
    '000123.4500,0.000000000000000000000001,9007199254740993',
    ...Array.from({ length: 200 }, (_, r) => [String(d.columns[0]![r]), d.columns[1]![r]!.toPrecision(6), d.columns[2]![r]!.toExponential(4)].join(',')),
    // declined: not one plain record of 3 numbers
    '1,2', '1,2,3,4', '1,,3', '1,x,3', '1,Infinity,3', '1,0x10,3', '1,1e999,3', '"1",2,3', 'a,b,c', '1,2,3,', '1,2,3\n', '1,2,3\r', '', '1,2\n3', '1,\u00a02,3',
  ];
  const out = new Float64Array(3);
  let taken = 0;
  for (const body of bodies) {
    const ok = readNumericRecord(Buffer.from(body, 'utf8'), out);
    const b = parseNumericCsv(body, feats);
    if (ok) {
      taken++;
      assert.ok(b && b.rows === 1, JSON.stringify(body));
      for (let k = 0; k < 3; k++) assert.ok(Object.is(out[k], b.X[k]), `${JSON.stringify(body)} value ${k}: ${out[k]} vs ${b.X[k]}`);
    } else {
      assert.ok(!b || b.rows !== 1 || /[\r\n]/.test(body), `${JSON.stringify(body)}: parseNumericCsv reads one row but readNumericRecord declined`);
    }
  }
  assert.equal(taken, 207);
  assert.equal(readNumericRecord(Buffer.from('1'), new Float64Array(0)), false);
});

test('readQuotedNumericRecord: the same answer and values as readNumericRecord on a record ending at a quote', () => {
  const d = synthetic(200, 5);
  let seed = 11;
  const u = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  const pieces = ['0', '7', '12', '-', '+', '.', 'e', 'E', 'e-', '3', ' ', '\t', ',', '"', '\r', '\n', 'x', '1e308', '9007199254740993', '00', '.5'];
  const bodies = [
    '1,2,3', ' 1 ,\t2, 3 ', '-0,+1.5,.25', '1.,-.5e-3,2E+2', '0.1,0.2,0.30000000000000004', '12345678901234567890,1e-400,1e-5',
    '000123.4500,0.000000000000000000000001,9007199254740993', '1,2', '1,2,3,4', '1,,3', '1,x,3', '1,Infinity,3', '1,0x10,3', '1,1e999,3',
    '1,2,3,', '1,2,3\n', '1,2,3\r', '', '1,2\n3', '1,2,3 ', '1,2,3\t', '1,2,"3', '1 2,3,4', '-,1,2', '1e,2,3', '.,1,2', '+.e1,2,3',
    ...Array.from({ length: 200 }, (_, r) => [String(d.columns[0]![r]), d.columns[1]![r]!.toPrecision(6), d.columns[2]![r]!.toExponential(4)].join(',')),
    // Random strings over the grammar's characters: most are declined, some taken; both readers must agree.
    ...Array.from({ length: 3000 }, () => Array.from({ length: 1 + Math.floor(u() * 12) }, () => pieces[Math.floor(u() * pieces.length)]).join('')),
  ];
  const a = new Float64Array(3);
  const b = new Float64Array(3);
  let taken = 0;
  for (const body of bodies) {
    // As in a capture line: the record inside a JSON string, bytes after it that must not be read.
    const buf = Buffer.from(`{"data":"${body}","encoding":"CSV"}9`, 'latin1');
    const start = 9;
    const end = start + Buffer.byteLength(body, 'latin1');
    a.fill(-1);
    b.fill(-1);
    const want = readNumericRecord(buf, a, start, end);
    assert.equal(readQuotedNumericRecord(buf, b, start, end), want, JSON.stringify(body));
    if (want) {
      taken++;
      for (let k = 0; k < 3; k++) assert.ok(Object.is(a[k], b[k]), `${JSON.stringify(body)} value ${k}: ${a[k]} vs ${b[k]}`);
    }
  }
  assert.equal(taken, 209);
  // Not a quote at end, or end out of range: declined.
  assert.equal(readQuotedNumericRecord(Buffer.from('1,2,3,'), a, 0, 5), false);
  assert.equal(readQuotedNumericRecord(Buffer.from('1,2,3'), a, 0, 5), false);
  assert.equal(readQuotedNumericRecord(Buffer.from('"1"'), new Float64Array(0), 1, 2), false);
});

test('cells of hundreds of thousands of digits: the value Number() gives, or declined; never a thrown RangeError', () => {
  // Such a mantissa goes to Number() as text; spreading its bytes into String.fromCharCode
  // overflowed the call stack, so a body with one giant cell threw instead of being read or declined.
  const third = `0.${'3'.repeat(300_000)}`;
  const huge = `1${'0'.repeat(300_000)}`;
  for (const cells of [['1', third, '2'], ['1', huge, '2']]) {
    const row = cells.join(',');
    const want = cells.map(Number);
    const finite = want.every(Number.isFinite);
    // headerless (the one-pass rows), with a header (the cursor reader), and one record
    for (const body of [`${row}\n`, `a,b,c\n${row}\n`]) {
      const got = fast(body, feats);
      if (finite) assert.deepEqual(got, want);
      else assert.equal(got, undefined);
    }
    const X = new Float64Array(3);
    assert.equal(readNumericRecord(Buffer.from(row), X, 0, row.length), finite);
    if (finite) assert.deepEqual(Array.from(X), want);
  }
});

test('formatNumbers writes what formatPredictions writes', () => {
  const v = Float64Array.of(1.5, -0, 1e21, 0.1 + 0.2, Number.NaN, 123456789.123);
  for (const format of ['json', 'csv', 'jsonl'] as const) assert.equal(formatNumbers(v, format), formatPredictions(Array.from(v), format), format);
  // the ends: no value, one value, non-finite first and last
  for (const w of [new Float64Array(0), Float64Array.of(2), Float64Array.of(Infinity, 3, -Infinity)]) {
    for (const format of ['json', 'csv', 'jsonl'] as const) assert.equal(formatNumbers(w, format), formatPredictions(Array.from(w), format), `${format} ${Array.from(w).join(' ')}`);
  }
});

test('served forest: the CSV fast path answers byte for byte what the table path answers', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'mw-numeric-csv-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const names = synthetic(1, 1).names;
  await mkdir(join(base, 'input', 'data', 'train'), { recursive: true });
  await writeFile(join(base, 'input', 'data', 'train', 'train.csv'), syntheticTable(2000, 3).select([...names, 'y']).toCSV());
  const { modelDir } = await trainPackage({ package: 'random-forest-regression', base, name: 'csv', hyperparameters: { target: 'y', features: JSON.stringify(names), n_estimators: '15', max_depth: '8' } });
  const model = await loadModel(modelDir);
  assert.ok(model.predictMatrix, 'numeric forest offers predictMatrix');
  const slow: LoadedModel = { ...model, predictMatrix: undefined };
  const probe = syntheticTable(600, 4);
  const rows = Array.from({ length: 600 }, (_, r) => names.map((n) => (probe.array(n) as Float64Array)[r]!.toPrecision(7)).join(','));
  const bodies = [rows.join('\n') + '\n', `${names.join(',')}\n${rows.slice(0, 50).join('\r\n')}`, rows.slice(0, 5).join('\n\n'), `${rows[0]}\n1,2\n`, `${rows[0]!.replace(/^[^,]+/, 'oops')}\n`];
  for (const body of bodies) {
    for (const accept of ['application/json', 'text/csv', 'application/jsonlines']) {
      const a = await invocations(model, { body: Buffer.from(body), contentType: 'text/csv', accept });
      const b = await invocations(slow, { body: Buffer.from(body), contentType: 'text/csv', accept });
      assert.deepEqual(a, b, `${accept}: ${body.slice(0, 40)}`);
    }
  }
  // No Accept: CSV in, CSV out (SageMaker's built-ins' convention), one prediction per line.
  const ok = await invocations(model, { body: Buffer.from(bodies[0]!), contentType: 'text/csv' });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.trim().split('\n').length, 600);
  assert.deepEqual(ok, await invocations(slow, { body: Buffer.from(bodies[0]!), contentType: 'text/csv' }));
  const bad = await invocations(model, { body: Buffer.from(bodies[3]!), contentType: 'text/csv' });
  assert.equal(bad.status, 400);
  assert.match(bad.body, /row 2 \(line 2\): expected 20 value/);
});
