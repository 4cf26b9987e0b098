// The container's entry points as plain processes (no Docker engine here): SageMaker's
// `docker run IMAGE train` then `docker run IMAGE serve`, in the /opt/ml layout, with a random
// forest trained on the steel plant energy data. Plus the packaging files' essentials.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as aq from 'arquero';
import ts from 'typescript';
import { loadModel } from '../../lib/model/index.ts';
import { serveCommand } from '../../cli/commands/serve.ts';
import { containerArgs } from '../../cli/container.ts';
import { SERVE_NODE_FLAGS } from '../../serve/node-flags.ts';
import { repoRoot } from '../helpers/data.ts';
import { RF_FEATURES, writeEnergyCsv } from './fixtures/rf-model.ts';
import { csv, invoke, scratch, waitReady } from './helpers.ts';
import { containerProcessArgs } from '../helpers/cli.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  const s = await scratch();
  dir = s.dir;
  cleanup = s.cleanup;
});
after(async () => cleanup?.());

function container(args: string[], env: NodeJS.ProcessEnv) {
  // started as the Dockerfile's ENTRYPOINT starts it: node with the serving flags
  const child = spawn(process.execPath, [...SERVE_NODE_FLAGS, ...containerProcessArgs(...args)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d.toString()));
  child.stderr.on('data', (d) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  return { child, exit, out: () => out, err: () => err };
}

test('bare `train` uses MILLWRIGHT_PACKAGE; other invocations pass through unchanged', () => {
  const env = { MILLWRIGHT_PACKAGE: 'random-forest-regression' };
  assert.deepEqual(containerArgs(['train'], env), ['train', 'random-forest-regression']);
  assert.deepEqual(containerArgs(['train', '--hp', 'trees=5', '--json'], env), ['train', 'random-forest-regression', '--hp', 'trees=5', '--json']);
  assert.deepEqual(containerArgs(['train', 'threshold', '--base', '/x'], env), ['train', 'threshold', '--base', '/x']);
  assert.deepEqual(containerArgs(['serve'], env), ['serve']);
  assert.deepEqual(containerArgs(['train'], {}), ['train']);
});

test('`train` then `serve` in the SageMaker /opt/ml layout, as the container runs them', async () => {
  const ml = join(dir, 'opt-ml');
  await mkdir(join(ml, 'input', 'data', 'train'), { recursive: true });
  await mkdir(join(ml, 'input', 'config'), { recursive: true });
  const { data } = await writeEnergyCsv(join(ml, 'input', 'data', 'train', 'train.csv'), 2000);
  // SageMaker passes every hyperparameter as a string.
  await writeFile(join(ml, 'input', 'config', 'hyperparameters.json'), JSON.stringify({ target: 'usage_kwh', n_estimators: '10', max_depth: '6', export_onnx: 'false' }));

  const train = container(['train'], { SM_BASE: ml, MILLWRIGHT_PACKAGE: 'random-forest-regression' });
  assert.equal(await train.exit, 0, train.err());
  const manifest = JSON.parse(await readFile(join(ml, 'model', 'model.json'), 'utf8')) as { algorithm: string; features: { name: string }[] };
  assert.equal(manifest.algorithm, 'random-forest-regression');
  assert.deepEqual(manifest.features.map((f) => f.name), [...RF_FEATURES]);

  const serve = container(['serve'], { SM_MODEL_DIR: join(ml, 'model'), SAGEMAKER_BIND_TO_PORT: '0', SAGEMAKER_MODEL_SERVER_WORKERS: '1' });
  try {
    let url: string | undefined;
    for (let i = 0; i < 300 && !url; i++) {
      url = /"msg":"listening","url":"(http:\/\/[^"]+)"/.exec(serve.out())?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(url, `server did not start: ${serve.err()}`);
    await waitReady(url, serve.err);
    const rows = data.slice(0, 5).map((r) => r.slice(0, RF_FEATURES.length));
    const r = await invoke(url, csv(rows), 'text/csv');
    assert.equal(r.status, 200, r.text);
    const model = await loadModel(join(ml, 'model'));
    const want = await model.predict(aq.table(Object.fromEntries(RF_FEATURES.map((f, i) => [f, rows.map((x) => x[i]!)]))));
    assert.deepEqual(r.json<{ predictions: number[] }>().predictions, want);
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0);
  } finally {
    serve.child.kill('SIGKILL');
  }
});

test('Dockerfile and compose: multi-stage, slim, non-root, exec-form entry point, flags the CLI accepts', async () => {
  const dockerfile = await readFile(join(repoRoot, 'Dockerfile'), 'utf8');
  const froms = dockerfile.match(/^FROM .+$/gm) ?? [];
  assert.ok(froms.length >= 2 && froms.every((f) => /node:20[\w.-]*-slim/.test(f)), froms.join('\n'));
  assert.match(dockerfile, /^USER node$/m);
  const entry = /^ENTRYPOINT (\[.+\])$/m.exec(dockerfile)?.[1];
  // the serving flags (serve/node-flags.ts) on node's own command line: NODE_OPTIONS refuses them
  assert.deepEqual(JSON.parse(entry!), ['node', ...SERVE_NODE_FLAGS, '/app/dist/cli/container.js']);
  assert.deepEqual(JSON.parse(/^CMD (\[.+\])$/m.exec(dockerfile)![1]!), ['serve']);
  const compose = await readFile(join(repoRoot, 'docker-compose.yml'), 'utf8');
  assert.match(compose, /restart: unless-stopped/);
  assert.match(compose, /registry:\/var\/lib\/millwright\/registry/);
  assert.match(compose, /capture:\/var\/lib\/millwright\/capture/);
  const command = compose.slice(compose.indexOf('command:'), compose.indexOf('environment:'));
  const flags = [...command.matchAll(/- (--[a-z-]+)/g)].map((m) => m[1]!);
  assert.ok(flags.length >= 4);
  for (const f of flags) assert.ok(serveCommand.usage.includes(`${f} `), `compose passes ${f}, which serve does not document`);
});

test('the image builds cli/container.ts without datasets/ or the demo: the serving image copies neither', async () => {
  const dockerfile = await readFile(join(repoRoot, 'Dockerfile'), 'utf8');
  assert.match(dockerfile, /tsc -p tsconfig\.container\.json/);
  assert.doesNotMatch(dockerfile, /^COPY datasets/m);
  const config = ts.getParsedCommandLineOfConfigFile(join(repoRoot, 'tsconfig.container.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => assert.fail(String(d.messageText)) });
  const program = ts.createProgram(config!.fileNames, config!.options);
  const ours = program.getSourceFiles().map((f) => f.fileName).filter((f) => !f.includes('/node_modules/')).map((f) => f.slice(repoRoot.length + 1));
  assert.ok(ours.includes('cli/container.ts') && ours.includes('serve/server.ts') && ours.some((f) => f.startsWith('lib/algorithms/')), ours.join(' '));
  const strays = ours.filter((f) => f.startsWith('datasets/') || f === 'cli/main.ts' || f === 'cli/demo.ts');
  assert.deepEqual(strays, [], 'the container program pulls in files the image does not copy');
});
