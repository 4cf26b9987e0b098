/**
 * The bundle file: one file that carries a folder to an edge box, checkable before anything of it
 * is used. It is a small format of its own rather than tar, because the manifest (every member's
 * path, size and SHA-256) and the signature over the manifest must come first, so a reader can
 * refuse a bundle from an unknown key before it writes a byte, and can tell a truncated transfer
 * from a complete one without a second file:
 *
 * ```
 * "MWBUNDLE1\n"
 * u32 BE length, manifest (UTF-8 JSON, the exact bytes that were signed)
 * u32 BE length, signature (UTF-8 JSON: key id, Ed25519 signature over the manifest bytes)
 * every member's bytes, in manifest order, nothing after the last
 * ```
 */
import { createHash, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { open, mkdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { fsyncDir } from '../durable/index.ts';
import { keyIdOf, REVOKED_FILE, type TrustStore } from '../model/signing.ts';

export const BUNDLE_MAGIC = 'MWBUNDLE1\n';
/** A manifest or signature block larger than this is not a bundle (it bounds what a reader allocates). */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const CHUNK = 1024 * 1024;

/** One file of a bundle. */
export interface BundleMember {
  /** `/`-separated path inside the bundle's payload folder. */
  path: string;
  size: number;
  sha256: string;
}

/** What a bundle holds; its exact bytes are what the signature covers. */
export interface BundleManifest {
  format: 1;
  kind: 'model' | 'code';
  name: string;
  version: string;
  createdAt: string;
  members: BundleMember[];
  /** Model bundles: the package the model runs with (a built-in name or a package folder name) and its task. */
  model?: { algorithm: string; package: string; builtin: boolean; task: string };
  /** Code bundles: the package folder name and the versions of the packages its code imports. */
  code?: { package: string; dependencies: { name: string; version: string }[] };
}

/** The signature block of a bundle. */
export interface BundleSignature {
  format: 1;
  algorithm: 'ed25519';
  keyId: string;
  manifestSha256: string;
  signedAt: string;
  signature: string;
}

/** A bundle whose header was read and whose signature was checked against a trust store. */
export interface OpenedBundle {
  file: string;
  manifest: BundleManifest;
  /** The manifest's exact bytes as UTF-8 text (kept so the signature can be checked again on the box). */
  manifestText: string;
  signature: BundleSignature;
  /** SHA-256 of the manifest bytes: identifies the bundle's content. */
  manifestSha256: string;
  /** Offset of the first member's bytes. */
  dataOffset: number;
}

function refuse(file: string, check: string, why: string): MillwrightError {
  return new MillwrightError('INTEGRITY', `bundle ${file} refused (${check}): ${why}`, { details: { check } });
}

/**
 * Writes a bundle of the files `members` (paths relative to `root`) to `out`: a hidden temp file
 * beside it, fsync, rename, so `out` is either the whole bundle or absent. Each file is hashed
 * again while it is copied: a file that changed after its hash was taken fails the build.
 */
export async function writeBundle(out: string, root: string, manifest: BundleManifest, key: KeyObject): Promise<{ signature: BundleSignature; bytes: number }> {
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 2));
  const signature: BundleSignature = {
    format: 1,
    algorithm: 'ed25519',
    keyId: keyIdOf(key),
    manifestSha256: createHash('sha256').update(manifestBytes).digest('hex'),
    signedAt: new Date().toISOString(),
    signature: sign(null, manifestBytes, key).toString('base64'),
  };
  const sigBytes = Buffer.from(JSON.stringify(signature));
  await mkdir(dirname(out), { recursive: true });
  const tmp = join(dirname(out), `.${basename(out)}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  let bytes = 0;
  try {
    const write = async (b: Uint8Array) => {
      let off = 0;
      while (off < b.length) off += (await fh.write(b, off, b.length - off)).bytesWritten;
      bytes += b.length;
    };
    await write(Buffer.from(BUNDLE_MAGIC));
    for (const block of [manifestBytes, sigBytes]) {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(block.length);
      await write(len);
      await write(block);
    }
    for (const m of manifest.members) await copyMember(join(root, ...m.path.split('/')), m, write);
    await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, out);
  await fsyncDir(dirname(out));
  return { signature, bytes };
}

async function copyMember(path: string, m: BundleMember, write: (b: Uint8Array) => Promise<void>): Promise<void> {
  const src = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(CHUNK);
    let done = 0;
    for (;;) {
      const { bytesRead } = await src.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const part = buf.subarray(0, bytesRead);
      hash.update(part);
      await write(part);
      done += bytesRead;
    }
    if (done !== m.size || hash.digest('hex') !== m.sha256) throw new MillwrightError('CONFLICT', `${path} changed while the bundle was being written; build it again`);
  } finally {
    await src.close();
  }
}

async function readExactly(fh: FileHandle, length: number, position: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let off = 0;
  while (off < length) {
    const { bytesRead } = await fh.read(buf, off, length - off, position + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return off === length ? buf : buf.subarray(0, off);
}

const SEGMENT = /^[A-Za-z0-9._@+-]+$/;

/** Member paths: relative, no `..`, no empty or hidden-temp segments, no duplicates. */
function checkMembers(file: string, members: unknown): BundleMember[] {
  if (!Array.isArray(members) || members.length === 0) throw refuse(file, 'manifest', '"members" must be a non-empty array');
  const seen = new Set<string>();
  for (const m of members as BundleMember[]) {
    const ok = m && typeof m.path === 'string' && Number.isSafeInteger(m.size) && m.size >= 0 && typeof m.sha256 === 'string' && /^[0-9a-f]{64}$/.test(m.sha256);
    if (!ok) throw refuse(file, 'manifest', `member ${JSON.stringify(m)} must be {path, size, sha256}`);
    const parts = m.path.split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..' || !SEGMENT.test(p))) throw refuse(file, 'manifest', `member path "${m.path}" is not a plain relative path`);
    if (seen.has(m.path)) throw refuse(file, 'manifest', `member "${m.path}" is listed twice`);
    seen.add(m.path);
  }
  return members as BundleMember[];
}

/** Validates a parsed manifest (data from a file, not trusted). */
export function validateBundleManifest(file: string, value: unknown): BundleManifest {
  const m = value as Partial<BundleManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== 1) throw refuse(file, 'manifest', 'not a millwright bundle manifest (format 1)');
  if (m.kind !== 'model' && m.kind !== 'code') throw refuse(file, 'manifest', `"kind" must be "model" or "code", got ${JSON.stringify(m.kind)}`);
  for (const k of ['name', 'version', 'createdAt'] as const) if (typeof m[k] !== 'string' || m[k] === '') throw refuse(file, 'manifest', `"${k}" must be a non-empty string`);
  if (m.kind === 'model' && (typeof m.model?.package !== 'string' || typeof m.model.algorithm !== 'string')) throw refuse(file, 'manifest', 'a model bundle needs "model.algorithm" and "model.package"');
  if (m.kind === 'code' && (typeof m.code?.package !== 'string' || !Array.isArray(m.code.dependencies))) throw refuse(file, 'manifest', 'a code bundle needs "code.package" and "code.dependencies"');
  checkMembers(file, m.members);
  return m as BundleManifest;
}

/**
 * Checks a signature block over manifest bytes against a trust store: not revoked, a trusted
 * key, a valid Ed25519 signature. Throws INTEGRITY naming the check.
 */
export function checkBundleSignature(file: string, manifestBytes: Uint8Array, sigValue: unknown, trust: TrustStore): BundleSignature {
  const sig = sigValue as Partial<BundleSignature> | null;
  if (!sig || sig.format !== 1 || sig.algorithm !== 'ed25519' || typeof sig.keyId !== 'string' || typeof sig.signature !== 'string') {
    throw refuse(file, 'malformed signature', 'the signature block is not a millwright Ed25519 signature');
  }
  if (trust.revoked.has(sig.keyId)) throw refuse(file, 'revoked key', `signed by key ${sig.keyId}, which ${join(trust.dir, REVOKED_FILE)} revokes`);
  const key = trust.keys.get(sig.keyId);
  if (!key) throw refuse(file, 'unknown key', `signed by key ${sig.keyId}, which is not in the trust store ${trust.dir} (trusted: ${[...trust.keys.keys()].join(', ')})`);
  if (!verify(null, manifestBytes, key, Buffer.from(sig.signature, 'base64'))) {
    throw refuse(file, 'bad signature', `the manifest is not what key ${sig.keyId} signed (it was changed after signing)`);
  }
  return sig as BundleSignature;
}

/**
 * Reads a bundle's header and checks its signature against `trust`, and that the file is exactly
 * as long as the manifest says (a cut transfer is refused here, before anything is unpacked).
 */
export async function openBundle(file: string, trust: TrustStore): Promise<OpenedBundle> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    throw new MillwrightError('NOT_FOUND', `bundle ${file} cannot be read: ${(err as Error).message}`);
  }
  try {
    const size = (await fh.stat()).size;
    const magic = await readExactly(fh, BUNDLE_MAGIC.length, 0);
    if (magic.toString('latin1') !== BUNDLE_MAGIC) throw refuse(file, 'format', `not a millwright bundle (it does not start with ${JSON.stringify(BUNDLE_MAGIC)}); make one with millwright bundle model|code`);
    let pos = BUNDLE_MAGIC.length;
    const blocks: Buffer[] = [];
    for (const what of ['manifest', 'signature']) {
      const len = await readExactly(fh, 4, pos);
      if (len.length < 4) throw refuse(file, 'truncated', `the file ends inside the ${what} header (${size} bytes)`);
      const n = len.readUInt32BE(0);
      if (n > MAX_HEADER_BYTES) throw refuse(file, 'format', `${what} block of ${n} bytes (at most ${MAX_HEADER_BYTES})`);
      const block = await readExactly(fh, n, pos + 4);
      if (block.length < n) throw refuse(file, 'truncated', `the file ends inside the ${what} (${size} bytes)`);
      blocks.push(block);
      pos += 4 + n;
    }
    const [manifestBytes, sigBytes] = blocks as [Buffer, Buffer];
    const parse = (b: Buffer, what: string): unknown => {
      try {
        return JSON.parse(b.toString('utf8'));
      } catch (err) {
        throw refuse(file, what, `not valid JSON (${(err as Error).message})`);
      }
    };
    const signature = checkBundleSignature(file, manifestBytes, parse(sigBytes, 'malformed signature'), trust);
    const manifest = validateBundleManifest(file, parse(manifestBytes, 'manifest'));
    const expected = pos + manifest.members.reduce((s, m) => s + m.size, 0);
    if (size < expected) throw refuse(file, 'truncated', `${size} bytes, the manifest describes ${expected}: the transfer was cut; send the bundle again`);
    if (size > expected) throw refuse(file, 'trailing bytes', `${size} bytes, the manifest describes ${expected}`);
    return { file, manifest, manifestText: manifestBytes.toString('utf8'), signature, manifestSha256: createHash('sha256').update(manifestBytes).digest('hex'), dataOffset: pos };
  } finally {
    await fh.close();
  }
}

/**
 * Unpacks an opened bundle's members under `dest` (which must not exist yet), hashing each while
 * it is written and fsyncing it; throws INTEGRITY naming the first member whose bytes differ from
 * the manifest. The caller publishes `dest` by renaming it only after this resolved.
 */
export async function extractBundle(b: OpenedBundle, dest: string): Promise<void> {
  const fh = await open(b.file, 'r');
  try {
    let pos = b.dataOffset;
    const buf = Buffer.alloc(CHUNK);
    const dirs = new Set<string>([dest]);
    await mkdir(dest, { recursive: false });
    for (const m of b.manifest.members) {
      const target = join(dest, ...m.path.split('/'));
      if (!dirs.has(dirname(target))) {
        await mkdir(dirname(target), { recursive: true });
        dirs.add(dirname(target));
      }
      const out = await open(target, 'wx');
      const hash = createHash('sha256');
      try {
        let left = m.size;
        while (left > 0) {
          const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, left), pos);
          if (bytesRead === 0) throw refuse(b.file, 'truncated', `the file ends inside member "${m.path}"`);
          const part = buf.subarray(0, bytesRead);
          hash.update(part);
          let off = 0;
          while (off < part.length) off += (await out.write(part, off, part.length - off)).bytesWritten;
          pos += bytesRead;
          left -= bytesRead;
        }
        await out.sync();
      } finally {
        await out.close();
      }
      const actual = hash.digest('hex');
      if (actual !== m.sha256) throw refuse(b.file, 'member modified', `"${m.path}" has sha256 ${actual.slice(0, 12)}…, the signed manifest says ${m.sha256.slice(0, 12)}…`);
    }
    for (const d of [...dirs].sort((x, y) => y.length - x.length)) await fsyncDir(d);
  } finally {
    await fh.close();
  }
}

