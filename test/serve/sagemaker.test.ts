// SageMaker conformance: the local test layout of a bring-your-own-container example (channel
// `training`, headerless CSV with the label first, `hyperparameters.json` = `{}`), trained and
// served by the container entry point as plain processes; /invocations answering in the
// request's format; /ping answering while the model is still loading.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as aq from 'arquero';
import { loadModel } from '../../lib/model/index.ts';
import { startServer } from '../../serve/index.ts';
import { repoRoot } from '../helpers/data.ts';
import { LOAD_DELAY_MS } from './fixtures/slow-loader.ts';
import { http, invoke, labelFirstRows, scratch, waitReady } from './helpers.ts';
import { containerProcessArgs } from '../helpers/cli.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  const s = await scratch('mw-sm-');
  dir = s.dir;
  cleanup = s.cleanup;
});
after(async () => cleanup?.());

function container(args: string[], env: NodeJS.ProcessEnv) {
  const started = performance.now();
  const child = spawn(process.execPath, containerProcessArgs(...args), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d.toString()));
  child.stderr.on('data', (d) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { child, exit, started, out: () => out, err: () => err };
}

/** The layout of SageMaker's scikit_bring_your_own local test: /opt/ml with channel `training`. */
async function byocLayout(root: string, hyperparameters: Record<string, string>, rows = 300): Promise<{ ml: string; data: { label: string; x: number[] }[] }> {
  const ml = join(root, 'opt', 'ml');
  await mkdir(join(ml, 'input', 'data', 'training'), { recursive: true });
  await mkdir(join(ml, 'input', 'config'), { recursive: true });
  const data = labelFirstRows(rows);
  await writeFile(join(ml, 'input', 'data', 'training', 'iris.csv'), data.map((r) => [r.label, ...r.x].join(',')).join('\n') + '\n');
  await writeFile(join(ml, 'input', 'config', 'hyperparameters.json'), JSON.stringify(hyperparameters));
  await writeFile(join(ml, 'input', 'config', 'resourceconfig.json'), JSON.stringify({ current_host: 'algo-1', hosts: ['algo-1'], network_interface_name: 'eth0' }));
  return { ml, data };
}

test('BYOC layout: `train` with {} hyperparameters, then `serve`; headerless CSV in, one label per line out', async (t) => {
  const { ml, data } = await byocLayout(join(dir, 'byoc'), {});
  const train = container(['train'], { SM_BASE: ml, MILLWRIGHT_PACKAGE: 'random-forest-classification' });
  assert.equal(await train.exit, 0, train.err());
  const manifest = JSON.parse(await readFile(join(ml, 'model', 'model.json'), 'utf8')) as { features: { name: string }[]; target: { name: string; classes: string[] }; trainingData: { rows: number } };
  assert.deepEqual(manifest.features.map((f) => f.name), ['f0', 'f1', 'f2', 'f3']);
  assert.equal(manifest.target.name, 'label');
  assert.deepEqual(manifest.target.classes, ['setosa', 'versicolor', 'virginica']);
  // Every line is data: the first row was not taken as a header (holdout 20 % of 300 rows).
  assert.ok(manifest.trainingData.rows > 200 && manifest.trainingData.rows < 300, String(manifest.trainingData.rows));

  const serve = container(['serve'], { SM_MODEL_DIR: join(ml, 'model'), SAGEMAKER_BIND_TO_PORT: '0', SAGEMAKER_MODEL_SERVER_WORKERS: '1' });
  try {
    let url: string | undefined;
    for (let i = 0; i < 300 && !url; i++) {
      url = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(serve.out())?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(url, `server did not start: ${serve.err()}`);
    const firstPing = await http(`${url}/ping`);
    assert.ok(firstPing.status === 200 || firstPing.status === 503, String(firstPing.status));
    t.diagnostic(`first /ping answered ${firstPing.status} ${Math.round(performance.now() - serve.started)} ms after spawn`);
    await waitReady(url, serve.err);

    const rows = data.slice(0, 30);
    const payload = rows.map((r) => r.x.join(',')).join('\n') + '\n';
    const model = await loadModel(join(ml, 'model'));
    const want = (await model.predict(aq.table(Object.fromEntries(['f0', 'f1', 'f2', 'f3'].map((f, i) => [f, rows.map((r) => r.x[i]!)]))))) as string[];
    // No Accept header at all (raw node:http would send none; fetch sends */*): both mean "same as the request".
    for (const contentType of ['text/csv', 'text/csv; charset=utf-8']) {
      const r = await invoke(url, payload, contentType, null);
      assert.equal(r.status, 200, r.text);
      assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
      const lines = r.text.split('\n');
      assert.equal(lines.pop(), '');
      assert.deepEqual(lines, want);
      const accuracy = lines.filter((l, i) => l === rows[i]!.label).length / rows.length;
      assert.ok(accuracy >= 0.9, `accuracy ${accuracy}`);
    }
    const none = await rawPost(url, payload, { 'content-type': 'text/csv' });
    assert.equal(none.status, 200);
    assert.deepEqual(none.body.trim().split('\n'), want);
    assert.deepEqual((await invoke(url, payload, 'text/csv', 'application/json')).json(), { predictions: want });
    assert.equal((await invoke(url, payload, 'text/csv; charset=latin1')).status, 415);
    assert.equal((await invoke(url, payload, 'text/csv', 'application/json, */*;q=0.5')).json<{ predictions: string[] }>().predictions.length, rows.length);
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0);
  } finally {
    serve.child.kill('SIGKILL');
  }
});

/** A POST with exactly the given headers (fetch always adds Accept). */
async function rawPost(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const { request } = await import('node:http');
  return new Promise((ok, fail) => {
    const req = request(`${url}/invocations`, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d.toString()));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', fail);
    req.end(body);
  });
}

test('an unknown hyperparameter fails the container `train`: non-zero exit, the reason in /opt/ml/output/failure', async () => {
  const { ml } = await byocLayout(join(dir, 'unknown-hp'), { n_trees: '10' }, 60);
  const train = container(['train'], { SM_BASE: ml, MILLWRIGHT_PACKAGE: 'random-forest-classification' });
  assert.notEqual(await train.exit, 0);
  const failure = await readFile(join(ml, 'output', 'failure'), 'utf8');
  assert.match(failure, /unknown hyperparameter "n_trees" \(this package accepts: target, features, n_estimators/);
  await assert.rejects(readFile(join(ml, 'model', 'model.json')), { code: 'ENOENT' });
});

test('GET /ping answers 503 while the model is still loading, 200 once it is ready', async (t) => {
  const { ml } = await byocLayout(join(dir, 'slow'), { n_estimators: '5' }, 90);
  const train = container(['train'], { SM_BASE: ml, MILLWRIGHT_PACKAGE: 'random-forest-classification' });
  assert.equal(await train.exit, 0, train.err());
  let resolveUrl!: (u: string) => void;
  const listening = new Promise<string>((r) => (resolveUrl = r));
  const started = startServer({
    modelDir: join(ml, 'model'),
    loader: join(repoRoot, 'test/serve/fixtures/slow-loader.ts'),
    port: 0,
    workers: 1,
    log: (l) => l.msg === 'listening' && resolveUrl(String(l.url)),
  });
  const url = await listening;
  const t0 = performance.now();
  const ping = await http(`${url}/ping`);
  const pingMs = performance.now() - t0;
  assert.equal(ping.status, 503);
  const inv = await invoke(url, '5.1,3.5,1.4,0.2\n', 'text/csv');
  assert.equal(inv.status, 503);
  assert.equal(inv.headers.get('retry-after'), '1');
  assert.equal((await http(`${url}/health/ready`)).status, 503);
  assert.equal((await http(`${url}/health/live`)).status, 200);
  const srv = await started;
  try {
    t.diagnostic(`/ping answered 503 in ${pingMs.toFixed(1)} ms during a ${LOAD_DELAY_MS} ms load`);
    assert.equal((await http(`${srv.url}/ping`)).status, 200);
    assert.equal((await invoke(srv.url, '5.1,3.5,1.4,0.2\n', 'text/csv', '*/*')).text, 'setosa\n');
  } finally {
    await srv.close();
  }
});

test('SIGTERM while the model is still loading: the container `serve` stops cleanly with exit 0', async () => {
  const model = join(dir, 'slow', 'opt', 'ml', 'model');
  const serve = container(['serve', '--loader', join(repoRoot, 'test/serve/fixtures/slow-loader.ts')], { SM_MODEL_DIR: model, SAGEMAKER_BIND_TO_PORT: '0', SAGEMAKER_MODEL_SERVER_WORKERS: '2' });
  try {
    let url: string | undefined;
    for (let i = 0; i < 300 && !url; i++) {
      url = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(serve.out())?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(url, `server did not start: ${serve.err()}`);
    assert.equal((await http(`${url}/ping`)).status, 503);
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0, serve.err());
    assert.match(serve.out(), /"msg":"stopped","reason":"shutdown requested while loading the model"/);
    assert.doesNotMatch(serve.out(), /"msg":"model loaded"/);
    await assert.rejects(fetch(`${url}/ping`));
  } finally {
    serve.child.kill('SIGKILL');
  }
});
