import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { readCsv, readNdjson, parseTimestamp, parseDecimal, splitQuoted, type Reject, type ParsedBatch } from '../../lib/ingest/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';

/** Feeds text in small, awkwardly-cut chunks (to cross line and UTF-8 boundaries). */
function chunks(text: string, size = 7): Readable {
  const buf = Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

async function collect(gen: AsyncGenerator<ParsedBatch>): Promise<ParsedBatch[]> {
  const out: ParsedBatch[] = [];
  for await (const b of gen) out.push(b);
  return out;
}

async function csv(text: string, opts: { site?: string; batchRows?: number; size?: number } = {}) {
  const rejects: Reject[] = [];
  const batches = await collect(readCsv(chunks(text, opts.size), { source: 'in.csv', onReject: (r) => rejects.push(r), ...opts }));
  return { batches, rejects, rows: batches.flatMap((b) => rowsOf(b)) };
}

async function ndjson(text: string, opts: { site?: string; batchRows?: number } = {}) {
  const rejects: Reject[] = [];
  const batches = await collect(readNdjson(chunks(text), { source: 'in.ndjson', onReject: (r) => rejects.push(r), ...opts }));
  return { batches, rejects, rows: batches.flatMap((b) => rowsOf(b)) };
}

function rowsOf({ batch }: ParsedBatch) {
  return Array.from(batch.ts, (ts, i) => ({
    ts,
    site: batch.site[i],
    asset: batch.asset[i],
    signal: batch.signal[i],
    value: batch.value[i],
    quality: batch.quality?.[i] ?? 0,
  }));
}

test('timestamps: ISO-8601 with zone and epoch ms agree with Date.parse; zoneless and out-of-range are refused', () => {
  const ok = [
    '2024-03-01T12:00:00Z',
    '2024-03-01T12:00:00.250Z',
    '2024-03-01 12:00:00.250+01:00',
    '2024-02-29T23:59:59.999-05:30',
    '2024-03-01T12:00Z',
    '2024-03-01T12:00:00+0100',
    '2024-03-01T12:00:00+01',
    '1969-07-20T20:17:40Z',
  ];
  for (const s of ok) assert.equal(parseTimestamp(s), Date.parse(s.replace(' ', 'T').replace(/([+-]\d\d)(\d\d)$/, '$1:$2').replace(/([+-]\d\d)$/, '$1:00')), s);
  assert.equal(parseTimestamp('2024-03-01T12:00:00.123456789Z'), Date.parse('2024-03-01T12:00:00.123Z'), 'ns fraction truncated to ms');
  assert.equal(parseTimestamp('1709294400000'), 1709294400000);
  assert.equal(parseTimestamp('1709294400000.5'), 1709294400000.5);
  for (const bad of ['2024-03-01 12:00:00', '2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-03-01T24:00:00Z',
    '2024-03-01T12:00:60Z', '01/03/2024 12:00', 'yesterday', '', '1709294400', '1709294400000000', '2024-03-01T12:00:00ZZ', '2024-03-01T12:00:00.Z', '12abc']) {
    assert.ok(Number.isNaN(parseTimestamp(bad)), `refused: ${JSON.stringify(bad)}`);
  }
});

test('decimals: fast path matches Number(); hex, NaN, Infinity, blanks and junk are refused', () => {
  for (const s of ['0', '-0.5', '41.5', '+3', '.5', '5.', '123456789012345', '0.1', '-1.2e-3', '6.02214076E23', '1234567890123456789', '0.30000000000000004', '1e308']) {
    assert.equal(parseDecimal(s), Number(s), s);
  }
  for (const bad of ['', '-', '.', '0x10', 'NaN', 'Infinity', '-Infinity', '1e309', '1,5', ' 1', '1 ', '1e', '1e+', '--1', '1.2.3', 'abc']) {
    assert.ok(Number.isNaN(parseDecimal(bad)), `refused: ${JSON.stringify(bad)}`);
  }
});

test('CSV: columns in any order, CRLF, BOM, blank lines, UTF-8 names split across chunks, quoted fields', async () => {
  const text =
    '\uFEFFvalue,Signal,asset,ts,site\r\n' +
    '41.5,temp,Förderband-1,2024-03-01T00:00:00Z,Werk-Süd\r\n' +
    '\r\n' +
    '42,temp,Förderband-1,1709251201000,Werk-Süd\r\n' +
    '"1.5e1","vib ""x""","m,2","2024-03-01T00:00:02Z",p1\n';
  const { rows, rejects, batches } = await csv(text, { size: 5 });
  assert.deepEqual(rejects, []);
  assert.deepEqual(rows, [
    { ts: Date.parse('2024-03-01T00:00:00Z'), site: 'Werk-Süd', asset: 'Förderband-1', signal: 'temp', value: 41.5, quality: 0 },
    { ts: 1709251201000, site: 'Werk-Süd', asset: 'Förderband-1', signal: 'temp', value: 42, quality: 0 },
    { ts: Date.parse('2024-03-01T00:00:02Z'), site: 'p1', asset: 'm,2', signal: 'vib "x"', value: 15, quality: 0 },
  ]);
  assert.equal(batches[0].firstLine, 2);
  assert.equal(batches[0].lastLine, 5);
  assert.equal(batches[0].batch.quality, undefined, 'no quality column without flags');
});

test('CSV: every bad-row kind goes to rejects with line, reason and raw text; the good rows around it stay', async () => {
  const lines = [
    'ts,site,asset,signal,value,quality',
    '2024-03-01T00:00:00Z,p1,m1,temp,1,', // 2 ok
    'not-a-time,p1,m1,temp,1,', // 3 timestamp
    '2024-03-01T00:00:02,p1,m1,temp,1,', // 4 no zone
    '2024-03-01T00:00:03Z,p1,m1,temp,abc,', // 5 non-numeric
    '2024-03-01T00:00:04Z,p1,m1,temp,NaN,', // 6 NaN
    '2024-03-01T00:00:05Z,p1,m1,temp,Infinity,', // 7 Infinity
    '2024-03-01T00:00:06Z,p1,m1,temp,,', // 8 missing value
    '2024-03-01T00:00:07Z,p1,m1,temp', // 9 missing field (too few)
    '2024-03-01T00:00:08Z,p1,m1,temp,1,0,surprise', // 10 unknown column (too many)
    '2024-03-01T00:00:09Z,..,m1,temp,1,', // 11 site ..
    '2024-03-01T00:00:10Z,a/b,m1,temp,1,', // 12 site a/b
    '2024-03-01T00:00:11Z,p1,a/b,temp,1,', // 13 asset a/b
    '2024-03-01T00:00:12Z,p1,..,temp,1,', // 14 asset ..
    '2024-03-01T00:00:13Z,,m1,temp,1,', // 15 empty site
    '2024-03-01T00:00:14Z,p1,m1,,1,', // 16 empty signal
    '2024-03-01T00:00:15Z,p1,m1,temp,1,300', // 17 quality out of range
    '2024-03-01T00:00:16Z,p1,m1,temp,"1', // 18 unterminated quote
    '2024-03-01T00:00:17Z,p1\u0007,m1,temp,1,', // 19 control char
    '2024-03-01T00:00:18Z,p1,m1,temp,2,4', // 20 ok with quality
  ];
  const { rows, rejects } = await csv(lines.join('\n') + '\n');
  assert.deepEqual(
    rows.map((r) => [r.ts - Date.parse('2024-03-01T00:00:00Z'), r.value, r.quality]),
    [
      [0, 1, 0],
      [18_000, 2, 4],
    ],
  );
  const byLine = new Map(rejects.map((r) => [r.line, r]));
  assert.deepEqual([...byLine.keys()], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  const expect: [number, RegExp][] = [
    [3, /unparseable timestamp "not-a-time".*ISO-8601 with a zone/],
    [4, /unparseable timestamp "2024-03-01T00:00:02"/],
    [5, /value "abc" is not a finite number/],
    [6, /value "NaN" is not a finite number/],
    [7, /value "Infinity" is not a finite number/],
    [8, /missing field "value"/],
    [9, /missing field: row has 4 fields, the header has 6/],
    [10, /unknown column: row has 7 fields, the header has 6/],
    [11, /invalid site partition value "\.\."/],
    [12, /invalid site partition value "a\/b": it contains "\/"/],
    [13, /invalid asset "a\/b": it contains "\/"/],
    [14, /invalid asset "\.\."/],
    [15, /missing field "site"/],
    [16, /missing field "signal"/],
    [17, /quality "300" is not an integer 0-255/],
    [18, /unterminated quoted field/],
    [19, /control character/],
  ];
  for (const [line, re] of expect) assert.match(byLine.get(line)!.reason, re, `line ${line}`);
  assert.equal(byLine.get(5)!.raw, lines[4]);
  assert.equal(byLine.get(5)!.source, 'in.csv');
});

test('CSV: a header with an unknown, duplicate or missing column refuses the input before any row', async () => {
  const cases: [string, RegExp][] = [
    ['ts,site,asset,signal,value,unit\n', /unknown column "unit" in header/],
    ['ts,site,asset,signal,value,value\n', /column "value" appears twice/],
    ['ts,site,asset,value\n', /no "signal" column/],
    ['ts,asset,signal,value\n', /no "site" column and no default site/],
    ['2024-03-01T00:00:00Z,p1,m1,temp,1\n', /unknown column .* header line is required/],
    ['', /no header line/],
  ];
  for (const [text, re] of cases) {
    await assert.rejects(csv(`${text}2024-03-01T00:00:00Z,p1,m1,temp,1\n`.slice(0, text === '' ? 0 : undefined)), (err: unknown) => {
      assert.ok(isErrorCode(err, 'BAD_INPUT'));
      assert.match((err as Error).message, re);
      return true;
    });
  }
});

test('CSV: default site fills a missing site column; an invalid default is refused', async () => {
  const { rows } = await csv('ts,asset,signal,value\n2024-03-01T00:00:00Z,m1,temp,1\n', { site: 'plant-7' });
  assert.equal(rows[0].site, 'plant-7');
  await assert.rejects(csv('ts,asset,signal,value\n', { site: '../up' }), /--site: invalid site/);
});

test('CSV: batches are cut at batchRows with exact line ranges; line numbers survive blank lines', async () => {
  const lines = ['ts,site,asset,signal,value'];
  for (let i = 0; i < 25; i++) {
    lines.push(`${1709251200000 + i * 1000},p1,m${i % 3},temp,${i}`);
    if (i === 10) lines.push('');
  }
  const { batches } = await csv(lines.join('\n'), { batchRows: 10, size: 13 });
  assert.deepEqual(
    batches.map((b) => [b.batch.ts.length, b.firstLine, b.lastLine]),
    [
      [10, 2, 11],
      [10, 12, 22],
      [5, 23, 27],
    ],
  );
  assert.deepEqual(Array.from(batches[2].batch.value), [20, 21, 22, 23, 24]);
  assert.deepEqual(batches[1].batch.asset.slice(0, 3), ['m1', 'm2', 'm0']);
});

test('splitQuoted: RFC 4180 within a line', () => {
  assert.deepEqual(splitQuoted('a,"b,c","d ""e""",'), ['a', 'b,c', 'd "e"', '']);
  assert.deepEqual(splitQuoted('"x"y'), { error: 'unexpected character after closing quote at position 4 (expected "," or end of line)' });
});

test('NDJSON: good objects become readings; every bad-row kind is rejected with its line', async () => {
  const lines = [
    '{"ts":"2024-03-01T00:00:00Z","site":"p1","asset":"m1","signal":"temp","value":41.5}', // 1 ok
    '{"ts":1709251201000,"asset":"m1","signal":"temp","value":42,"quality":3}', // 2 ok (default site)
    '{"ts":"2024-03-01T00:00:02Z","site":"p1","asset":"m1","signal":"temp","value":"7"}', // 3 value string
    '{"ts":"yesterday","site":"p1","asset":"m1","signal":"temp","value":1}', // 4 ts
    '{"ts":"2024-03-01T00:00:04Z","site":"p1","asset":"m1","signal":"temp","value":1,"unit":"C"}', // 5 unknown key
    '{"ts":"2024-03-01T00:00:05Z","site":"p1","asset":"m1","value":1}', // 6 missing signal
    '{"ts":"2024-03-01T00:00:06Z","site":"p1","asset":"m1","signal":"temp","val', // 7 invalid JSON (torn line)
    '[1,2,3]', // 8 not an object
    '{"ts":"2024-03-01T00:00:08Z","site":"a/b","asset":"m1","signal":"temp","value":1}', // 9 bad site
    '', // 10 blank
    '{"ts":"2024-03-01T00:00:10Z","site":"p1","asset":"m1","signal":"temp","value":null}', // 11 missing value
    '{"ts":"2024-03-01T00:00:11Z","site":"p1","asset":"m1","signal":"temp","value":1e999}', // 12 Infinity via overflow
    '{"ts":"2024-03-01T00:00:12Z","site":"p1","asset":"m1","signal":"temp","value":2,"quality":1.5}', // 13 quality
  ];
  const { rows, rejects } = await ndjson(lines.join('\n'), { site: 'default-site' });
  assert.deepEqual(rows, [
    { ts: Date.parse('2024-03-01T00:00:00Z'), site: 'p1', asset: 'm1', signal: 'temp', value: 41.5, quality: 0 },
    { ts: 1709251201000, site: 'default-site', asset: 'm1', signal: 'temp', value: 42, quality: 3 },
  ]);
  assert.deepEqual(
    rejects.map((r) => r.line),
    [3, 4, 5, 6, 7, 8, 9, 11, 12, 13],
  );
  const reasons = rejects.map((r) => r.reason);
  assert.match(reasons[0], /value "7" is not a finite number/);
  assert.match(reasons[1], /unparseable timestamp "yesterday"/);
  assert.match(reasons[2], /unknown column "unit"/);
  assert.match(reasons[3], /missing field "signal"/);
  assert.match(reasons[4], /invalid JSON/);
  assert.match(reasons[5], /expected a JSON object/);
  assert.match(reasons[6], /invalid site partition value "a\/b"/);
  assert.match(reasons[7], /missing field "value"/);
  assert.match(reasons[8], /value null is not a finite number|not a finite number/);
  assert.match(reasons[9], /quality 1.5 is not an integer/);
  assert.equal(rejects[4].raw, lines[6]);
});

test('NDJSON: without a default site, a missing site is a rejected row', async () => {
  const { rows, rejects } = await ndjson('{"ts":1709251200000,"asset":"m1","signal":"temp","value":1}\n');
  assert.equal(rows.length, 0);
  assert.match(rejects[0].reason, /missing field "site" \(or pass --site NAME\)/);
});
