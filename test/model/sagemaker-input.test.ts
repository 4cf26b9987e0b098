// SageMaker's training-input conventions through the real runner (trainPackage): channel
// ContentType in inputdataconfig.json, the content_type / label_column hyperparameters, channel
// aliases, resourceconfig.json, SageMaker's own keys in hyperparameters.json.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { trainPackage } from '../../lib/model/index.ts';
import { csvLayoutOf, looksLikeData } from '../../lib/model/sagemaker-input.ts';
import { labelFirstRows } from '../serve/helpers.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'mw-sm-input-'));
});
after(async () => rm(root, { recursive: true, force: true }));

let n = 0;
async function layout(opts: { channels: Record<string, string>; hyperparameters?: Record<string, string>; inputDataConfig?: unknown; resourceConfig?: unknown }): Promise<string> {
  const base = join(root, `case-${n++}`);
  await mkdir(join(base, 'input', 'config'), { recursive: true });
  for (const [name, text] of Object.entries(opts.channels)) {
    await mkdir(join(base, 'input', 'data', name), { recursive: true });
    await writeFile(join(base, 'input', 'data', name, 'part-0.csv'), text);
  }
  await writeFile(join(base, 'input', 'config', 'hyperparameters.json'), JSON.stringify(opts.hyperparameters ?? {}));
  if (opts.inputDataConfig !== undefined) await writeFile(join(base, 'input', 'config', 'inputdataconfig.json'), JSON.stringify(opts.inputDataConfig));
  if (opts.resourceConfig !== undefined) await writeFile(join(base, 'input', 'config', 'resourceconfig.json'), JSON.stringify(opts.resourceConfig));
  return base;
}

const rows = labelFirstRows(150);
const labelFirst = (rs = rows) => rs.map((r) => [r.label, ...r.x].join(',')).join('\n') + '\n';
const SMALL = { n_estimators: '5' };

test('content types: SageMaker text/csv is headerless with the label first; label_size=0 and header=present', () => {
  assert.deepEqual(csvLayoutOf('text/csv'), { header: false, labelColumn: 0 });
  assert.deepEqual(csvLayoutOf('text/csv; label_size=1'), { header: false, labelColumn: 0 });
  assert.deepEqual(csvLayoutOf('text/csv;label_size=0'), { header: false });
  assert.deepEqual(csvLayoutOf('text/csv;header=present'), { header: true });
  assert.equal(csvLayoutOf('application/x-parquet'), undefined);
  assert.throws(() => csvLayoutOf('text/csv;label_size=2'), /label_size must be 0 or 1/);
  assert.equal(looksLikeData(['setosa', '5.1', '3.5']), true);
  assert.equal(looksLikeData(['species', 'sepal_length']), false);
});

test('inputdataconfig.json ContentType text/csv on `train` and `validation`: holdout metrics come from validation', async () => {
  const base = await layout({
    channels: { train: labelFirst(rows.slice(0, 120)), validation: labelFirst(rows.slice(120)) },
    hyperparameters: SMALL,
    inputDataConfig: { train: { ContentType: 'text/csv;label_size=1', TrainingInputMode: 'File' }, validation: { ContentType: 'text/csv', TrainingInputMode: 'File' } },
  });
  const { manifest } = await trainPackage({ package: 'random-forest-classification', base });
  assert.equal(manifest.target?.name, 'label');
  assert.deepEqual(manifest.features.map((f) => f.name), ['f0', 'f1', 'f2', 'f3']);
  assert.equal(manifest.metrics.holdout?.rows, 30);
  assert.equal(manifest.trainingData.rows, 120);
  assert.ok(manifest.metrics.holdout!.accuracy! >= 0.9, JSON.stringify(manifest.metrics.holdout));
});

test('label_column selects another column; content_type hyperparameter wins over the file; both recorded in the manifest', async () => {
  // label in the last column; the first row is all text, so only content_type makes it data
  const text = ['a,b,c,d,setosa', ...rows.map((r) => [...r.x, r.label].join(','))].join('\n') + '\n';
  const base = await layout({ channels: { training: text }, hyperparameters: { ...SMALL, content_type: 'text/csv', label_column: '4', features: '["f0","f1","f2","f3"]' } });
  await assert.rejects(trainPackage({ package: 'random-forest-classification', base }), /feature "f0" has 1 of 151 rows that are not finite numbers \(first at row 0: "a"\)/);
  const ok = await layout({ channels: { training: labelFirst().replace(/^([a-z]+),(.*)$/gm, '$2,$1') }, hyperparameters: { ...SMALL, label_column: '4' } });
  const { manifest } = await trainPackage({ package: 'random-forest-classification', base: ok });
  assert.equal(manifest.target?.name, 'label');
  assert.deepEqual(manifest.features.map((f) => f.name), ['f0', 'f1', 'f2', 'f3']);
  assert.equal(manifest.hyperparameters.label_column, '4');
});

test('a header row is still a header; label_column names the target by position', async () => {
  const text = `species,sl,sw,pl,pw\n${labelFirst()}`;
  const base = await layout({ channels: { train: text }, hyperparameters: { ...SMALL, label_column: '0' } });
  const { manifest } = await trainPackage({ package: 'random-forest-classification', base });
  assert.equal(manifest.target?.name, 'species');
  assert.deepEqual(manifest.features.map((f) => f.name), ['sl', 'sw', 'pl', 'pw']);
});

test("SageMaker's own keys (sagemaker_*, _tuning_objective_metric) are ignored; an unknown key fails into output/failure", async () => {
  const base = await layout({ channels: { training: labelFirst() }, hyperparameters: { ...SMALL, sagemaker_region: 'eu-west-1', _tuning_objective_metric: 'validation:accuracy' } });
  await trainPackage({ package: 'random-forest-classification', base });
  const bad = await layout({ channels: { training: labelFirst() }, hyperparameters: { ...SMALL, max_leaf_nodes: '8' } });
  await assert.rejects(trainPackage({ package: 'random-forest-classification', base: bad }), /unknown hyperparameter "max_leaf_nodes"/);
  assert.match(await readFile(join(bad, 'output', 'failure'), 'utf8'), /unknown hyperparameter "max_leaf_nodes"/);
});

test('resourceconfig.json: one host trains; several hosts, Pipe mode and malformed configs are refused clearly', async () => {
  const one = await layout({ channels: { training: labelFirst() }, hyperparameters: SMALL, resourceConfig: { current_host: 'algo-1', hosts: ['algo-1'] } });
  await trainPackage({ package: 'random-forest-classification', base: one });
  const many = await layout({ channels: { training: labelFirst() }, hyperparameters: SMALL, resourceConfig: { current_host: 'algo-1', hosts: ['algo-1', 'algo-2'] } });
  await assert.rejects(trainPackage({ package: 'random-forest-classification', base: many }), /lists 2 hosts \(algo-1, algo-2\); millwright trains on one host/);
  const pipe = await layout({ channels: { training: labelFirst() }, hyperparameters: SMALL, inputDataConfig: { training: { ContentType: 'text/csv', TrainingInputMode: 'Pipe' } } });
  await assert.rejects(trainPackage({ package: 'random-forest-classification', base: pipe }), /TrainingInputMode "Pipe" is not supported/);
  const broken = await layout({ channels: { training: labelFirst() }, hyperparameters: SMALL, inputDataConfig: ['training'] });
  await assert.rejects(trainPackage({ package: 'random-forest-classification', base: broken }), /inputdataconfig\.json must hold a JSON object/);
  const range = await layout({ channels: { training: labelFirst() }, hyperparameters: { ...SMALL, label_column: '9' } });
  await assert.rejects(trainPackage({ package: 'random-forest-classification', base: range }), /label column 9 does not exist \(the first row has 5 columns\)/);
});

test('regression on a headerless label-first channel: the numeric label is the target', async () => {
  const text = rows.map((r) => [r.x[0]! * 2 + r.x[2]!, ...r.x].join(',')).join('\n') + '\n';
  const base = await layout({ channels: { training: text }, hyperparameters: { n_estimators: '10' }, inputDataConfig: { training: { ContentType: 'text/csv' } } });
  const { manifest } = await trainPackage({ package: 'random-forest-regression', base });
  assert.equal(manifest.target?.name, 'label');
  assert.ok(manifest.metrics.holdout!.r2! > 0.8, JSON.stringify(manifest.metrics.holdout));
});
