import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, writeFile, readdir, chmod, utimes, stat } from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/io.ts';
import { repoRoot } from '../helpers/data.ts';
import {
  initModel,
  trainPackage,
  registerModel,
  approveVersion,
  rejectVersion,
  getDeployable,
  latestApproved,
  listVersions,
  listGroups,
  loadModel,
  compareMetrics,
} from '../../lib/model/index.ts';
import { withLock } from '../../lib/durable/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { cliArgs } from '../helpers/cli.ts';

let dir: string;
let pkg: string;
let modelA: string;
let modelB: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'millwright-model-registry-'));
  pkg = join(dir, 'pkg');
  await initModel(pkg);
  const channels = { train: join(pkg, 'sample') };
  modelA = (await trainPackage({ package: pkg, base: join(dir, 'a'), channels, version: 'a', hyperparameters: { features: 'production_units' } })).modelDir;
  modelB = (await trainPackage({ package: pkg, base: join(dir, 'b'), channels, version: 'b' })).modelDir;
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, dir);

test('register -> approve -> register a better candidate (metrics compared) -> deploy the approved one', async () => {
  const registry = join(dir, 'reg-flow');
  const r1 = await cli(['registry', 'register', modelA, '--group', 'plant-a', '--registry', registry]);
  assert.equal(r1.code, 0, r1.err);
  assert.match(r1.out, /registered plant-a version 1 \(PendingManualApproval\)/);
  assert.match(r1.out, /no approved version yet/);
  // Nothing is deployable until someone approves.
  await assert.rejects(getDeployable('plant-a', { registry }), (e: unknown) => isErrorCode(e, 'NOT_FOUND') && /no approved version/.test((e as Error).message));

  assert.equal((await cli(['registry', 'approve', 'plant-a', '1', '--registry', registry, '--note', 'checked by QA'])).code, 0);
  const r2 = await cli(['registry', 'register', modelB, '--group', 'plant-a', '--registry', registry]);
  assert.equal(r2.code, 0, r2.err);
  assert.match(r2.out, /registered plant-a version 2/);
  // Model B also uses temperature, so its holdout RMSE is lower than A's: the comparison says so.
  assert.match(r2.out, /holdout metrics vs approved version 1/);
  assert.match(r2.out, /rmse .* -[0-9.]+ +better/);
  assert.match(r2.out, /r2 .* \+[0-9.e-]+ +better/);

  const deployable = await getDeployable('plant-a', { registry });
  assert.equal(deployable.record.version, 1);
  assert.equal(deployable.manifest.version, 'a');
  await assert.rejects(getDeployable('plant-a', { registry, version: 2 }), (e: unknown) => isErrorCode(e, 'CONFLICT') && /only an Approved version can be deployed/.test((e as Error).message));

  assert.equal((await cli(['registry', 'approve', 'plant-a', '2', '--registry', registry])).code, 0);
  assert.equal((await latestApproved('plant-a', { registry }))?.version, 2);
  const model = await loadModel((await getDeployable('plant-a', { registry })).dir, { packages: [pkg] });
  assert.equal(model.manifest.version, 'b');

  // Withdrawing version 2 falls back to version 1; a rejected version cannot come back.
  assert.equal((await cli(['registry', 'reject', 'plant-a', '2', '--registry', registry])).code, 0);
  assert.equal((await getDeployable('plant-a', { registry })).record.version, 1);
  const again = await cli(['registry', 'approve', 'plant-a', '2', '--registry', registry]);
  assert.equal(again.code, 1);
  assert.match(again.err, /version 2 is Rejected; it cannot become Approved/);
  assert.match((await cli(['registry', 'approve', 'plant-a', '9', '--registry', registry])).err, /has no version 9/);

  const list = await cli(['registry', 'list', '--registry', registry]);
  assert.equal(list.out, 'plant-a: 2 versions, 0 pending, approved: 1\n');
  const show = await cli(['registry', 'show', 'plant-a', '--registry', registry]);
  assert.match(show.out, /1 {2}Approved/);
  assert.match(show.out, /2 {2}Rejected/);
  const one = await cli(['registry', 'show', 'plant-a', '1', '--registry', registry]);
  assert.match(one.out, /features: {3}production_units:number/);
  assert.match(one.out, /PendingManualApproval .* -> Approved .* \(checked by QA\)/);
  const history = (await listVersions('plant-a', { registry }))[0]!.statusHistory.map((h) => h.status);
  assert.deepEqual(history, ['PendingManualApproval', 'Approved']);
  assert.equal((await cli(['registry', 'frobnicate', '--registry', registry])).code, 2);
  assert.equal((await cli(['registry', 'register', modelA, '--registry', registry])).code, 2);
  assert.match((await cli(['registry', 'show', '../etc', '--registry', registry])).err, /invalid model group/);
});

test('registered artifacts are immutable and verified: tampering is refused at approve and deploy', async () => {
  const registry = join(dir, 'reg-tamper');
  const { record } = await registerModel(modelA, { group: 'g', registry });
  const vdir = join(registry, 'g', 'versions', '1', 'model');
  const coef = join(vdir, 'coefficients.json');
  assert.equal((await stat(coef)).mode & 0o222, 0, 'registered files are read-only');
  // A determined writer (chmod first) is still caught by the checksums.
  await chmod(coef, 0o644);
  const original = await readFile(coef, 'utf8');
  await writeFile(coef, original.replace('"intercept"', '"intercept" ').replace(/: ([0-9])/, ': 9$1'));
  await assert.rejects(approveVersion('g', record.version, { registry }), (e: unknown) => isErrorCode(e, 'INTEGRITY'));
  assert.equal((await listVersions('g', { registry }))[0]!.status, 'PendingManualApproval');
  await writeFile(coef, original);
  await approveVersion('g', 1, { registry });
  // Editing model.json (metrics are not in any file checksum) is caught by the hash recorded at registration.
  const manifestPath = join(vdir, 'model.json');
  await chmod(manifestPath, 0o644);
  const m = JSON.parse(await readFile(manifestPath, 'utf8'));
  m.metrics.holdout.rmse = 0.001;
  await writeFile(manifestPath, JSON.stringify(m, null, 2));
  await assert.rejects(getDeployable('g', { registry }), (e: unknown) => isErrorCode(e, 'INTEGRITY') && /model.json was modified after registration/.test((e as Error).message));
});

test('registering a tampered or incomplete artifact leaves nothing in the registry', async () => {
  const registry = join(dir, 'reg-bad');
  const bad = join(dir, 'bad-model');
  await rm(bad, { recursive: true, force: true });
  spawnSync('cp', ['-r', modelA, bad]);
  await writeFile(join(bad, 'coefficients.json'), '{"tampered": true}');
  const r = await cli(['registry', 'register', bad, '--group', 'g', '--registry', registry]);
  assert.equal(r.code, 1);
  assert.match(r.err, /failed verification: "coefficients.json" was modified/);
  await rm(join(bad, 'model.json'));
  assert.match((await cli(['registry', 'register', bad, '--group', 'g', '--registry', registry])).err, /model.json is missing/);
  const groupDir = join(registry, 'g');
  const leftovers = await readdir(groupDir).catch(() => [] as string[]);
  assert.deepEqual(leftovers.filter((n) => n !== 'versions'), []);
  assert.deepEqual(await readdir(join(groupDir, 'versions')).catch(() => []), []);
  assert.deepEqual(await listGroups({ registry }), leftovers.length ? [{ group: 'g', versions: 0, pending: 0 }] : []);
});

test('concurrent writers: several processes registering at once get distinct, complete versions', async () => {
  const registry = join(dir, 'reg-concurrent');
  const n = 5;
  const runs = Array.from({ length: n }, () =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(process.execPath, cliArgs('registry', 'register', modelA, '--group', 'plant-c', '--registry', registry, '--json'), {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => resolve({ code, out, err }));
    }),
  );
  const results = await Promise.all(runs);
  for (const r of results) assert.equal(r.code, 0, r.err);
  const versions = results.map((r) => (JSON.parse(r.out) as { record: { version: number } }).record.version).sort((a, b) => a - b);
  assert.deepEqual(versions, [1, 2, 3, 4, 5]);
  const records = await listVersions('plant-c', { registry });
  assert.deepEqual(records.map((r) => r.version), [1, 2, 3, 4, 5]);
  await Promise.all(records.map((r) => (r.version % 2 ? approveVersion : rejectVersion)('plant-c', r.version, { registry })));
  assert.deepEqual((await listVersions('plant-c', { registry })).map((r) => r.status), ['Approved', 'Rejected', 'Approved', 'Rejected', 'Approved']);
  assert.equal((await getDeployable('plant-c', { registry })).record.version, 5);
  assert.deepEqual((await readdir(join(registry, 'plant-c'))).sort(), ['versions']);
  assert.deepEqual((await readdir(registry)).sort(), ['plant-c']);
});

test('withLock: mutual exclusion in-process, and a stale lock (dead owner, or too old) is broken', async () => {
  const lock = join(dir, 'locks', '.lock');
  const counter = join(dir, 'locks', 'counter');
  await withLock(lock, async () => writeFile(counter, '0'));
  await Promise.all(
    Array.from({ length: 20 }, () =>
      withLock(lock, async () => {
        const v = Number(await readFile(counter, 'utf8'));
        await new Promise((r) => setTimeout(r, 1));
        await writeFile(counter, String(v + 1));
      }),
    ),
  );
  assert.equal(await readFile(counter, 'utf8'), '20');

  const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
  await writeFile(lock, JSON.stringify({ pid: dead, host: hostname(), nonce: 'x', createdAt: new Date().toISOString() }));
  assert.equal(await withLock(lock, async () => 'took it', { timeoutMs: 5000 }), 'took it');

  await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'y', createdAt: new Date().toISOString() }));
  const old = new Date(Date.now() - 120_000);
  await utimes(lock, old, old);
  assert.equal(await withLock(lock, async () => 'old lock broken', { timeoutMs: 5000 }), 'old lock broken');

  // A live, fresh lock is respected until the timeout.
  await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), nonce: 'z', createdAt: new Date().toISOString() }));
  await assert.rejects(withLock(lock, async () => 'no', { timeoutMs: 200 }), (e: unknown) => isErrorCode(e, 'UNAVAILABLE'));
  await rm(lock);
});

test('compareMetrics knows error metrics go down and scores go up', () => {
  assert.deepEqual(compareMetrics({ rmse: 1, r2: 0.9, nmbe: -0.02, rows: 10 }, { rmse: 2, r2: 0.95, nmbe: 0.05, rows: 10 }), [
    { metric: 'nmbe', candidate: -0.02, approved: 0.05, delta: -0.07, better: true },
    { metric: 'r2', candidate: 0.9, approved: 0.95, delta: 0.9 - 0.95, better: false },
    { metric: 'rmse', candidate: 1, approved: 2, delta: -1, better: true },
    { metric: 'rows', candidate: 10, approved: 10, delta: 0 },
  ]);
  assert.deepEqual(compareMetrics({ accuracy: 0.8 }, undefined), [{ metric: 'accuracy', candidate: 0.8 }]);
});
