/**
 * Pruning an s3:// store from the SQL text (issue 11, item 4): the partitions a query's WHERE can
 * touch are derived from DuckDB's parse tree, conservatively. Against a real OpenStack Swift
 * s3api with a counting HTTP proxy in front of it: the pruned query gives the unpruned query's
 * (and the local store's) answer and sends fewer object GETs, exactly those of the partitions the
 * predicates allow.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, pruneFromSql, putVerified } from '../../lib/landing/index.ts';
import { writeReadings } from '../../lib/store/index.ts';
import type { ReadingBatch } from '../../lib/readings/index.ts';
import { startSwift, type SwiftServer } from '../helpers/swift.ts';
import { repoRoot } from '../helpers/data.ts';
import { runCli } from '../helpers/io.ts';

const day = (d: string) => Math.floor(Date.parse(`${d}T00:00:00Z`) / 86_400_000);

test('pruneFromSql: bounds only from top-level AND-ed site / ts / date predicates with literals; anything else prunes nothing', async () => {
  const p = (q: string) => pruneFromSql(q);
  assert.deepEqual(
    { ...(await p("SELECT asset, count(*) FROM readings WHERE site = 'north' AND ts >= TIMESTAMP '2024-03-11 06:00:00' AND ts < '2024-03-13' GROUP BY ALL")), note: '' },
    { sites: ['north'], fromDay: day('2024-03-11'), toDay: day('2024-03-12'), note: '' },
  );
  // Flipped sides, an alias, IN, BETWEEN on date, nested AND, a zoned literal.
  const q2 = await p("SELECT * FROM readings r WHERE r.site IN ('south', 'north') AND (r.date BETWEEN '2024-03-10' AND DATE '2024-03-14' AND '2024-03-12' <= ts) AND ts < TIMESTAMPTZ '2024-03-14 00:30:00+01'");
  assert.deepEqual([q2.sites, q2.fromDay, q2.toDay], [['north', 'south'], day('2024-03-12'), day('2024-03-13')]);
  assert.match(q2.note, /^pruning from the query: sites north, south, dates 2024-03-12 to 2024-03-13 \(from site IN/);
  // ts <= midnight keeps that day; ts < midnight does not; ts = t is one day; date > d starts the day after.
  assert.deepEqual([(await p("SELECT 1 FROM readings WHERE ts <= '2024-03-12'")).toDay, (await p("SELECT 1 FROM readings WHERE ts < '2024-03-12'")).toDay], [day('2024-03-12'), day('2024-03-11')]);
  const eq = await p("SELECT 1 FROM readings WHERE ts = '2024-03-12 13:00:00'");
  assert.deepEqual([eq.fromDay, eq.toDay], [day('2024-03-12'), day('2024-03-12')]);
  assert.equal((await p("SELECT 1 FROM readings WHERE date > '2024-03-12'")).fromDay, day('2024-03-13'));
  // Contradictions select nothing (the query is empty anyway).
  assert.deepEqual((await p("SELECT 1 FROM readings WHERE site = 'a' AND site = 'b'")).sites, []);
  // Non-prunable: each must leave every bound open.
  const none = [
    "SELECT * FROM readings WHERE site = 'north' OR site = 'south'",
    "SELECT * FROM readings WHERE NOT (site = 'north')",
    "SELECT * FROM readings WHERE site <> 'north'",
    "SELECT * FROM readings WHERE lower(site) = 'north'",
    "SELECT * FROM readings WHERE ts::DATE = '2024-03-12'",
    "SELECT * FROM readings WHERE date < TIMESTAMP '2024-03-12 12:00'",
    "SELECT * FROM readings WHERE site = 'north' AND value > (SELECT avg(value) FROM readings)",
    "SELECT * FROM readings WHERE site = 'north' AND asset IN (SELECT asset FROM readings WHERE site = 'south')",
    "WITH r AS (SELECT * FROM readings) SELECT * FROM r WHERE site = 'north'",
    "SELECT * FROM readings WHERE site = 'north' UNION ALL SELECT * FROM readings",
    "SELECT * FROM readings a JOIN readings b USING (asset) WHERE a.site = 'north'",
    "SELECT * FROM (SELECT * FROM readings) WHERE site = 'north'",
    "SELECT * FROM events WHERE site = 'north'",
    "SELECT * FROM readings WHERE ts >= now() - INTERVAL 1 DAY",
    "SELECT * FROM readings WHERE other.site = 'north'",
    'SELECT * FROM readings',
    'SELEC broken',
  ];
  for (const q of none) {
    const r = await p(q);
    assert.deepEqual([r.sites, r.fromDay, r.toDay], [undefined, undefined, undefined], q);
    assert.match(r.note, /^no pruning from the query/, q);
  }
});

let swift: SwiftServer;
let client: S3Client;
let proxy: Server;
let proxyEndpoint = '';
let objectGets = 0;
const temps: string[] = [];
const savedEnv = { ...process.env };

function tmp(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `mw-sqlprune-${name}-`));
  temps.push(d);
  return d;
}

before(async () => {
  swift = await startSwift();
  Object.assign(process.env, swift.env);
  client = await createS3Client({ endpoint: swift.endpoint });
  // A plain forwarding proxy that counts object GETs (a GET that is not a listing).
  proxy = createServer((req, res) => {
    if (req.method === 'GET' && !/[?&]list-type=/.test(req.url ?? '')) objectGets++;
    const up = request({ host: '127.0.0.1', port: swift.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxyEndpoint = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
});

after(async () => {
  client?.destroy();
  await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
  await swift?.stop();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
});

/** Two sites x 5 UTC days (2024-03-10..14), every 5 minutes, 3 assets x 2 signals, two files per partition. */
async function landStore(bucket: string, prefix: string): Promise<{ store: string; keys: string[] }> {
  const store = tmp('store');
  const t0 = Date.parse('2024-03-10T00:00:00Z');
  let id = 0;
  for (const half of [0, 1]) {
    const b: ReadingBatch = { ts: new Float64Array(0), value: new Float64Array(0), site: [], asset: [], signal: [] };
    const ts: number[] = [];
    const value: number[] = [];
    for (let k = 0; k < 5 * 288; k++) {
      if (k % 2 !== half) continue;
      for (const site of ['north', 'south']) {
        for (let a = 0; a < 3; a++) {
          for (const signal of ['pressure', 'flow']) {
            ts.push(t0 + k * 300_000);
            value.push(++id);
            b.site.push(site);
            b.asset.push(`pump-${a}`);
            b.signal.push(signal);
          }
        }
      }
    }
    b.ts = Float64Array.from(ts);
    b.value = Float64Array.from(value);
    await writeReadings(store, b);
  }
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const keys: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.startsWith('part-')) keys.push(`${prefix}${relative(store, p)}`);
    }
  };
  walk(store);
  for (const k of keys) await putVerified(client, bucket, k, readFileSync(join(store, k.slice(prefix.length))));
  return { store, keys };
}

async function remoteSql(query: string, url: string, extra: string[] = []): Promise<{ out: string; err: string; gets: number }> {
  const before = objectGets;
  const r = await runCli(['sql', query, '--store', url, '--endpoint', proxyEndpoint, '--cache-dir', tmp('cache'), '--format', 'csv', '--verbose', ...extra], repoRoot);
  assert.equal(r.code, 0, r.err);
  return { out: r.out, err: r.err, gets: objectGets - before };
}

test('sql --store s3://: the WHERE clause prunes partitions; same answer as unpruned and as the local store, fewer GETs', async () => {
  const { store, keys } = await landStore('prune', 'lake/raw/');
  const url = 's3://prune/lake/raw';
  const count = (site: string, dates: string[]) => keys.filter((k) => dates.some((d) => k.includes(`site=${site}/date=${d}/`))).length;
  assert.equal(keys.length, 2 * 5 * 2, 'two files in each of 10 partitions');

  const where = "site = 'north' AND ts >= TIMESTAMP '2024-03-11 06:00:00' AND ts < '2024-03-13'";
  const q = (w: string) => `SELECT site, date, asset, signal, count(*) AS n, sum(value) AS s, min(ts) AS t0, max(ts) AS t1 FROM readings WHERE ${w} GROUP BY ALL ORDER BY ALL`;
  const local = await runCli(['sql', q(where), '--store', store, '--format', 'csv'], repoRoot);
  assert.equal(local.code, 0, local.err);
  assert.ok(local.out.split('\n').length > 10, 'the query selects something');

  const pruned = await remoteSql(q(where), url);
  // The same predicates under an OR prune nothing: every object is fetched.
  const unpruned = await remoteSql(q(`(${where}) OR false`), url);
  assert.equal(pruned.out, local.out);
  assert.equal(unpruned.out, local.out);
  assert.equal(pruned.gets, count('north', ['2024-03-11', '2024-03-12']));
  assert.equal(pruned.gets, 4);
  assert.equal(unpruned.gets, keys.length);
  assert.match(pruned.err, /s3 store: pruning from the query: sites north, dates 2024-03-11 to 2024-03-12 \(from site = 'north' AND ts >= CAST\('2024-03-11 06:00:00' AS TIMESTAMP\) AND ts < '2024-03-13'\)/);
  assert.match(pruned.err, /2 of 10 partitions after pruning \(8 pruned\), 4 file\(s\); cache: 0 hit\(s\), 4 miss\(es\)/);
  assert.match(unpruned.err, /no pruning from the query \(no top-level AND-ed predicate/);
  assert.match(unpruned.err, /10 of 10 partitions after pruning \(0 pruned\), 20 file\(s\)/);

  // IN and BETWEEN on date, narrowed further by --site; and a subquery (which reads every partition) prunes nothing.
  const w2 = "site IN ('north', 'south') AND date BETWEEN '2024-03-13' AND '2024-03-14' AND signal = 'flow'";
  const both = await remoteSql(q(w2), url, ['--site', 'south']);
  const localBoth = await runCli(['sql', q(`${w2} AND site = 'south'`), '--store', store, '--format', 'csv'], repoRoot);
  assert.equal(both.out, localBoth.out);
  assert.equal(both.gets, count('south', ['2024-03-13', '2024-03-14']));
  const sub = `SELECT count(*) AS n FROM readings WHERE site = 'north' AND value > (SELECT avg(value) FROM readings)`;
  const subRemote = await remoteSql(sub, url);
  const subLocal = await runCli(['sql', sub, '--store', store, '--format', 'csv'], repoRoot);
  assert.equal(subRemote.out, subLocal.out);
  assert.equal(subRemote.gets, keys.length, 'the subquery reads all sites: nothing pruned');
});
