/**
 * Signed model artifacts. A checksum stored beside a file proves nothing about who wrote it, so
 * the publisher signs the manifest (`model.json`, which lists every file's SHA-256, the model's
 * name, version and creation time) with an Ed25519 key (`node:crypto`), and the edge box holds a
 * trust store: the public keys it accepts, and a revocation list. Before a model is loaded the
 * signature, the signer, every file and the version order are checked, and a refusal says which
 * check failed.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import { writeFileAtomic } from '../durable/index.ts';
import { MANIFEST_FILE, sha256, verifyArtifact } from './artifact.ts';
import type { ModelManifest } from './contract.ts';

/** The signature's file name inside a model dir (not itself listed in the manifest). */
export const SIGNATURE_FILE = 'model.sig';
/** The revocation list inside a trust store: one key id per line (`#` comments allowed). */
export const REVOKED_FILE = 'revoked.txt';

/** `model.sig`. */
export interface ModelSignature {
  format: 1;
  algorithm: 'ed25519';
  keyId: string;
  name: string;
  version: string;
  manifestSha256: string;
  signedAt: string;
  /** Base64 Ed25519 signature over the exact bytes of model.json. */
  signature: string;
}

/** The keys an edge box accepts. */
export interface TrustStore {
  dir: string;
  keys: Map<string, KeyObject>;
  revoked: Set<string>;
}

/** A key's id: the first 16 hex digits of the SHA-256 of its public key (SPKI DER). */
export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return sha256(pub.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

/**
 * Makes an Ed25519 key pair: `<dir>/<name>.key` (PKCS#8 PEM, mode 0600: keep it off the edge
 * boxes) and `<dir>/<name>.pub` (copy it into each box's trust store).
 *
 * @example
 * import { newSigningKey } from 'millwright';
 * const { keyId, publicKey } = await newSigningKey('keys', 'release-2026');
 */
export async function newSigningKey(dir: string, name: string): Promise<{ keyId: string; privateKey: string; publicKey: string }> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new MillwrightError('BAD_INPUT', `key name "${name}": use letters, digits, ".", "_" or "-"`);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  await mkdir(resolve(dir), { recursive: true });
  const privPath = join(resolve(dir), `${name}.key`);
  const pubPath = join(resolve(dir), `${name}.pub`);
  // 'wx': never overwrite a key, a lost private key cannot be recovered.
  await writeFile(privPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EEXIST' ? new MillwrightError('CONFLICT', `${privPath} exists; choose another --name`) : err;
  });
  await writeFile(pubPath, publicKey.export({ type: 'spki', format: 'pem' }), { flag: 'wx' });
  return { keyId: keyIdOf(publicKey), privateKey: privPath, publicKey: pubPath };
}

/**
 * Signs a model dir: verifies it first (a broken artifact is never signed), then writes
 * `model.sig` atomically.
 *
 * @example
 * import { signModel } from 'millwright';
 * await signModel('/opt/ml/model', 'keys/release-2026.key'); // { keyId: '3fa0…', ... }
 */
export async function signModel(modelDir: string, keyFile: string): Promise<ModelSignature> {
  const dir = resolve(modelDir);
  const manifest = await verifyArtifact(dir);
  let key: KeyObject;
  try {
    key = createPrivateKey(await readFile(resolve(keyFile)));
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `--key ${keyFile}: not a readable private key (${(err as Error).message}); make one with: millwright keys new`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new MillwrightError('BAD_INPUT', `--key ${keyFile}: an ${key.asymmetricKeyType} key; model signatures use Ed25519 (millwright keys new)`);
  const bytes = await readFile(join(dir, MANIFEST_FILE));
  const sig: ModelSignature = {
    format: 1,
    algorithm: 'ed25519',
    keyId: keyIdOf(key),
    name: manifest.name,
    version: manifest.version,
    manifestSha256: sha256(bytes),
    signedAt: new Date().toISOString(),
    signature: sign(null, bytes, key).toString('base64'),
  };
  await writeFileAtomic(join(dir, SIGNATURE_FILE), `${JSON.stringify(sig, null, 2)}\n`);
  return sig;
}

/**
 * Reads a trust store folder: every `*.pub` is a trusted key (several at once for key rotation),
 * `revoked.txt` lists revoked key ids.
 *
 * @example
 * import { loadTrustStore } from 'millwright';
 * const trust = await loadTrustStore('/etc/millwright/trust');
 */
export async function loadTrustStore(dir: string): Promise<TrustStore> {
  const root = resolve(dir);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    throw new MillwrightError('NOT_FOUND', `trust store ${root} cannot be read: ${(err as Error).message}`);
  }
  const keys = new Map<string, KeyObject>();
  for (const n of names.filter((x) => x.endsWith('.pub')).sort()) {
    try {
      const k = createPublicKey(await readFile(join(root, n)));
      keys.set(keyIdOf(k), k);
    } catch (err) {
      throw new MillwrightError('BAD_INPUT', `trust store ${root}: ${n} is not a public key (${(err as Error).message})`);
    }
  }
  if (keys.size === 0) throw new MillwrightError('BAD_INPUT', `trust store ${root} holds no *.pub key: nothing could be trusted`);
  const revokedText = await readFile(join(root, REVOKED_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '';
    throw err;
  });
  const revoked = new Set(revokedText.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean));
  return { dir: root, keys, revoked };
}

/** Options of {@link verifySignedModel}. */
export interface VerifySignedOptions {
  /** The manifest of the model running now: an older one (by `createdAt`) is a downgrade. */
  running?: ModelManifest;
  /** Accept a downgrade (a deliberate rollback). Default false. */
  allowDowngrade?: boolean;
}

function refuse(dir: string, check: string, why: string): MillwrightError {
  return new MillwrightError('INTEGRITY', `model ${dir} refused (${check}): ${why}`, { details: { check } });
}

/**
 * The checks before a model is loaded on a box with a trust store, in order: signed at all,
 * signer not revoked, signer trusted, signature valid over model.json, every file as the
 * manifest lists it (none changed, missing or extra, no symlink), not older than the running
 * version unless allowed. Each refusal is INTEGRITY (downgrade: CONFLICT) naming the check.
 *
 * @example
 * import { loadTrustStore, verifySignedModel } from 'millwright';
 * const { keyId } = await verifySignedModel('/opt/ml/model', await loadTrustStore('/etc/millwright/trust'));
 */
export async function verifySignedModel(modelDir: string, trust: TrustStore, opts: VerifySignedOptions = {}): Promise<{ manifest: ModelManifest; keyId: string; signature: ModelSignature }> {
  const dir = resolve(modelDir);
  let sigText: string;
  try {
    sigText = await readFile(join(dir, SIGNATURE_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw refuse(dir, 'unsigned', `no ${SIGNATURE_FILE}; sign it with: millwright sign ${modelDir} --key KEY`);
    throw err;
  }
  let sig: ModelSignature;
  try {
    sig = JSON.parse(sigText) as ModelSignature;
    if (sig.format !== 1 || sig.algorithm !== 'ed25519' || typeof sig.keyId !== 'string' || typeof sig.signature !== 'string') throw new Error('unexpected fields');
  } catch (err) {
    throw refuse(dir, 'malformed signature', `${SIGNATURE_FILE} is not a millwright signature (${(err as Error).message})`);
  }
  if (trust.revoked.has(sig.keyId)) throw refuse(dir, 'revoked key', `signed by key ${sig.keyId}, which ${join(trust.dir, REVOKED_FILE)} revokes`);
  const key = trust.keys.get(sig.keyId);
  if (!key) throw refuse(dir, 'unknown key', `signed by key ${sig.keyId}, which is not in the trust store ${trust.dir} (trusted: ${[...trust.keys.keys()].join(', ')})`);
  const bytes = await readFile(join(dir, MANIFEST_FILE)).catch(() => undefined);
  if (!bytes || !verify(null, bytes, key, Buffer.from(sig.signature, 'base64'))) {
    throw refuse(dir, 'bad signature', `${MANIFEST_FILE} is not what key ${sig.keyId} signed (it was changed or swapped after signing)`);
  }
  let manifest: ModelManifest;
  try {
    manifest = await verifyArtifact(dir);
  } catch (err) {
    throw refuse(dir, 'files', (err as Error).message);
  }
  if (opts.running && !opts.allowDowngrade && Date.parse(manifest.createdAt) < Date.parse(opts.running.createdAt)) {
    throw new MillwrightError('CONFLICT', `model ${dir} refused (downgrade): version ${manifest.version} (created ${manifest.createdAt}) is older than the running ${opts.running.version} (created ${opts.running.createdAt}); pass --allow-downgrade for a deliberate rollback`, { details: { check: 'downgrade' } });
  }
  return { manifest, keyId: sig.keyId, signature: sig };
}
