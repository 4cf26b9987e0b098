// ?explain=true through real HTTP on 127.0.0.1 and `millwright explain`, on a forest trained
// through lib/model's real training path (steel plant energy data when MILLWRIGHT_DATA_DIR is set).
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import * as aq from 'arquero';
import { loadModel } from '../../lib/model/index.ts';
import { explainModel } from '../../lib/algorithms/explain.ts';
import { COVER_FILE } from '../../lib/algorithms/forest/tree-cover.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { trainEnergyForest, RF_FEATURES } from './fixtures/rf-model.ts';
import { csv, http, REAL_LOADER, scratch } from './helpers.ts';
import { runCli } from '../helpers/io.ts';
import { listCaptureFiles } from '../../lib/capture/index.ts';
import { generateReports } from '../../reports/generate.ts';
import { attributionAnalysis, type AttributionDriftResult } from '../../reports/metrics/attribution-drift.ts';
import { globalAttribution } from '../../lib/algorithms/explain.ts';

let srv: RunningServer;
let cleanup: () => Promise<void>;
let dir: string;
let modelDir: string;
let rows: number[][];

before(async () => {
  const s = await scratch('mw-explain-');
  cleanup = s.cleanup;
  dir = s.dir;
  const t = await trainEnergyForest(join(s.dir, 'ml'), { trees: 15, maxDepth: 8, rows: 2000 });
  modelDir = t.modelDir;
  rows = t.data.slice(0, 40).map((r) => r.slice(0, RF_FEATURES.length));
  srv = await startServer({ modelDir, loader: REAL_LOADER, port: 0, workers: 2, capture: { dir: join(s.dir, 'capture'), sampleRate: 1, flushIntervalMs: 50 }, reportSchedule: { everyMs: 0 }, log: () => undefined });
});

after(async () => {
  await srv?.close();
  await cleanup?.();
});

type Explained = { predictions: number[]; explanations: { prediction: Record<string, number> }[]; base_value: { prediction: number } };

test('POST /invocations?explain=true answers each prediction with attributions that sum to it minus the base value', async () => {
  const r = await http(`${srv.url}/invocations?explain=true`, { body: csv(rows), headers: { 'content-type': 'text/csv', accept: 'application/json' } });
  assert.equal(r.status, 200, r.text);
  const body = r.json<Explained>();
  assert.equal(body.predictions.length, rows.length);
  assert.equal(body.explanations.length, rows.length);
  const base = body.base_value.prediction;
  assert.ok(Number.isFinite(base));
  for (let i = 0; i < rows.length; i++) {
    const a = body.explanations[i]!.prediction;
    assert.deepEqual(Object.keys(a), [...RF_FEATURES]);
    const sum = Object.values(a).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(base + sum - body.predictions[i]!) <= 1e-9, `row ${i}: ${base} + ${sum} vs ${body.predictions[i]}`);
  }
  // the same numbers as in-process explainModel
  const model = await loadModel(modelDir);
  const ex = await explainModel(model, aq.table(Object.fromEntries(RF_FEATURES.map((f, j) => [f, rows.map((row) => row[j]!)]))));
  assert.equal(ex.baseValue[0], base);
  assert.equal(ex.values[3], body.explanations[0]!.prediction[RF_FEATURES[3]]);

  // without the flag: the plain answer, unchanged
  const plain = await http(`${srv.url}/invocations`, { body: csv(rows), headers: { 'content-type': 'text/csv', accept: 'application/json' } });
  assert.deepEqual(plain.json(), { predictions: body.predictions });
  // CSV out cannot carry attributions: a clear 400
  const bad = await http(`${srv.url}/invocations?explain=true`, { body: csv(rows), headers: { 'content-type': 'text/csv', accept: 'text/csv' } });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /explain=true answers application\/json only/);
});

test('millwright explain writes per-row attributions (CSV) and prints the global ranking', async () => {
  const data = join(dir, 'rows.csv');
  await writeFile(data, `${RF_FEATURES.join(',')}\n${csv(rows)}`);
  const out = join(dir, 'attr.csv');
  const res = await runCli(['explain', modelDir, data, '--out', out], dir);
  assert.equal(res.code, 0, res.err);
  assert.match(res.out, /^prediction \(base [-\d.e]+\): \w+=/);
  assert.match(res.out, /wrote 40 rows x 1 output\(s\)/);
  const lines = (await readFile(out, 'utf8')).trim().split('\n');
  assert.equal(lines[0], ['row', 'output', 'base_value', ...RF_FEATURES].join(','));
  assert.equal(lines.length, 41);
  const model = await loadModel(modelDir);
  const preds = (await model.predict(aq.table(Object.fromEntries(RF_FEATURES.map((f, j) => [f, rows.map((row) => row[j]!)]))))) as number[];
  for (let i = 0; i < 40; i++) {
    const cells = lines[i + 1]!.split(',').map(Number);
    const sum = cells.slice(2).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(sum - preds[i]!) < 1e-9, `row ${i}`);
  }
});

test('the drift report generated from captured traffic carries attribution drift against the training attributions', async () => {
  const captureDir = join(dir, 'capture');
  for (let i = 0; i < 50 && (await listCaptureFiles(captureDir).catch(() => [])).length === 0; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok((await listCaptureFiles(captureDir)).length > 0, 'capture written');
  const model = await loadModel(modelDir);
  const train = await readFile(join(dir, 'ml', 'input', 'data', 'train', 'train.csv'), 'utf8');
  const table = aq.fromCSV(train).slice(0, 400).reify();
  const ex = await explainModel(model, table);
  const baseline = attributionAnalysis(globalAttribution(ex), { prediction: ex.baseValue[0]! });
  const out = join(dir, 'reports-out');
  const res = await generateReports({ captureDir, modelDir, outDir: out, attributions: { baseline } });
  const drift = JSON.parse(await readFile(res.reports.find((r) => r.kind === 'drift')!.json, 'utf8')) as { metrics: { type: string }[] };
  const a = drift.metrics.find((m) => m.type === 'attribution-drift') as AttributionDriftResult;
  assert.ok(a !== undefined, 'attribution section');
  assert.equal(a.labels[0]!.label, 'prediction');
  assert.ok(a.labels[0]!.ndcg > 0 && a.labels[0]!.ndcg <= 1, String(a.labels[0]!.ndcg));
  assert.deepEqual(a.labels[0]!.baselineRanking.slice().sort(), [...RF_FEATURES].sort());
});

test('an artifact without covers (trained before attributions) fails with a clear error naming the fix', async () => {
  const model = await loadModel(modelDir);
  await rm(join(modelDir, `${COVER_FILE}.json`));
  await assert.rejects(explainModel(model, aq.table(Object.fromEntries(RF_FEATURES.map((f) => [f, [1]])))), (err: unknown) => {
    assert.ok(err instanceof MillwrightError);
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /no forest-cover\.json .* Retrain it/);
    return true;
  });
});
