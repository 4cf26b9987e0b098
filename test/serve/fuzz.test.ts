// Request fuzzing through real HTTP: malformed CSV/JSON, binary garbage, huge numbers, NaN,
// deeply nested JSON, wrong column counts, oversized and slow bodies. Every reply must be a
// mapped JSON error (never a 500 or a dropped connection), and afterwards the server must still
// answer a good request correctly.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { RF_FEATURES, trainEnergyForest } from './fixtures/rf-model.ts';
import { csv, invoke, REAL_LOADER, scratch } from './helpers.ts';

let srv: RunningServer;
let cleanup: () => Promise<void>;
let good: number[];
let goodAnswer: string;

before(async () => {
  const s = await scratch();
  cleanup = s.cleanup;
  const { modelDir, data } = await trainEnergyForest(join(s.dir, 'ml'), { trees: 10, maxDepth: 6, rows: 2000 });
  good = data[3]!.slice(0, RF_FEATURES.length);
  srv = await startServer({ modelDir, loader: REAL_LOADER, port: 0, workers: 2, timeoutMs: 1500, maxBodyBytes: 256 * 1024, log: () => {} });
  const r = await invoke(srv.url, csv([good]), 'text/csv');
  assert.equal(r.status, 200);
  goodAnswer = r.text;
});
after(async () => {
  await srv?.close();
  await cleanup?.();
});

// Deterministic PRNG so a failure reproduces.
let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]!;

function cases(): { name: string; body: string | Uint8Array; type: string }[] {
  const n = RF_FEATURES.length;
  const row = good.join(',');
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const out = [
    { name: 'binary garbage as CSV', body: Uint8Array.from({ length: 4096 }, () => Math.floor(rnd() * 256)), type: 'text/csv' },
    { name: 'binary garbage as JSON', body: Uint8Array.from({ length: 4096 }, () => Math.floor(rnd() * 256)), type: 'application/json' },
    { name: 'invalid UTF-8', body: Uint8Array.from([0xff, 0xfe, 0x31, 0x2c, 0x32]), type: 'text/csv' },
    { name: 'deeply nested JSON', body: deep, type: 'application/json' },
    { name: 'deeply nested instances', body: `{"instances": ${deep}}`, type: 'application/json' },
    { name: 'nested arrays as values', body: JSON.stringify({ instances: [Array(n).fill([1, [2]])] }), type: 'application/json' },
    { name: 'huge number overflowing to Infinity (CSV)', body: `1e400${',1'.repeat(n - 1)}\n`, type: 'text/csv' },
    { name: 'huge number overflowing to Infinity (JSON)', body: `{"instances": [[1e999${',1'.repeat(n - 1)}]]}`, type: 'application/json' },
    { name: 'NaN in CSV', body: `NaN${',1'.repeat(n - 1)}\n`, type: 'text/csv' },
    { name: 'NaN literal in JSON', body: `{"instances": [[NaN${',1'.repeat(n - 1)}]]}`, type: 'application/json' },
    { name: 'null values', body: JSON.stringify({ instances: [Array(n).fill(null)] }), type: 'application/json' },
    { name: 'too few columns', body: `${row}\n1,2\n`, type: 'text/csv' },
    { name: 'too many columns', body: `${row},7,8\n`, type: 'text/csv' },
    { name: 'unterminated quote', body: `"1,2,3${',1'.repeat(n)}\n`, type: 'text/csv' },
    { name: 'stray quote', body: `1"2${',1'.repeat(n - 1)}\n`, type: 'text/csv' },
    { name: 'header only', body: `${RF_FEATURES.join(',')}\n`, type: 'text/csv' },
    { name: 'partial header', body: `${RF_FEATURES.slice(1).join(',')},x\n${row}\n`, type: 'text/csv' },
    { name: 'empty body', body: '', type: 'text/csv' },
    { name: 'whitespace body', body: '\n\n  \n', type: 'application/json' },
    { name: 'truncated JSON', body: '{"dataframe_split": {"columns": ["a"', type: 'application/json' },
    { name: 'dataframe_split without data', body: '{"dataframe_split": {"columns": []}}', type: 'application/json' },
    { name: '__proto__ keys', body: '{"__proto__": {"instances": [[1]]}, "constructor": 1}', type: 'application/json' },
    { name: 'records missing a feature', body: JSON.stringify({ dataframe_records: [{ [RF_FEATURES[0]]: 1 }] }), type: 'application/json' },
    { name: 'scalar JSON', body: '42', type: 'application/json' },
    { name: 'string JSON', body: '"hello"', type: 'application/json' },
    { name: 'bad JSON line', body: `[${row}]\n{oops\n`, type: 'application/jsonlines' },
    { name: 'JSON line scalar', body: '1\n', type: 'application/x-ndjson' },
    { name: 'NUL bytes', body: `\u0000${',\u0000'.repeat(n - 1)}\n`, type: 'text/csv' },
    { name: 'wrong media type', body: row, type: 'application/octet-stream' },
  ];
  // Random mutations of a good CSV body: byte flips, cut, duplicated separators.
  for (let i = 0; i < 60; i++) {
    const base = csv(Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => good));
    const chars = base.split('');
    const ops = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < ops; k++) {
      const at = Math.floor(rnd() * chars.length);
      const op = pick(['flip', 'delete', 'insert', 'cut']);
      if (op === 'flip') chars[at] = pick([',', '"', '\n', 'x', '-', '.', 'e', '\u00e9', '\r', ' ']);
      else if (op === 'delete') chars.splice(at, 1);
      else if (op === 'insert') chars.splice(at, 0, pick([',', '"', '\n', '9'.repeat(400), 'Infinity', '1e308']));
      else chars.length = at;
    }
    out.push({ name: `mutated CSV #${i}`, body: chars.join(''), type: pick(['text/csv', 'application/json', 'application/jsonlines']) });
  }
  return out;
}

test('malformed bodies get mapped JSON errors (no 500), then the server still answers correctly', async () => {
  for (const c of cases()) {
    const r = await invoke(srv.url, c.body, c.type);
    if (process.env.FUZZ_DEBUG) console.log(c.name, r.status, r.text.slice(0, 160));
    assert.ok([200, 400, 413, 415].includes(r.status), `${c.name}: status ${r.status} ${r.text.slice(0, 200)}`);
    if (r.status !== 200) {
      const e = r.json<{ error_code: string; message: string }>();
      assert.ok(typeof e.error_code === 'string' && e.message.length > 0, `${c.name}: ${r.text}`);
    } else {
      // A mutation can still be valid input: then it must be one finite prediction per row.
      const p = r.json<{ predictions: unknown[] }>().predictions;
      assert.ok(p.every((x) => typeof x === 'number' && Number.isFinite(x)), `${c.name}: ${r.text}`);
    }
  }
  assert.equal((await invoke(srv.url, csv([good]), 'text/csv')).text, goodAnswer);
});

test('oversized bodies: declared (Content-Length) and streamed (chunked) both get 413', async () => {
  const big = csv([good]).repeat(20_000);
  const r = await invoke(srv.url, big, 'text/csv');
  assert.equal(r.status, 413);
  // Chunked upload with no Content-Length: the limit is enforced while streaming.
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${srv.url}/invocations`, { method: 'POST', headers: { 'content-type': 'text/csv', 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    const chunk = csv([good]).repeat(1000);
    let sent = 0;
    const pump = () => {
      while (sent < 2 * 1024 * 1024) {
        sent += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      req.end();
    };
    pump();
  }).catch(() => 413); // the server may cut the upload after answering
  assert.equal(status, 413);
  assert.equal((await invoke(srv.url, csv([good]), 'text/csv')).text, goodAnswer);
});

test('a slow (trickled then stalled) body is answered 503 at the deadline while others are served', async () => {
  const port = srv.port;
  const t0 = Date.now();
  const reply = await new Promise<string>((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (d) => (data += d.toString()));
    sock.on('close', () => resolve(data));
    sock.on('error', () => resolve(data));
    sock.write(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 1000\r\n\r\n1,`);
    const t = setInterval(() => sock.write('1'), 100);
    setTimeout(() => clearInterval(t), 500);
  });
  const took = Date.now() - t0;
  assert.match(reply, /^HTTP\/1.1 503/);
  assert.match(reply, /DEADLINE_EXCEEDED/);
  assert.ok(took < 5000, `slow body held the caller ${took} ms (deadline 1500 ms)`);
  // A body that lies about its length and disconnects does not disturb the server either.
  await new Promise<void>((resolve) => {
    const sock = connect(port, '127.0.0.1', () => {
      sock.end(`POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 5000\r\n\r\n1,2,3`);
    });
    sock.on('close', () => resolve());
    sock.on('error', () => resolve());
    sock.resume();
  });
  const garbage = await new Promise<string>((resolve) => {
    const sock = connect(port, '127.0.0.1', () => sock.write('\u0000\u0001GARBAGE / HTTP/9.9\r\n\r\n'));
    let data = '';
    sock.on('data', (d) => (data += d.toString()));
    sock.on('close', () => resolve(data));
    sock.on('error', () => resolve(data));
  });
  assert.match(garbage, /^HTTP\/1.1 400|^$/);
  assert.equal((await invoke(srv.url, csv([good]), 'text/csv')).text, goodAnswer);
  assert.equal((await fetch(`${srv.url}/ping`)).status, 200);
});
