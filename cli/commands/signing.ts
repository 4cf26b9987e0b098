import { resolve } from 'node:path';
import { parseCommandArgs, usageError, type Command } from '../command.ts';
import { readEnv } from '../../lib/config/index.ts';
import { loadTrustStore, newSigningKey, signModel, verifySignedModel } from '../../lib/model/index.ts';

const keysCommand: Command = {
  name: 'keys',
  summary: 'Make an Ed25519 key pair for signing model artifacts',
  usage: `millwright keys new [--dir DIR] [--name NAME]

Writes DIR/NAME.key (private, mode 0600: keep it with the publisher, never on an edge box) and
DIR/NAME.pub (copy it into each box's trust store). Several .pub files in a trust store are all
trusted (key rotation); list a retired key's id in the store's revoked.txt to revoke it.

  --dir DIR     where the pair goes (default ./keys)
  --name NAME   file name of the pair (default: millwright-<date>)`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { allowPositionals: true, options: { dir: { type: 'string' }, name: { type: 'string' } } });
    if (positionals[0] !== 'new' || positionals.length !== 1) throw usageError('expected: millwright keys new [--dir DIR] [--name NAME]');
    const k = await newSigningKey(resolve(io.cwd, values.dir ?? 'keys'), values.name ?? `millwright-${new Date().toISOString().slice(0, 10)}`);
    io.out(`key ${k.keyId}\n  private: ${k.privateKey}\n  public:  ${k.publicKey}\n`);
    return 0;
  },
};

const signCommand: Command = {
  name: 'sign',
  summary: 'Sign a model artifact (model.json, which lists every file\'s SHA-256) with an Ed25519 key',
  usage: `millwright sign <model-dir> --key FILE

Verifies the artifact's checksums, then writes <model-dir>/model.sig: the key id and an Ed25519
signature over model.json (name, version, creation time and every file's SHA-256).`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { allowPositionals: true, options: { key: { type: 'string' } } });
    if (positionals.length !== 1) throw usageError('sign expects one model dir');
    if (!values.key) throw usageError('sign needs --key FILE (make one with: millwright keys new)');
    const sig = await signModel(resolve(io.cwd, positionals[0]!), resolve(io.cwd, values.key));
    io.out(`signed ${sig.name} ${sig.version} with key ${sig.keyId}\n`);
    return 0;
  },
};

const verifyCommand: Command = {
  name: 'verify',
  summary: 'Check a model artifact against a trust store: signature, signer, every file',
  usage: `millwright verify <model-dir> [--trust DIR]

The checks serve and loadModel run before loading: signed, signer not revoked, signer trusted,
signature valid over model.json, every file as listed (none changed, missing or extra, no
symlink). Exit 1 naming the failed check.

  --trust DIR   trust store (default: env MILLWRIGHT_TRUST_DIR)`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { allowPositionals: true, options: { trust: { type: 'string' } } });
    if (positionals.length !== 1) throw usageError('verify expects one model dir');
    const dir = values.trust ?? readEnv('MILLWRIGHT_TRUST_DIR', io.env);
    if (!dir) throw usageError('verify needs --trust DIR (or MILLWRIGHT_TRUST_DIR)');
    const r = await verifySignedModel(resolve(io.cwd, positionals[0]!), await loadTrustStore(resolve(io.cwd, dir)));
    io.out(`ok: ${r.manifest.name} ${r.manifest.version}, signed by ${r.keyId} at ${r.signature.signedAt}, ${Object.keys(r.manifest.files).length} files verified\n`);
    return 0;
  },
};

export const signingCommands: Command[] = [keysCommand, signCommand, verifyCommand];
