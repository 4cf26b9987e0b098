// Shared setup of the edge-bundle tests: a real model package (init-model's template, a ridge
// regression of line energy), models trained from it through the real training runner, a signing
// key and a trust store, and bundles built from them.
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initModel, newSigningKey, trainPackage } from '../../lib/model/index.ts';
import { buildCodeBundle, buildModelBundle } from '../../lib/bundle/index.ts';

export interface Fixture {
  dir: string;
  /** The package folder (its name is the package name the models record). */
  pkg: string;
  key: string;
  otherKey: string;
  trust: string;
  /** Trust store holding only the other key. */
  otherTrust: string;
  cleanup(): Promise<void>;
}

export async function fixture(prefix = 'mw-bundle-'): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const pkg = join(dir, 'src', 'press-energy');
  await initModel(pkg);
  const k = await newSigningKey(join(dir, 'keys'), 'release');
  const o = await newSigningKey(join(dir, 'keys'), 'intruder');
  const trust = join(dir, 'trust');
  const otherTrust = join(dir, 'trust-other');
  await mkdir(trust);
  await mkdir(otherTrust);
  await cp(k.publicKey, join(trust, 'release.pub'));
  await cp(o.publicKey, join(otherTrust, 'intruder.pub'));
  return { dir, pkg, key: k.privateKey, otherKey: o.privateKey, trust, otherTrust, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Trains the package on its sample (l2 differs per version so the coefficients do) and returns the model dir. */
export async function trainVersion(f: Fixture, version: string, l2: number, pkg = f.pkg): Promise<string> {
  const { modelDir } = await trainPackage({ package: pkg, base: join(f.dir, `ml-${version}`), channels: { train: join(f.pkg, 'sample') }, version, hyperparameters: { l2: String(l2) } });
  return modelDir;
}

export async function modelBundle(f: Fixture, version: string, l2: number, key = f.key): Promise<string> {
  const out = join(f.dir, 'bundles', `model-${version}.mwb`);
  await buildModelBundle(await trainVersion(f, version, l2), out, key);
  return out;
}

/**
 * A code version of the package: a copy whose predict.ts is changed by `edit` (e.g. to round, or
 * to throw), bundled under the same package name.
 */
export async function codeBundle(f: Fixture, version: string, edit: (src: string) => string = (s) => s, key = f.key): Promise<string> {
  const copy = join(f.dir, `code-${version}`, 'press-energy');
  await rm(copy, { recursive: true, force: true });
  await cp(f.pkg, copy, { recursive: true });
  const file = join(copy, 'predict.ts');
  await writeFile(file, edit(await readFile(file, 'utf8')));
  const out = join(f.dir, 'bundles', `code-${version}.mwb`);
  await buildCodeBundle(copy, out, key, { version });
  return out;
}

/** predict.ts of the template, changed so every prediction is rounded to whole kWh. */
export const ROUNDED = (src: string) => src.replace('return X.map((row) => applyLinear(model, row));', 'return X.map((row) => Math.round(applyLinear(model, row)));');
/** predict.ts changed so predict throws: such code must never be switched to. */
export const BROKEN = (src: string) => src.replace('return X.map((row) => applyLinear(model, row));', "throw new Error('coefficient table out of range');");
