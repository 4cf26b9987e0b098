import { resolve } from 'node:path';
import { parseCommandArgs, usageError, type Command } from '../command.ts';
import { readEnv } from '../../lib/config/index.ts';
import { buildCodeBundle, buildModelBundle, deployBundle, rollbackDeployment, type DeploymentRecord } from '../../lib/bundle/index.ts';
import { healthCheck } from '../../serve/health-check.ts';

const bundleCommand: Command = {
  name: 'bundle',
  summary: 'Build a signed model bundle or inference-code bundle for an edge box',
  usage: `millwright bundle model <model-dir> --out FILE --key KEY
millwright bundle code <package-dir> --out FILE --key KEY [--version V]

One file holding a folder, its manifest (every member's path, size and SHA-256) and an Ed25519
signature over that manifest. A model bundle carries a verified artifact (model.json, model.sig
when signed, every listed file); a code bundle carries a model package folder (predict.ts,
features.ts, ... without node_modules) and the versions of the packages its code imports.
Ship them separately and install them with: millwright deploy FILE --to DIR.

  --out FILE     the bundle to write (replaced atomically)
  --key KEY      Ed25519 private key (millwright keys new)
  --version V    code version (default: package.json's version, else sha-<content hash>)`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { allowPositionals: true, options: { out: { type: 'string' }, key: { type: 'string' }, version: { type: 'string' } } });
    const [kind, dir] = positionals;
    if ((kind !== 'model' && kind !== 'code') || !dir || positionals.length !== 2) throw usageError('expected: millwright bundle model|code <dir> --out FILE --key KEY');
    if (!values.out) throw usageError('bundle needs --out FILE');
    if (!values.key) throw usageError('bundle needs --key KEY (make one with: millwright keys new)');
    if (kind === 'model' && values.version) throw usageError('--version is for code bundles: a model bundle carries the version in its model.json');
    const out = resolve(io.cwd, values.out);
    const key = resolve(io.cwd, values.key);
    const b = kind === 'model' ? await buildModelBundle(resolve(io.cwd, dir), out, key) : await buildCodeBundle(resolve(io.cwd, dir), out, key, { version: values.version });
    const deps = b.manifest.code?.dependencies.map((d) => `${d.name}@${d.version}`).join(', ');
    io.out(`${kind} bundle ${b.manifest.name}@${b.manifest.version}: ${b.manifest.members.length} files, ${b.bytes} bytes, signed by ${b.signature.keyId} -> ${b.file}${deps ? `\n  locked dependencies: ${deps}` : ''}\n`);
    return 0;
  },
};

const describe = (r: DeploymentRecord) => `deployment ${r.seq}: model ${r.model.id} with code ${r.code?.id ?? '(built-in)'}`;

const deployCommand: Command = {
  name: 'deploy',
  summary: 'Install a model or code bundle into an edge folder; switch to the new pair after a health check',
  usage: `millwright deploy <bundle> --to DIR [--trust T]

Checks the bundle's signature against the trust store and its length before unpacking, every
member's SHA-256 while unpacking (into DIR/.staging, renamed into DIR/models or DIR/code when
whole). When DIR then holds a model and a code version of the same package, loads the model with
that code, runs the health check (one prediction on a typical row), writes the deployment record
DIR/deployments/<seq>.json and replaces DIR/current by rename. Any refusal, a cut transfer or a
killed deploy leaves the running pair as it was. The previous pair is kept: millwright rollback.

  --to DIR      the edge folder
  --trust T     trust store (default: env MILLWRIGHT_TRUST_DIR)`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { allowPositionals: true, options: { to: { type: 'string' }, trust: { type: 'string' } } });
    if (positionals.length !== 1) throw usageError('deploy expects one bundle file');
    if (!values.to) throw usageError('deploy needs --to DIR (the edge folder)');
    const trust = values.trust ?? readEnv('MILLWRIGHT_TRUST_DIR', io.env);
    if (!trust) throw usageError('deploy needs --trust T (or MILLWRIGHT_TRUST_DIR): a bundle is only installed if a trusted key signed it');
    const r = await deployBundle(resolve(io.cwd, positionals[0]!), { to: resolve(io.cwd, values.to), trust: resolve(io.cwd, trust), healthCheck });
    io.out(r.record ? `${r.kind} ${r.id} received; switched to ${describe(r.record)} (previous: ${r.record.previous ?? 'none'})\n` : `${r.note}\n`);
    return 0;
  },
};

const rollbackCommand: Command = {
  name: 'rollback',
  summary: 'Return an edge folder to the model/code pair that ran before the current one',
  usage: `millwright rollback --dir DIR [--trust T]

Checks the previous pair's files again (and its signatures with --trust), runs the health check,
then replaces DIR/current by rename. A server following DIR (serve --deployment DIR) switches
blue/green on its next poll.

  --dir DIR     the edge folder
  --trust T     also check the previous pair's signatures (default: env MILLWRIGHT_TRUST_DIR)`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { allowPositionals: true, options: { dir: { type: 'string' }, trust: { type: 'string' } } });
    if (positionals.length !== 0) throw usageError('rollback takes no positional argument (use --dir DIR)');
    if (!values.dir) throw usageError('rollback needs --dir DIR (the edge folder)');
    const trust = values.trust ?? readEnv('MILLWRIGHT_TRUST_DIR', io.env);
    const r = await rollbackDeployment(resolve(io.cwd, values.dir), { healthCheck, ...(trust ? { trust: resolve(io.cwd, trust) } : {}) });
    io.out(`rolled back from ${describe(r.from)} to ${describe(r.record)}\n`);
    return 0;
  },
};

/** CLI subcommands of this module, registered by cli/main.ts. */
export const bundleCommands: Command[] = [bundleCommand, deployCommand, rollbackCommand];
