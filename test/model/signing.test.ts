// Signed artifacts against tampering: every file flipped one byte at a time, manifests swapped
// between versions, an older signed version replayed, unsigned, unknown, revoked and rotated
// keys, extra, missing and symlinked files; each refusal names its check. The server refuses an
// unsigned model at start and an older one on reload while it keeps serving the newer.
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadTrustStore, registerModel, signModel, verifySignedModel, loadModel, readManifest, type TrustStore } from '../../lib/model/index.ts';
import { isErrorCode, MillwrightError } from '../../lib/errors/index.ts';
import { startServer } from '../../serve/index.ts';
import { trainEnergyForest } from '../serve/fixtures/rf-model.ts';
import { scratch } from '../serve/helpers.ts';
import { runCli } from '../helpers/io.ts';

let dir: string;
let cleanup: () => Promise<void>;
let v1: string;
let v2: string;
let trustDir: string;
let trust: TrustStore;
before(async () => {
  const s = await scratch('mw-signing-');
  dir = s.dir;
  cleanup = s.cleanup;
  v1 = (await trainEnergyForest(join(dir, 'ml1'), { trees: 3, maxDepth: 3, rows: 600, version: 'one' })).modelDir;
  await new Promise((r) => setTimeout(r, 20)); // v2 is created strictly later
  v2 = (await trainEnergyForest(join(dir, 'ml2'), { trees: 4, maxDepth: 3, rows: 600, version: 'two' })).modelDir;
  for (const name of ['a', 'b']) {
    const r = await runCli(['keys', 'new', '--dir', 'keys', '--name', name], dir);
    assert.equal(r.code, 0, r.err);
  }
  trustDir = join(dir, 'trust');
  await mkdir(trustDir);
  await copyFile(join(dir, 'keys', 'a.pub'), join(trustDir, 'a.pub'));
  const signed = await runCli(['sign', v1, '--key', 'keys/a.key'], dir);
  assert.equal(signed.code, 0, signed.err);
  await signModel(v2, join(dir, 'keys', 'a.key'));
  trust = await loadTrustStore(trustDir);
});
after(async () => cleanup?.());

async function refusal(modelDir: string, t: TrustStore = trust, opts = {}): Promise<string> {
  try {
    await verifySignedModel(modelDir, t, opts);
  } catch (err) {
    assert.ok(err instanceof MillwrightError, String(err));
    return String(err.details?.check);
  }
  return 'accepted';
}

async function copyOf(src: string, name: string): Promise<string> {
  const out = join(dir, 'copies', name);
  await rm(out, { recursive: true, force: true });
  await cp(src, out, { recursive: true });
  return out;
}

test('a signed artifact verifies; every flipped byte, in any file, is refused with the check that failed', async () => {
  assert.equal(await refusal(v1), 'accepted');
  const manifest = await readManifest(v1);
  for (const rel of [...Object.keys(manifest.files), 'model.json']) {
    const copy = await copyOf(v1, 'flip');
    const path = join(copy, ...rel.split('/'));
    const bytes = await readFile(path);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await writeFile(path, bytes);
    assert.equal(await refusal(copy), rel === 'model.json' ? 'bad signature' : 'files', rel);
  }
});

test('swapped manifests, extra, missing and symlinked files, unsigned', async () => {
  const swapped = await copyOf(v1, 'swap');
  await copyFile(join(v2, 'model.json'), join(swapped, 'model.json'));
  assert.equal(await refusal(swapped), 'bad signature', 'v2 manifest under v1 signature');
  await copyFile(join(v2, 'model.sig'), join(swapped, 'model.sig'));
  assert.equal(await refusal(swapped), 'files', "v2's manifest and signature over v1's files");
  const extra = await copyOf(v1, 'extra');
  await writeFile(join(extra, 'backdoor.js'), 'export {}');
  assert.equal(await refusal(extra), 'files');
  const missing = await copyOf(v1, 'missing');
  await unlink(join(missing, Object.keys((await readManifest(v1)).files)[0]!));
  assert.equal(await refusal(missing), 'files');
  const linked = await copyOf(v1, 'link');
  const first = Object.keys((await readManifest(v1)).files)[0]!;
  await rm(join(linked, first));
  await symlink(join(v1, first), join(linked, first));
  assert.equal(await refusal(linked), 'files');
  const unsigned = await copyOf(v1, 'unsigned');
  await unlink(join(unsigned, 'model.sig'));
  assert.equal(await refusal(unsigned), 'unsigned');
});

test('keys: unknown, rotated (several trusted), revoked', async () => {
  const byB = await copyOf(v1, 'by-b');
  await signModel(byB, join(dir, 'keys', 'b.key'));
  assert.equal(await refusal(byB), 'unknown key');
  const rotated = join(dir, 'trust-rotated');
  await mkdir(rotated, { recursive: true });
  await copyFile(join(dir, 'keys', 'a.pub'), join(rotated, 'a.pub'));
  await copyFile(join(dir, 'keys', 'b.pub'), join(rotated, 'b.pub'));
  const both = await loadTrustStore(rotated);
  assert.equal(await refusal(byB, both), 'accepted');
  assert.equal(await refusal(v1, both), 'accepted');
  const keyA = JSON.parse(await readFile(join(v1, 'model.sig'), 'utf8')).keyId as string;
  await writeFile(join(rotated, 'revoked.txt'), `# retired 2026-12\n${keyA}\n`);
  const revoked = await loadTrustStore(rotated);
  assert.equal(await refusal(v1, revoked), 'revoked key');
  assert.equal(await refusal(byB, revoked), 'accepted');
});

test('replaying an older signed version is a downgrade unless allowed', async () => {
  const running = await readManifest(v2);
  assert.equal(await refusal(v1, trust, { running }), 'downgrade');
  assert.equal(await refusal(v1, trust, { running, allowDowngrade: true }), 'accepted');
  await assert.rejects(loadModel(v1, { trust: trustDir, running }), (e) => isErrorCode(e, 'CONFLICT') && /older than the running/.test(e.message));
  const m = await loadModel(v2, { trust: trustDir });
  assert.equal(m.manifest.version, 'two');
});

test('serve with a trust store: unsigned refused at start; an older version refused on reload, the newer keeps serving', async () => {
  const unsigned = await copyOf(v2, 'unsigned-serve');
  await unlink(join(unsigned, 'model.sig'));
  await assert.rejects(startServer({ modelDir: unsigned, port: 0, workers: 1, log: () => {}, trust: { dir: trustDir } }), (e) => isErrorCode(e, 'INTEGRITY') && /\(unsigned\)/.test(e.message));
  const srv = await startServer({ modelDir: v2, port: 0, workers: 1, log: () => {}, trust: { dir: trustDir } });
  try {
    assert.equal(srv.model()?.version, 'two');
    await assert.rejects(srv.reload(v1), (e) => isErrorCode(e, 'CONFLICT') && /downgrade.*still serving version two/.test(e.message));
    assert.equal(srv.model()?.version, 'two');
    const ping = await fetch(`${srv.url}/ping`);
    assert.equal(ping.status, 200);
  } finally {
    await srv.close();
  }
});

test('the registry records the signer; millwright verify names the failed check', async () => {
  const { record } = await registerModel(v1, { group: 'signed', registry: join(dir, 'registry'), trust });
  assert.equal(record.signer, JSON.parse(await readFile(join(v1, 'model.sig'), 'utf8')).keyId);
  const ok = await runCli(['verify', v1, '--trust', 'trust'], dir);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.out, /^ok: .* signed by [0-9a-f]{16}/);
  const bad = await runCli(['verify', join(dir, 'copies', 'by-b'), '--trust', 'trust'], dir);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /refused \(unknown key\)/);
});
