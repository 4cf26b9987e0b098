/**
 * Raw landing in object storage (issue 11, items 3 and 4) against a real OpenStack Swift with
 * s3api, started once for this file on 127.0.0.1: upload through flush, resume after the server
 * went away mid-upload, SIGKILL of the uploader at random points (exactly once in the bucket
 * afterwards), sync and sync again, a damaged object refused, the read-only s3 store giving the
 * local store's answers, and credentials never printed.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { appendToSpool, flushSpool, listSegments } from '../../lib/spool/index.ts';
import { createS3Client, forwardToS3, parseS3Url, syncFromS3, openS3Store } from '../../lib/landing/index.ts';
import { sql } from '../../lib/store/index.ts';
import type { ReadingBatch } from '../../lib/readings/index.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';
import { startSwift, SWIFT_ACCESS_KEY, SWIFT_SECRET_KEY, type SwiftServer } from '../helpers/swift.ts';
import { repoRoot } from '../helpers/data.ts';
import { runCli } from '../helpers/io.ts';
import { readStore } from '../ingest/store-reader.ts';
import { cliArgs } from '../helpers/cli.ts';

let swift: SwiftServer;
let client: S3Client;
const temps: string[] = [];
const savedEnv = { ...process.env };

function tmp(name: string): string {
  const d = mkdtempSync(join(tmpdir(), `mw-landing-${name}-`));
  temps.push(d);
  return d;
}

before(async () => {
  swift = await startSwift();
  Object.assign(process.env, swift.env);
  client = await createS3Client({ endpoint: swift.endpoint });
});

after(async () => {
  client?.destroy();
  await swift?.stop();
  for (const d of temps) rmSync(d, { recursive: true, force: true });
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
});

async function bucket(name: string): Promise<string> {
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

const BASE = Date.parse('2024-03-09T22:00:00Z');
let nextId = 1;

/** A batch of `n` readings with unique values (ids), two sites, crossing UTC midnight. */
function batch(n: number): ReadingBatch {
  const b: ReadingBatch = { ts: new Float64Array(n), value: new Float64Array(n), site: [], asset: [], signal: [] };
  for (let i = 0; i < n; i++) {
    const id = nextId++;
    b.ts[i] = BASE + id * 15_000;
    b.value[i] = id;
    b.site.push(id % 2 ? 'north' : 'south');
    b.asset.push(`pump-${id % 3}`);
    b.signal.push(id % 4 < 2 ? 'pressure' : 'flow');
  }
  return b;
}

/** Moves the next ids so the next `before` readings end at a UTC midnight (the data then spans two dates). */
function straddleMidnight(before: number): void {
  const perDay = 86_400_000 / 15_000;
  const firstMidnight = (Date.parse('2024-03-10T00:00:00Z') - BASE) / 15_000;
  nextId = firstMidnight + Math.ceil((nextId + before - firstMidnight) / perDay) * perDay - before;
}

async function spoolBatches(spool: string, count: number, rows: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const first = nextId;
    await appendToSpool(spool, batch(rows));
    for (let id = first; id < nextId; id++) ids.push(id);
  }
  return ids;
}

async function listKeys(b: string, prefix: string): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const r = await client.send(new ListObjectsV2Command({ Bucket: b, Prefix: prefix, ContinuationToken: token, MaxKeys: 100 }));
    for (const o of r.Contents ?? []) out.push({ key: o.Key!, size: o.Size! });
    if (!r.IsTruncated) break;
    token = r.NextContinuationToken;
  }
  return out;
}

/** Every object under the prefix, downloaded into a folder laid out as a store, read back by DuckDB. */
async function bucketReadings(b: string, prefix: string): Promise<{ values: number[]; keys: string[] }> {
  const dir = tmp('dl');
  const keys = (await listKeys(b, prefix)).map((o) => o.key);
  for (const key of keys) {
    const res = await client.send(new GetObjectCommand({ Bucket: b, Key: key }));
    const rel = key.slice(prefix.length);
    assert.match(rel, /^site=(north|south)\/date=\d{4}-\d{2}-\d{2}\/part-[^/]+\.parquet$/, `object name ${key} follows the store layout`);
    const file = join(dir, ...rel.split('/'));
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, await res.Body!.transformToByteArray());
  }
  const stored = await readStore(dir);
  return { values: stored.map((r) => r.value).sort((x, y) => x - y), keys };
}

function assertExactlyOnce(values: number[], ids: number[], what: string): void {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const dup = [...counts].filter(([, c]) => c > 1);
  assert.deepEqual(dup, [], `${what}: no reading twice`);
  const missing = ids.filter((id) => !counts.has(id));
  assert.deepEqual(missing.slice(0, 10), [], `${what}: no reading missing (${missing.length} missing)`);
  assert.equal(values.length, ids.length, `${what}: exactly the spooled readings`);
}

/** Counts successful PUTs per key and lets a test act before the Nth PUT goes out. */
function instrument(c: S3Client, beforePut?: (n: number) => Promise<void>): { puts: Map<string, number>; gets: () => number } {
  const puts = new Map<string, number>();
  let attempts = 0;
  let gets = 0;
  c.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Key?: string };
      if (context.commandName === 'PutObjectCommand') await beforePut?.(++attempts);
      const out = await next(args);
      if (context.commandName === 'PutObjectCommand') puts.set(input.Key!, (puts.get(input.Key!) ?? 0) + 1);
      if (context.commandName === 'GetObjectCommand') gets++;
      return out;
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return { puts, gets: () => gets };
}

test('flush --to s3 lands every batch as the store files, under the store layout, each verified', async () => {
  const b = await bucket('landing-upload');
  const spool = tmp('spool');
  const store = tmp('store');
  const ids = await spoolBatches(spool, 6, 250);
  const r = await runCli(['flush', '--spool', spool, '--store', store, '--to', `s3://${b}/raw/plant`, '--endpoint', swift.endpoint, '--max-rows', '500', '--verbose'], repoRoot);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /landed \d+ file\(s\) \(0 confirmed earlier/);
  assert.deepEqual(await listSegments(spool), [], 'spool empty once every batch is confirmed');
  // The objects are byte for byte the local store's files, under the same relative names.
  const localFiles: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const n of readdirSync(d)) {
      if (n.startsWith('.')) continue;
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p, `${rel}${n}/`);
      else localFiles.push(`${rel}${n}`);
    }
  };
  walk(store, '');
  const objects = await listKeys(b, 'raw/plant/');
  assert.deepEqual(objects.map((o) => o.key.slice('raw/plant/'.length)).sort(), localFiles.sort());
  for (const o of objects) assert.equal(o.size, statSync(join(store, o.key.slice('raw/plant/'.length))).size);
  const got = await bucketReadings(b, 'raw/plant/');
  assertExactlyOnce(got.values, ids, 'bucket');
  assert.ok(!existsSync(join(spool, '.landing')) || readdirSync(join(spool, '.landing')).length === 0, 'no batch record left behind');

  // The read-only s3 store answers as the local store does, through the cache.
  const query = 'SELECT site, date, asset, signal, count(*) AS n, sum(value) AS s, min(ts) AS t0 FROM readings GROUP BY ALL ORDER BY ALL';
  const local = await runCli(['sql', query, '--store', store, '--format', 'csv'], repoRoot);
  const cache = tmp('cache');
  const remote = await runCli(['sql', query, '--store', `s3://${b}/raw/plant`, '--endpoint', swift.endpoint, '--cache-dir', cache, '--format', 'csv', '--verbose'], repoRoot);
  assert.equal(remote.code, 0, remote.err);
  assert.equal(remote.out, local.out);
  assert.match(remote.err, new RegExp(`cache: 0 hit\\(s\\), ${objects.length} miss\\(es\\)`));
  const again = await runCli(['sql', query, '--store', `s3://${b}/raw/plant`, '--endpoint', swift.endpoint, '--cache-dir', cache, '--format', 'csv', '--verbose'], repoRoot);
  assert.equal(again.out, local.out);
  assert.match(again.err, new RegExp(`cache: ${objects.length} hit\\(s\\), 0 miss\\(es\\), 0 bytes downloaded`));
  // Partition pruning: one site, one date -> only that partition is fetched.
  const pruned = await runCli(['scan', '--store', `s3://${b}/raw/plant`, '--endpoint', swift.endpoint, '--cache-dir', tmp('cache2'), '--site', 'north', '--from', '2024-03-10', '--to', '2024-03-11', '--format', 'csv', '--limit', '100000', '--verbose'], repoRoot);
  assert.equal(pruned.code, 0, pruned.err);
  const perPartition = objects.filter((o) => o.key.includes('site=north/date=2024-03-10/')).length;
  assert.match(pruned.err, new RegExp(`1 of \\d+ partitions after pruning \\(\\d+ pruned\\), ${perPartition} file\\(s\\); cache: 0 hit\\(s\\), ${perPartition} miss\\(es\\)`));
  const localScan = await runCli(['scan', '--store', store, '--site', 'north', '--from', '2024-03-10', '--to', '2024-03-11', '--format', 'csv', '--limit', '100000'], repoRoot);
  assert.equal(pruned.out, localScan.out);
  assert.ok(pruned.out.split('\n').length > 10);

  // The cache stays under its bound: evictions past it, a query needing more is refused.
  const biggest = Math.max(...objects.map((o) => o.size));
  const total = objects.reduce((s, o) => s + o.size, 0);
  const small = tmp('cache3');
  for (const site of ['north', 'south']) {
    const v = await openS3Store({ client, location: parseS3Url(`s3://${b}/raw/plant`), cacheDir: small, maxBytes: Math.ceil(total * 0.6), sites: [site] });
    await v.close();
    assert.ok(v.stats.cachedBytes <= Math.ceil(total * 0.6), `cache holds ${v.stats.cachedBytes} <= bound`);
    if (site === 'south') assert.ok(v.stats.evicted > 0, 'older objects evicted past the bound');
  }
  const refused = await runCli(['sql', 'SELECT count(*) FROM readings', '--store', `s3://${b}/raw/plant`, '--endpoint', swift.endpoint, '--cache-dir', small, '--cache-size', String(biggest)], repoRoot);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /more than the cache bound/);
});

test('resume after the server stopped mid-upload: confirmed objects are not sent again, nothing twice', async () => {
  const b = await bucket('landing-resume');
  const spool = tmp('spool');
  const store = tmp('store');
  const ids = await spoolBatches(spool, 8, 200);
  const c = await createS3Client({ endpoint: swift.endpoint });
  // The server goes away at the 2nd PUT of the 2nd batch: batch 1 landed whole, batch 2 broke mid-way.
  let batchesDone = 0;
  let putsInBatch = 0;
  const { puts } = instrument(c, async () => {
    putsInBatch++;
    if (batchesDone === 1 && putsInBatch === 2) await swift.stopProxy();
  });
  const onDeliver = () => {
    batchesDone++;
    putsInBatch = 0;
  };
  const dest = forwardToS3({ bucket: b, prefix: 'raw', client: c, concurrency: 1 });
  try {
    await assert.rejects(flushSpool({ spool, store, maxRows: 400, destinations: [dest], onDeliver }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'UNAVAILABLE');
      assert.match(err.message, /not confirmed by s3:\/\/landing-resume\/raw\/ .*the spool keeps every reading/);
      return true;
    });
    const left = await listSegments(spool);
    assert.equal(left.length, 6, `the first batch's 2 segments deleted, the rest kept (${left.length})`);
    assert.equal(batchesDone, 1);
  } finally {
    await swift.startProxy();
  }
  const delivered: { sent: number; skipped: number }[] = [];
  const r = await flushSpool({ spool, store, maxRows: 400, destinations: [dest], onDeliver: (d) => delivered.push(...d.results) });
  assert.deepEqual(await listSegments(spool), []);
  assert.ok(delivered[0].skipped >= 1, `the interrupted batch resumed: ${JSON.stringify(delivered[0])} (its confirmed file not sent again)`);
  assert.equal(r.segments, 6);
  assert.deepEqual([...puts].filter(([, n]) => n > 1), [], 'no object PUT twice');
  const got = await bucketReadings(b, 'raw/');
  assertExactlyOnce(got.values, ids, 'after resume');
  assert.equal(got.keys.length, puts.size);
  c.destroy();
});

test('SIGKILL of the uploader at random points (24 trials): every batch in the bucket exactly once, spool empty after a final run', async () => {
  const b = await bucket('landing-kill');
  const spool = tmp('spool');
  const store = tmp('store');
  const rng = mulberry32(Number(process.env.MILLWRIGHT_CRASH_SEED ?? 20261201));
  const ids = await spoolBatches(spool, 6, 120);
  const env = { ...process.env, ...swift.env, MILLWRIGHT_OBJECT_STORE_ENDPOINT: swift.endpoint };
  const args = cliArgs('flush', '--spool', spool, '--store', store, '--to', `s3://${b}/k`, '--max-rows', '120', '--verbose');
  // Kill points follow the child's progress, not the wall clock (a fast machine finished most
  // runs before a timed kill): each batch prints `landed` (store written, uploaded, journalled)
  // then `wrote` (its segment deleted, the batch about to be settled). The kill comes 0-40 ms
  // after a random one of those lines, never the last two, so it lands inside store writes,
  // uploads, journal appends and deletes while at least a batch is still to do.
  const run = (kill: { lines: number; ms: number } | undefined) =>
    new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, args, { env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let seen = 0;
      let t: NodeJS.Timeout | undefined;
      child.stdout.on('data', (d: Buffer) => {
        out += d;
        seen += String(d).split('\n').filter((l) => l.startsWith('landed') || l.startsWith('wrote')).length;
        if (kill && seen >= kill.lines) t ??= setTimeout(() => child.kill('SIGKILL'), kill.ms);
      });
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.on('exit', (code, signal) => {
        clearTimeout(t);
        resolve({ code, signal, out });
      });
    });
  let killed = 0;
  for (let trial = 0; trial < 24; trial++) {
    const pending = (await listSegments(spool)).length;
    const lines = 1 + Math.floor(rng() * Math.max(1, 2 * pending - 3));
    const r = await run({ lines, ms: Math.floor(rng() * 40) });
    if (r.signal === 'SIGKILL') killed++;
    else assert.equal(r.code, 0, r.out);
    assert.ok(!r.out.includes(SWIFT_SECRET_KEY));
    ids.push(...(await spoolBatches(spool, 3, 120)));
  }
  assert.ok(killed >= 18, `most trials were killed mid-run (${killed} of 24)`);
  const final = await run(undefined);
  assert.equal(final.code, 0, final.out);
  assert.deepEqual(await listSegments(spool), [], 'spool empty after the final run');
  const got = await bucketReadings(b, 'k/');
  assertExactlyOnce(got.values, ids, 'after 24 kills');
});

test('sync pulls only what is missing, verified; sync again downloads nothing; a damaged object is refused and not written', async () => {
  const b = await bucket('landing-sync');
  const spool = tmp('spool');
  const store = tmp('store');
  straddleMidnight(600);
  const ids = await spoolBatches(spool, 4, 300);
  await flushSpool({ spool, store, maxRows: 600, destinations: [forwardToS3({ bucket: b, prefix: 'lake', endpoint: swift.endpoint })] });
  const objects = await listKeys(b, 'lake/');
  const dest = tmp('synced');
  const first = await runCli(['sync', '--from', `s3://${b}/lake`, '--store', dest, '--endpoint', swift.endpoint, '--json'], repoRoot);
  assert.equal(first.code, 0, first.err);
  const r1 = JSON.parse(first.out) as { downloaded: number; present: number; listed: number };
  assert.deepEqual([r1.listed, r1.downloaded, r1.present], [objects.length, objects.length, 0]);
  const q = 'SELECT count(*) AS n, sum(value) AS s FROM readings';
  assert.deepEqual(await sql(q, { root: dest }), await sql(q, { root: store }));
  assert.equal((await sql(q, { root: dest })).rows[0].n, ids.length);

  const c = await createS3Client({ endpoint: swift.endpoint });
  const counter = instrument(c);
  const r2 = await syncFromS3({ client: c, from: parseS3Url(`s3://${b}/lake`), store: dest });
  assert.deepEqual([r2.downloaded, r2.present, counter.gets()], [0, objects.length, 0], 'second sync: nothing downloaded, no GET');
  // The uploader's own store already holds the files: found by MD5, not downloaded.
  const r3 = await syncFromS3({ client: c, from: parseS3Url(`s3://${b}/lake`), store });
  assert.deepEqual([r3.downloaded, r3.present, counter.gets()], [0, objects.length, 0]);
  // Pruning: a site and a date range list and fetch only those partitions.
  const one = tmp('one');
  const day = /date=(\d{4}-\d{2}-\d{2})\//.exec(objects.find((o) => o.key.includes('site=south/'))!.key)![1];
  const r4 = await syncFromS3({ client: c, from: parseS3Url(`s3://${b}/lake`), store: one, sites: ['south'], fromDate: day, toDate: day });
  assert.ok(r4.partitionsTotal >= 4, `several partitions to prune from (${r4.partitionsTotal})`);
  assert.equal(r4.partitionsListed, 1);
  assert.equal(r4.downloaded, objects.filter((o) => o.key.includes(`site=south/date=${day}/`)).length);

  // Bit rot on the server: the newest object's bytes change, its ETag does not.
  const late = await bucket('landing-rot');
  const spool2 = tmp('spool');
  await spoolBatches(spool2, 1, 50);
  await flushSpool({ spool: spool2, store: tmp('store'), destinations: [forwardToS3({ bucket: late, prefix: 'x', endpoint: swift.endpoint })] });
  const rotKeys = await listKeys(late, 'x/');
  const data = swift.dataFiles().sort((p, q2) => statSync(q2).mtimeMs - statSync(p).mtimeMs)[0];
  const bytes = readFileSync(data);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  writeFileSync(data, bytes);
  const rotDest = tmp('rot');
  const bad = await runCli(['sync', '--from', `s3://${late}/x`, '--store', rotDest, '--endpoint', swift.endpoint], repoRoot);
  assert.equal(bad.code, 1, bad.out + bad.err);
  assert.match(bad.err, /checksum mismatch \(MD5 of the bytes received [0-9a-f]{32}, ETag [0-9a-f]{32}\); the object is damaged, not written/);
  assert.match(bad.out, new RegExp(`${rotKeys.length - 1} downloaded .* 1 refused`));
  const written = readdirSync(rotDest, { recursive: true }).map(String).filter((n) => n.endsWith('.parquet'));
  assert.equal(written.length, rotKeys.length - 1, 'the damaged object was not written, the others were');
  c.destroy();
});

test('credentials never appear in output, errors or the spool journal', async () => {
  const b = await bucket('landing-creds');
  const spool = tmp('spool');
  const store = tmp('store');
  await spoolBatches(spool, 2, 50);
  const runChild = (args: string[], env: NodeJS.ProcessEnv) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, cliArgs(...args), { env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      child.on('exit', (code) => resolve({ code, out }));
    });
  const env = { ...process.env, ...swift.env, MILLWRIGHT_DEBUG: '' };
  const outputs: string[] = [];
  // Wrong secret: the server refuses the signature.
  const wrong = await runChild(['flush', '--spool', spool, '--store', store, '--to', `s3://${b}/p`, '--endpoint', swift.endpoint], { ...env, AWS_SECRET_ACCESS_KEY: `${SWIFT_SECRET_KEY}-wrong` });
  assert.equal(wrong.code, 1);
  assert.match(wrong.out, /not confirmed by s3:\/\/landing-creds\/p\/ at http:\/\/127\.0\.0\.1:\d+: PUT .*(SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId)/);
  outputs.push(wrong.out);
  // Server down.
  await swift.stopProxy();
  try {
    const down = await runChild(['flush', '--spool', spool, '--store', store, '--to', `s3://${b}/p`, '--endpoint', swift.endpoint], env);
    assert.equal(down.code, 1);
    outputs.push(down.out);
    const syncDown = await runChild(['sync', '--from', `s3://${b}/p`, '--store', tmp('s'), '--endpoint', swift.endpoint], env);
    assert.equal(syncDown.code, 1);
    outputs.push(syncDown.out);
  } finally {
    await swift.startProxy();
  }
  const ok = await runChild(['flush', '--spool', spool, '--store', store, '--to', `s3://${b}/p`, '--endpoint', swift.endpoint, '--verbose'], env);
  assert.equal(ok.code, 0, ok.out);
  outputs.push(ok.out);
  const synced = await runChild(['sync', '--from', `s3://${b}/p`, '--store', tmp('s'), '--endpoint', swift.endpoint, '--verbose'], env);
  assert.equal(synced.code, 0, synced.out);
  outputs.push(synced.out);
  // An endpoint carrying credentials is refused without echoing them.
  const inUrl = await runChild(['sync', '--from', `s3://${b}/p`, '--store', tmp('s'), '--endpoint', `http://${SWIFT_ACCESS_KEY}:${SWIFT_SECRET_KEY}@127.0.0.1:${swift.port}`], env);
  assert.equal(inUrl.code, 2);
  outputs.push(inUrl.out);
  for (const out of outputs) {
    assert.ok(!out.includes(SWIFT_SECRET_KEY), `secret key in: ${out}`);
    assert.ok(!out.includes(SWIFT_ACCESS_KEY), `access key id in: ${out}`);
  }
  const journal = readdirSync(spool, { recursive: true }).map(String);
  for (const f of journal) {
    const p = join(spool, f);
    if (statSync(p).isFile()) assert.ok(!readFileSync(p, 'latin1').includes(SWIFT_SECRET_KEY));
  }
});
