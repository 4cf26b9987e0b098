// Model and code bundles built, signed and deployed into an edge folder independently; every
// refusal (tampered member, tampered manifest, unknown or revoked key, truncated file, code that
// fails its health check, a dependency at another version) leaves the running pair untouched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, readdir, stat, truncate, writeFile, cp, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import { currentDeployment, deployBundle, deploymentRecordFile, rollbackDeployment, buildCodeBundle, openBundle } from '../../lib/bundle/index.ts';
import { loadModel as loadPair } from '../../lib/bundle/edge-loader.ts';
import { keyIdOf, loadTrustStore } from '../../lib/model/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { healthCheck } from '../../serve/health-check.ts';
import { runCli } from '../helpers/io.ts';
import { BROKEN, ROUNDED, codeBundle, fixture, modelBundle, type Fixture } from './helpers.ts';

let f: Fixture;
let m1: string;
let m2: string;
let c1: string;
before(async () => {
  f = await fixture();
  m1 = await modelBundle(f, 'v1', 0.001);
  m2 = await modelBundle(f, 'v2', 50);
  c1 = await codeBundle(f, '1.0.0');
});
after(async () => f?.cleanup());

const row = aq.table({ production_units: [120], ambient_temp_c: [18.5] });
const edge = (name: string) => join(f.dir, 'edges', name);

async function predictCurrent(dir: string): Promise<{ seq: number; version: string; y: number }> {
  const rec = await currentDeployment(dir);
  assert.ok(rec, 'a current pair');
  const model = await loadPair(deploymentRecordFile(dir, rec.seq));
  return { seq: rec.seq, version: model.manifest.version, y: (await model.predict(row))[0] as number };
}

/** The edge folder's visible state: pointer, records, received versions; must not change on a refusal. */
async function snapshot(dir: string): Promise<string> {
  const names = async (d: string) => (existsSync(d) ? (await readdir(d)).filter((n) => !n.startsWith('.')).sort().join(',') : '-');
  const current = existsSync(join(dir, 'current')) ? JSON.parse(await readFile(join(dir, 'current'), 'utf8')).seq : '-';
  return `current=${current} records=${await names(join(dir, 'deployments'))} models=${await names(join(dir, 'models'))} code=${await names(join(dir, 'code'))} staging=${await names(join(dir, '.staging'))}`;
}

test('code then model: the pair switches only when both halves are there; a new model keeps the code, a new code keeps the model; rollback returns to the previous pair', async () => {
  const dir = edge('main');
  const first = await deployBundle(c1, { to: dir, trust: f.trust, healthCheck });
  assert.equal(first.record, undefined);
  assert.match(first.note!, /code press-energy@1\.0\.0 received; waiting for a model bundle trained with package "press-energy"/);
  assert.equal(await currentDeployment(dir), undefined);

  const r1 = await deployBundle(m1, { to: dir, trust: f.trust, healthCheck });
  assert.equal(r1.record?.seq, 1);
  assert.equal(r1.record?.model.id, 'press-energy@v1');
  assert.equal(r1.record?.code?.id, 'press-energy@1.0.0');
  assert.equal(r1.record?.model.keyId, keyIdOf((await loadTrustStore(f.trust)).keys.values().next().value!));
  const a = await predictCurrent(dir);
  // The template's data: energy ~ 45 + 3.1 u + 1.8 t.
  assert.ok(Math.abs(a.y - (45 + 3.1 * 120 + 1.8 * 18.5)) < 5, String(a.y));
  assert.equal(a.version, 'v1');

  const r2 = await deployBundle(m2, { to: dir, trust: f.trust, healthCheck });
  assert.deepEqual([r2.record?.seq, r2.record?.previous, r2.record?.model.id, r2.record?.code?.id], [2, 1, 'press-energy@v2', 'press-energy@1.0.0']);
  const b = await predictCurrent(dir);
  assert.equal(b.version, 'v2');
  assert.notEqual(b.y, a.y, 'the heavily regularised model answers differently');

  const r3 = await deployBundle(await codeBundle(f, '1.1.0', ROUNDED), { to: dir, trust: f.trust, healthCheck });
  assert.deepEqual([r3.record?.seq, r3.record?.previous, r3.record?.model.id, r3.record?.code?.id], [3, 2, 'press-energy@v2', 'press-energy@1.1.0']);
  const c = await predictCurrent(dir);
  assert.equal(c.y, Math.round(b.y), 'the new code version rounds');

  // Deploying what already runs changes nothing.
  const again = await deployBundle(m2, { to: dir, trust: f.trust, healthCheck });
  assert.equal(again.record, undefined);
  assert.match(again.note!, /already running \(deployment 3\)/);

  const back = await rollbackDeployment(dir, { healthCheck, trust: f.trust });
  assert.deepEqual([back.from.seq, back.record.seq], [3, 2]);
  assert.equal((await predictCurrent(dir)).y, b.y);
  const back2 = await rollbackDeployment(dir, { healthCheck });
  assert.equal(back2.record.seq, 1);
  assert.equal((await predictCurrent(dir)).y, a.y);
  await assert.rejects(rollbackDeployment(dir, { healthCheck }), (e: unknown) => isErrorCode(e, 'CONFLICT') && /first pair .* no previous pair/.test((e as Error).message));
  // Every received version is kept; the records tell which pair ran when.
  assert.deepEqual((await readdir(join(dir, 'deployments'))).sort(), ['000001.json', '000002.json', '000003.json']);
});

test('refusals leave the running pair untouched: tampered member, tampered manifest, unknown and revoked key, truncated, not a bundle', async () => {
  const dir = edge('refusals');
  await deployBundle(c1, { to: dir, trust: f.trust, healthCheck });
  await deployBundle(m1, { to: dir, trust: f.trust, healthCheck });
  const before = await snapshot(dir);
  const y = (await predictCurrent(dir)).y;
  const bytes = await readFile(m2);
  const opened = await openBundle(m2, await loadTrustStore(f.trust));
  const work = join(f.dir, 'bad');
  await mkdir(work, { recursive: true });

  const cases: { name: string; make: () => Promise<string>; check: RegExp; trust?: string }[] = [
    {
      name: 'flipped byte in the last member',
      make: async () => {
        const b = Buffer.from(bytes);
        b[b.length - 3]! ^= 0x01;
        return write('flip-member', b);
      },
      check: /\(member modified\): "coefficients\.json" has sha256/,
    },
    {
      name: 'flipped byte in every member, one at a time',
      make: async () => write('flip-first', flipAt(bytes, opened.dataOffset)),
      check: /\(member modified\): "model\.json"/,
    },
    {
      name: 'changed manifest (a member hash edited)',
      make: async () => {
        const text = bytes.toString('latin1');
        const i = text.indexOf('"sha256": "') + 11;
        return write('manifest', flipAt(bytes, i, 1));
      },
      check: /\(bad signature\)/,
    },
    { name: 'signed by a key the box does not trust', make: async () => m1, trust: f.otherTrust, check: /\(unknown key\): signed by key [0-9a-f]{16}, which is not in the trust store/ },
    {
      name: 'revoked key',
      make: async () => m2,
      trust: await revokedTrust(),
      check: /\(revoked key\)/,
    },
    { name: 'cut inside the members', make: async () => write('cut-data', bytes.subarray(0, opened.dataOffset + 100)), check: /\(truncated\): \d+ bytes, the manifest describes \d+: the transfer was cut/ },
    { name: 'cut inside the manifest', make: async () => write('cut-head', bytes.subarray(0, 60)), check: /\(truncated\): the file ends inside the manifest/ },
    { name: 'empty file', make: async () => write('empty', Buffer.alloc(0)), check: /\(format\): not a millwright bundle/ },
    { name: 'bytes appended', make: async () => write('long', Buffer.concat([bytes, Buffer.from('x')])), check: /\(trailing bytes\)/ },
  ];
  async function write(name: string, b: Uint8Array): Promise<string> {
    const p = join(work, `${name}.mwb`);
    await writeFile(p, b);
    return p;
  }
  async function revokedTrust(): Promise<string> {
    const t = join(f.dir, 'trust-revoked');
    await cp(f.trust, t, { recursive: true });
    const keyId = keyIdOf((await loadTrustStore(f.trust)).keys.values().next().value!);
    await writeFile(join(t, 'revoked.txt'), `# leaked on 2026-11-30\n${keyId}\n`);
    return t;
  }
  for (const c of cases) {
    const file = await c.make();
    await assert.rejects(deployBundle(file, { to: dir, trust: c.trust ?? f.trust, healthCheck }), (e: unknown) => isErrorCode(e, 'INTEGRITY') && c.check.test((e as Error).message), c.name);
    assert.equal(await snapshot(dir), before, c.name);
    assert.equal((await predictCurrent(dir)).y, y, c.name);
  }
  // Each member, one flipped byte at a time: all refused.
  let pos = opened.dataOffset;
  for (const m of opened.manifest.members) {
    const file = await write(`flip-${m.path.replace(/\W/g, '_')}`, flipAt(bytes, pos + Math.floor(m.size / 2)));
    await assert.rejects(deployBundle(file, { to: dir, trust: f.trust, healthCheck }), new RegExp(`member modified\\): "${m.path.replace('.', '\\.')}"`));
    pos += m.size;
  }
  assert.equal(await snapshot(dir), before);
  // The intact bundle still deploys afterwards.
  assert.equal((await deployBundle(m2, { to: dir, trust: f.trust, healthCheck })).record?.seq, 2);
});

function flipAt(b: Buffer, i: number, by = 0x20): Buffer {
  const c = Buffer.from(b);
  c[i]! ^= by;
  return c;
}

test('a code version whose predict fails the health check is refused and removed; the running pair keeps answering', async () => {
  const dir = edge('health');
  await deployBundle(c1, { to: dir, trust: f.trust, healthCheck });
  await deployBundle(m1, { to: dir, trust: f.trust, healthCheck });
  const before = await snapshot(dir);
  const broken = await codeBundle(f, '2.0.0-broken', BROKEN);
  await assert.rejects(
    deployBundle(broken, { to: dir, trust: f.trust, healthCheck }),
    (e: unknown) => isErrorCode(e, 'UNAVAILABLE') && /model press-energy@v1 \+ code press-energy@2\.0\.0-broken failed its health check: health check failed: predict threw on a typical row \(coefficient table out of range\)/.test((e as Error).message),
  );
  assert.equal(await snapshot(dir), before);
  assert.equal((await predictCurrent(dir)).version, 'v1');
});

test('a code bundle locks the versions of what it imports; a box that resolves another version refuses it', async () => {
  // A package that imports a helper library installed beside it.
  const src = join(f.dir, 'dep-src');
  const pkg = join(src, 'press-energy');
  await cp(f.pkg, pkg, { recursive: true });
  await mkdir(join(src, 'node_modules', 'kwh-units'), { recursive: true });
  await writeFile(join(src, 'node_modules', 'kwh-units', 'package.json'), JSON.stringify({ name: 'kwh-units', version: '1.2.0', type: 'module', main: 'index.js' }));
  await writeFile(join(src, 'node_modules', 'kwh-units', 'index.js'), 'export const toKwh = (x) => x;\n');
  const p = join(pkg, 'predict.ts');
  await writeFile(p, (await readFile(p, 'utf8')).replace("import { readFile } from 'node:fs/promises';", "import { readFile } from 'node:fs/promises';\n// @ts-expect-error a plain JS helper without types\nimport { toKwh } from 'kwh-units';").replace('applyLinear(model, row));', 'toKwh(applyLinear(model, row)));'));
  const built = await buildCodeBundle(pkg, join(f.dir, 'bundles', 'code-dep.mwb'), f.key, { version: '3.0.0' });
  assert.deepEqual(built.manifest.code?.dependencies, [{ name: 'kwh-units', version: '1.2.0' }]);
  assert.ok(!built.manifest.members.some((m) => m.path.includes('node_modules')));

  const dir = edge('deps');
  await mkdir(join(dir, 'node_modules', 'kwh-units'), { recursive: true });
  await writeFile(join(dir, 'node_modules', 'kwh-units', 'package.json'), JSON.stringify({ name: 'kwh-units', version: '1.3.0', type: 'module', main: 'index.js' }));
  await writeFile(join(dir, 'node_modules', 'kwh-units', 'index.js'), 'export const toKwh = (x) => x / 1000;\n');
  await deployBundle(m1, { to: dir, trust: f.trust, healthCheck });
  await assert.rejects(deployBundle(built.file, { to: dir, trust: f.trust, healthCheck }), (e: unknown) => isErrorCode(e, 'CONFLICT') && /\(dependencies\): this box resolves kwh-units 1\.3\.0 \(locked 1\.2\.0\)/.test((e as Error).message));
  assert.equal(existsSync(join(dir, 'code', 'press-energy@3.0.0')), false);
  // With the locked version installed the same bundle deploys and runs.
  await copyFile(join(src, 'node_modules', 'kwh-units', 'package.json'), join(dir, 'node_modules', 'kwh-units', 'package.json'));
  await copyFile(join(src, 'node_modules', 'kwh-units', 'index.js'), join(dir, 'node_modules', 'kwh-units', 'index.js'));
  const r = await deployBundle(built.file, { to: dir, trust: f.trust, healthCheck });
  assert.equal(r.record?.code?.id, 'press-energy@3.0.0');
  assert.ok((await predictCurrent(dir)).y > 300);
});

test('a received version changed on the box is refused by rollback; the CLI builds, deploys and rolls back', async () => {
  const dir = edge('cli');
  const out = join(f.dir, 'bundles', 'cli-code.mwb');
  const b = await runCli(['bundle', 'code', f.pkg, '--out', out, '--key', f.key, '--version', '0.9.0'], f.dir);
  assert.equal(b.code, 0, b.err);
  assert.match(b.out, /code bundle press-energy@0\.9\.0: \d+ files, \d+ bytes, signed by [0-9a-f]{16}/);
  const mo = join(f.dir, 'bundles', 'cli-model.mwb');
  const bm = await runCli(['bundle', 'model', join(f.dir, 'ml-v1', 'model'), '--out', mo, '--key', f.key], f.dir);
  assert.equal(bm.code, 0, bm.err);
  assert.equal((await runCli(['deploy', out, '--to', dir, '--trust', f.trust], f.dir)).code, 0);
  const d = await runCli(['deploy', mo, '--to', dir], f.dir, { MILLWRIGHT_TRUST_DIR: f.trust });
  assert.equal(d.code, 0, d.err);
  assert.match(d.out, /switched to deployment 1: model press-energy@v1 with code press-energy@0\.9\.0 \(previous: none\)/);
  const d2 = await runCli(['deploy', m2, '--to', dir, '--trust', f.trust], f.dir);
  assert.match(d2.out, /switched to deployment 2: model press-energy@v2/);
  const noTrust = await runCli(['deploy', m2, '--to', dir], f.dir);
  assert.equal(noTrust.code, 2);
  assert.match(noTrust.err, /deploy needs --trust T/);
  const wrong = await runCli(['deploy', m2, '--to', dir, '--trust', f.otherTrust], f.dir);
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /unknown key/);

  // Someone edits the previous pair's coefficients on the box: rollback refuses to return to it.
  const coef = join(dir, 'models', 'press-energy@v1', 'model', 'coefficients.json');
  await appendFile(coef, ' ');
  const rb = await runCli(['rollback', '--dir', dir], f.dir);
  assert.equal(rb.code, 1);
  assert.match(rb.err, /model press-energy@v1 on the edge box: "coefficients\.json" is modified/);
  assert.equal((await currentDeployment(dir))?.seq, 2);
  await truncate(coef, (await stat(coef)).size - 1);
  const ok = await runCli(['rollback', '--dir', dir], f.dir);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /rolled back from deployment 2: model press-energy@v2 with code press-energy@0\.9\.0 to deployment 1: model press-energy@v1/);
  const usage = await runCli(['bundle', 'weights', f.pkg], f.dir);
  assert.equal(usage.code, 2);
});
