import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, readFile, writeFile, mkdir, readdir, appendFile, unlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as aq from 'arquero';
import * as arrow from 'apache-arrow';
import { writeParquet, Table as WasmTable } from 'parquet-wasm/node';
import { runCli } from '../helpers/io.ts';
import { initModel, trainPackage, loadModel, verifyArtifact, sha256File, type ModelManifest } from '../../lib/model/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';

let dir: string;
let pkg: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'millwright-model-train-'));
  pkg = join(dir, 'pkg');
  await initModel(pkg);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, dir, env);

async function freshBase(name: string): Promise<string> {
  const base = join(dir, name);
  await mkdir(base, { recursive: true });
  return base;
}

test('init-model template trains from the CLI in the SageMaker layout and writes a verified manifest', async () => {
  const base = await freshBase('ml-cli');
  await mkdir(join(base, 'input', 'config'), { recursive: true });
  await writeFile(join(base, 'input', 'config', 'hyperparameters.json'), JSON.stringify({ holdout_fraction: '0.25', l2: '0.001' }));
  const r = await cli(['train', pkg, '--base', base, '--channel', `train=${join(pkg, 'sample')}`, '--hp', 'seed=7', '--version', 'v1']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /model pkg v1 .* written to/);
  const manifest = JSON.parse(await readFile(join(base, 'model', 'model.json'), 'utf8')) as ModelManifest;
  assert.equal(manifest.format, 1);
  assert.equal(manifest.algorithm, pkg);
  assert.deepEqual(manifest.features.map((f) => f.name), ['production_units', 'ambient_temp_c']);
  assert.equal(manifest.target?.name, 'energy_kwh');
  // String hyperparameters were parsed against the schema; --hp overrides the file for this run only.
  assert.deepEqual(manifest.hyperparameters, { target: 'energy_kwh', features: '', l2: 0.001, holdout_fraction: 0.25, seed: 7 });
  assert.equal(JSON.parse(await readFile(join(base, 'input', 'config', 'hyperparameters.json'), 'utf8')).seed, undefined);
  assert.equal(manifest.trainingData.rows, 240);
  assert.equal(manifest.trainingData.from, '2025-01-06T00:00:00.000Z');
  assert.equal(manifest.metrics.holdout?.rows, 60);
  // The sample is linear with noise sd ~ 4.2 kWh: a correct least-squares fit gets close to it.
  assert.ok(manifest.metrics.holdout!.rmse! < 6 && manifest.metrics.holdout!.r2! > 0.99, JSON.stringify(manifest.metrics));
  assert.deepEqual(manifest.baseline.map((b) => b.name), ['production_units', 'ambient_temp_c', 'energy_kwh']);
  assert.equal(manifest.baseline[0]!.count, 240);
  assert.match(manifest.codeVersion, /^millwright@\d+\.\d+\.\d+/);
  assert.deepEqual(Object.keys(manifest.files), ['coefficients.json']);
  assert.equal(manifest.files['coefficients.json'], await sha256File(join(base, 'model', 'coefficients.json')));
  assert.equal(existsSync(join(base, 'output', 'failure')), false);
  // No temp dirs left behind.
  assert.deepEqual((await readdir(base)).sort(), ['input', 'model']);
});

test('loadModel predicts with the feature schema: numeric strings cast, missing column named', async () => {
  const base = await freshBase('ml-load');
  const { modelDir } = await trainPackage({ package: pkg, base, channels: { train: join(pkg, 'sample') } });
  // A user package is only loaded when the operator allows it: the manifest alone is not trusted.
  await assert.rejects(loadModel(modelDir, { env: {} }), (e: unknown) => isErrorCode(e, 'UNAVAILABLE') && /not among the allowed packages/.test((e as Error).message));
  const model = await loadModel(modelDir, { packages: [pkg] });
  const coef = JSON.parse(await readFile(join(modelDir, 'coefficients.json'), 'utf8')) as { intercept: number; means: number[]; scales: number[]; coefficients: number[] };
  const expected = (u: number, t: number) =>
    coef.intercept + (coef.coefficients[0]! * (u - coef.means[0]!)) / coef.scales[0]! + (coef.coefficients[1]! * (t - coef.means[1]!)) / coef.scales[1]!;
  const preds = await model.predict(aq.table({ ambient_temp_c: ['18.5', 10], production_units: ['120', 0], line: ['a', 'b'] }));
  assert.equal(preds.length, 2);
  assert.ok(Math.abs((preds[0] as number) - expected(120, 18.5)) < 1e-9);
  assert.ok(Math.abs((preds[1] as number) - expected(0, 10)) < 1e-9);
  // The data generator's true relation: 45 + 3.1 u + 1.8 t.
  assert.ok(Math.abs((preds[0] as number) - (45 + 3.1 * 120 + 1.8 * 18.5)) < 5);
  await assert.rejects(model.predict(aq.table({ production_units: [1] })), (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /missing input column "ambient_temp_c"/.test((e as Error).message));
  await assert.rejects(model.predict(aq.table({ production_units: ['12a'], ambient_temp_c: [1] })), /column "production_units" row 0 is "12a"; expected a finite number/);
});

test('parquet channels load like CSV (several files concatenated)', async () => {
  const base = await freshBase('ml-parquet');
  const data = join(base, 'input', 'data', 'train');
  await mkdir(data, { recursive: true });
  const csv = aq.fromCSV(await readFile(join(pkg, 'sample', 'train.csv'), 'utf8'));
  for (const [i, part] of [csv.slice(0, 100), csv.slice(100)].entries()) {
    const at = arrow.tableFromArrays({
      production_units: Float64Array.from(part.array('production_units') as number[]),
      ambient_temp_c: Float64Array.from(part.array('ambient_temp_c') as number[]),
      energy_kwh: Float64Array.from(part.array('energy_kwh') as number[]),
    });
    await writeFile(join(data, `part-${i}.parquet`), writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(at, 'stream'))));
  }
  const { manifest } = await trainPackage({ package: pkg, base, version: 'pq' });
  assert.equal(manifest.trainingData.rows, 240);
  assert.equal(manifest.trainingData.source, data);
});

async function expectFailure(base: string, args: string[], pattern: RegExp) {
  const r = await cli(['train', pkg, '--base', base, ...args]);
  assert.equal(r.code, 1, `expected failure, got ${r.code}: ${r.out}`);
  assert.match(r.err, pattern);
  const failure = await readFile(join(base, 'output', 'failure'), 'utf8');
  assert.match(failure, pattern);
  // Nothing partial: no temp dirs, and any previous model is untouched.
  assert.deepEqual((await readdir(base)).filter((n) => n.startsWith('.')), []);
}

test('bad input fails clearly, writes output/failure and leaves the previous model untouched', async () => {
  const base = await freshBase('ml-bad');
  const sample = `train=${join(pkg, 'sample')}`;
  const ok = await cli(['train', pkg, '--base', base, '--channel', sample, '--version', 'good']);
  assert.equal(ok.code, 0, ok.err);
  const before = await readFile(join(base, 'model', 'model.json'), 'utf8');

  await expectFailure(base, ['--channel', sample, '--hp', 'l2=lots'], /hyperparameter "l2": got "lots", expected a number >= 0/);
  await expectFailure(base, ['--channel', sample, '--hp', 'holdout_fraction=0.9'], /"holdout_fraction": got "0.9", expected a number between 0 and 0.5/);
  await expectFailure(base, ['--channel', sample, '--hp', 'depth=3'], /unknown hyperparameter "depth"/);
  await expectFailure(base, [], /missing channel "train": expected .*input\/data\/train\/ with CSV or Parquet files/);

  const empty = join(dir, 'empty-channel');
  await mkdir(empty, { recursive: true });
  await writeFile(join(empty, 'README.txt'), 'not data');
  await expectFailure(base, ['--channel', `train=${empty}`], /channel "train" is empty: no \.csv or \.parquet files/);

  const headerOnly = join(dir, 'header-only');
  await mkdir(headerOnly, { recursive: true });
  await writeFile(join(headerOnly, 'a.csv'), 'production_units,ambient_temp_c,energy_kwh\n');
  await expectFailure(base, ['--channel', `train=${headerOnly}`], /channel "train" has no data rows/);

  const nanOnly = join(dir, 'nan-only');
  await mkdir(nanOnly, { recursive: true });
  const rows = Array.from({ length: 20 }, (_, i) => `${i},NaN,${40 + 3 * i}`);
  await writeFile(join(nanOnly, 'a.csv'), `production_units,ambient_temp_c,energy_kwh\n${rows.join('\n')}\n`);
  await expectFailure(base, ['--channel', `train=${nanOnly}`], /column "ambient_temp_c" has no values \(all 20 rows empty or NaN\)/);

  await expectFailure(base, ['--channel', `train=${join(dir, 'nope')}`], /channel "train": directory .*nope does not exist/);
  await expectFailure(base, ['--channel', sample, '--hp', 'target=missing_col'], /target column "missing_col" is not in the training data/);

  assert.equal(await readFile(join(base, 'model', 'model.json'), 'utf8'), before);
  // A later success clears the failure marker.
  assert.equal((await cli(['train', pkg, '--base', base, '--channel', sample])).code, 0);
  assert.equal(existsSync(join(base, 'output', 'failure')), false);
});

test('usage errors exit 2; unknown package and built-in names are clear', async () => {
  assert.equal((await cli(['train'])).code, 2);
  assert.equal((await cli(['train', pkg, '--hp', 'novalue'])).code, 2);
  const base = await freshBase('ml-unknown');
  const r = await cli(['train', 'no-such-algorithm', '--base', base]);
  assert.equal(r.code, 1);
  assert.match(r.err, /unknown algorithm "no-such-algorithm"/);
  const r2 = await cli(['train', join(dir, 'no-pkg'), '--base', base]);
  assert.match(r2.err, /model package folder .*no-pkg does not exist/);
});

test('tampered artifacts are refused with INTEGRITY: modified, extra, missing file, malformed manifest', async () => {
  const base = await freshBase('ml-tamper');
  const { modelDir } = await trainPackage({ package: pkg, base, channels: { train: join(pkg, 'sample') } });
  const integrity = (pattern: RegExp) => (e: unknown) => isErrorCode(e, 'INTEGRITY') && pattern.test((e as Error).message);
  await verifyArtifact(modelDir);

  const coefPath = join(modelDir, 'coefficients.json');
  const original = await readFile(coefPath, 'utf8');
  await writeFile(coefPath, original.replace(/"intercept": [0-9.]+/, '"intercept": 0'));
  await assert.rejects(loadModel(modelDir, { packages: [pkg] }), integrity(/"coefficients.json" was modified/));
  await writeFile(coefPath, original);

  await writeFile(join(modelDir, 'extra.js'), 'console.log("pwned")');
  await assert.rejects(loadModel(modelDir, { packages: [pkg] }), integrity(/unlisted file "extra.js"/));
  await unlink(join(modelDir, 'extra.js'));

  await unlink(coefPath);
  await assert.rejects(verifyArtifact(modelDir), integrity(/missing file "coefficients.json"/));
  await writeFile(coefPath, original);

  const manifestPath = join(modelDir, 'model.json');
  const manifestText = await readFile(manifestPath, 'utf8');
  await appendFile(manifestPath, '}');
  await assert.rejects(verifyArtifact(modelDir), integrity(/malformed manifest .*not valid JSON/));
  await writeFile(manifestPath, manifestText.replace('"format": 1', '"format": 2'));
  await assert.rejects(verifyArtifact(modelDir), integrity(/"format" must be 1/));
  const m = JSON.parse(manifestText) as Record<string, unknown>;
  m.files = { '../outside.json': 'a'.repeat(64) };
  await writeFile(manifestPath, JSON.stringify(m));
  await assert.rejects(verifyArtifact(modelDir), integrity(/invalid path "..\/outside.json"/));
  await unlink(manifestPath);
  await assert.rejects(verifyArtifact(modelDir), integrity(/model.json is missing/));

  await writeFile(manifestPath, manifestText);
  const model = await loadModel(modelDir, { packages: [pkg] });
  assert.equal(model.manifest.version, JSON.parse(manifestText).version);
});

test('a package that fails mid-training leaves no partial model; a bad predict length is an INTERNAL error', async () => {
  const broken = join(dir, 'broken-pkg');
  await mkdir(broken, { recursive: true });
  await writeFile(
    join(broken, 'train.ts'),
    `import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
export const hyperparameters = { fail: { type: 'boolean', description: 'fail after writing weights', default: true } };
export async function train(ctx: { hyperparameters: { fail: boolean }; channels: Record<string, { load(): Promise<any> }>; modelDir: string }) {
  const t = await ctx.channels.train!.load();
  await writeFile(join(ctx.modelDir, 'weights.bin'), 'half written');
  if (ctx.hyperparameters.fail) throw new Error('loss diverged at epoch 3');
  return { task: 'regression', features: [{ name: 'production_units', type: 'number' }], metrics: { training: { rmse: 1 } }, trainingTable: t };
}
`,
  );
  await writeFile(join(broken, 'predict.ts'), `export const load = async () => ({});\nexport const predict = () => [1];\n`);
  const base = await freshBase('ml-broken');
  const r = await cli(['train', broken, '--base', base, '--channel', `train=${join(pkg, 'sample')}`]);
  assert.equal(r.code, 1);
  assert.match(r.err, /loss diverged at epoch 3/);
  assert.equal(await readFile(join(base, 'output', 'failure'), 'utf8'), 'loss diverged at epoch 3\n');
  assert.deepEqual(await readdir(base), ['output']);

  const ok = await cli(['train', broken, '--base', base, '--channel', `train=${join(pkg, 'sample')}`, '--hp', 'fail=false']);
  assert.equal(ok.code, 0, ok.err);
  const model = await loadModel(join(base, 'model'), { env: { MILLWRIGHT_MODEL_PACKAGES: broken } });
  await assert.rejects(model.predict(aq.table({ production_units: [1, 2, 3] })), (e: unknown) => isErrorCode(e, 'INTERNAL') && /returned 1 predictions for 3 rows/.test((e as Error).message));
});

test('init-model CLI writes the template and refuses a non-empty folder', async () => {
  const r = await cli(['init-model', 'fresh-pkg']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /model package written to .*fresh-pkg: train.ts, predict.ts, features.ts, README.md, contract.ts, sample\/train.csv/);
  const train = await readFile(join(dir, 'fresh-pkg', 'train.ts'), 'utf8');
  assert.match(train, /from '.\/contract.ts'/);
  assert.match(train, /export const hyperparameters: HyperparameterSchema/);
  const again = await cli(['init-model', 'fresh-pkg']);
  assert.equal(again.code, 1);
  assert.match(again.err, /is not empty/);
  assert.equal((await cli(['init-model', 'fresh-pkg', '--force'])).code, 0);
});

test('errors raised inside a built-in package keep their MillwrightError identity (CLI/HTTP mapping relies on it)', async () => {
  const base = await freshBase('ml-builtin-error');
  await assert.rejects(
    trainPackage({ package: 'threshold', base, channels: { train: join(pkg, 'sample') }, hyperparameters: { quantiles: '[0.9, 0.1]' } }),
    (e: unknown) => isErrorCode(e, 'BAD_INPUT') && /quantiles/.test((e as Error).message),
  );
  assert.match(await readFile(join(base, 'output', 'failure'), 'utf8'), /quantiles/);
});
