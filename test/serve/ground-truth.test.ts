// Late ground truth at the server, through real HTTP on 127.0.0.1: inference ids in the capture
// and the response, POST /ground-truth and the watched folder, the scheduled run merging labels
// into the model-quality report, and the run's monitoring rows in the store and on /metrics.
import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import * as aq from 'arquero';
import { loadModel } from '../../lib/model/index.ts';
import { explainModel, globalAttribution } from '../../lib/algorithms/explain.ts';
import { listCaptureFiles, type CaptureRecord } from '../../lib/capture/index.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';
import { sql } from '../../lib/store/index.ts';
import { startServer, type RunningServer } from '../../serve/index.ts';
import { attributionAnalysis } from '../../reports/metrics/attribution-drift.ts';
import { regressionStatistics } from '../../reports/metrics/quality-statistics.ts';
import { computeBaseline } from '../../reports/monitor-baseline.ts';
import type { ReportResult } from '../../reports/engine.ts';
import type { ModelQualityResult } from '../../reports/metrics/model-quality.ts';
import type { DataDriftResult } from '../../reports/metrics/drift.ts';
import type { PerformanceEstimationResult } from '../../reports/metrics/performance-estimation.ts';
import { trainEnergyForest, RF_FEATURES } from './fixtures/rf-model.ts';
import { csv, http, invoke, REAL_LOADER, scratch } from './helpers.ts';

const TOKEN = 'gt-admin-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const HEADER = 'x-amzn-sagemaker-inference-id';
let srv: RunningServer;
let cleanup: () => Promise<void>;
let dir: string;
let data: number[][];
let captureDir: string;
let reportsDir: string;
let labelDir: string;
let storeDir: string;

before(async () => {
  const s = await scratch('mw-gt-serve-');
  cleanup = s.cleanup;
  dir = s.dir;
  const t = await trainEnergyForest(join(dir, 'ml'), { trees: 8, maxDepth: 6, rows: 1500 });
  data = t.data;
  captureDir = join(dir, 'capture');
  reportsDir = join(dir, 'reports');
  labelDir = join(dir, 'labels');
  storeDir = join(dir, 'store');
  // Baseline attributions (training rows) and a labelled reference for the performance estimate.
  const model = await loadModel(t.modelDir);
  const train = data.slice(0, 600);
  const table = aq.table(Object.fromEntries(RF_FEATURES.map((f, j) => [f, train.map((r) => r[j]!)])));
  const ex = await explainModel(model, table);
  await writeFile(join(dir, 'analysis.json'), JSON.stringify(attributionAnalysis(globalAttribution(ex), { prediction: ex.baseValue[0]! })));
  const preds = (await model.predict(table)) as number[];
  const t0 = Date.now() - 3 * 86_400_000;
  const refCsv = [`${RF_FEATURES.join(',')},prediction,target,capturedAt`, ...train.map((r, i) => `${r.slice(0, RF_FEATURES.length).join(',')},${preds[i]},${r[RF_FEATURES.length]},${t0 + i * 60_000}`)].join('\n');
  await writeFile(join(dir, 'reference.csv'), `${refCsv}\n`);
  // The quality baseline (millwright baseline's files) of the training rows: every feature non-negative.
  const { statistics, constraints } = computeBaseline(Object.fromEntries(RF_FEATURES.map((f, j) => [f, train.map((r) => r[j]!)])));
  await mkdir(join(dir, 'baseline'));
  await writeFile(join(dir, 'baseline', 'statistics.json'), JSON.stringify(statistics));
  await writeFile(join(dir, 'baseline', 'constraints.json'), JSON.stringify(constraints));
  srv = await startServer({
    modelDir: t.modelDir,
    loader: REAL_LOADER,
    port: 0,
    workers: 1,
    capture: { dir: captureDir, sampleRate: 1, flushIntervalMs: 50 },
    reportsDir,
    reportSchedule: {
      everyMs: 0,
      monitoring: {
        store: storeDir,
        baselineDir: join(dir, 'baseline'),
        attributions: { baseline: join(dir, 'analysis.json'), sampleRows: 100 },
        estimation: { reference: join(dir, 'reference.csv'), task: 'regression', features: [...RF_FEATURES], chunkMs: 3_600_000, minChunkRows: 10 },
      },
    },
    groundTruth: { dir: join(labelDir, 'store'), watchDir: labelDir, pollMs: 60_000, stableForMs: 0 },
    adminToken: TOKEN,
    log: () => undefined,
  });
});

after(async () => {
  await srv?.close();
  await cleanup?.();
});

async function captured(): Promise<CaptureRecord[]> {
  await srv.capture!.flush();
  const out: CaptureRecord[] = [];
  for (const f of await listCaptureFiles(captureDir)) {
    for (const l of (await readFile(f.path, 'utf8')).split('\n')) if (l.trim()) out.push(JSON.parse(l) as CaptureRecord);
  }
  return out;
}

describe('inference ids', () => {
  test("the client's X-Amzn-SageMaker-Inference-Id is echoed and captured; without one an id is generated", async () => {
    const given = 'order 42/line-3:ok';
    const r = await http(`${srv.url}/invocations`, { body: csv([data[0]!.slice(0, 6)]), headers: { 'content-type': 'text/csv', accept: 'application/json', [HEADER]: given } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get(HEADER), given);
    const plain = await invoke(srv.url, csv([data[1]!.slice(0, 6)]), 'text/csv');
    const generated = plain.headers.get(HEADER)!;
    assert.match(generated, /^[0-9a-f-]{36}$/);
    // The Express path (a compressed body) does the same.
    const gz = await http(`${srv.url}/invocations`, { body: gzipSync(csv([data[3]!.slice(0, 6)])), headers: { 'content-type': 'text/csv', 'content-encoding': 'gzip', accept: 'application/json', [HEADER]: 'gzipped-1' } });
    assert.equal(gz.status, 200, gz.text);
    assert.equal(gz.headers.get(HEADER), 'gzipped-1');
    const gzBad = await http(`${srv.url}/invocations`, { body: gzipSync(csv([data[3]!.slice(0, 6)])), headers: { 'content-type': 'text/csv', 'content-encoding': 'gzip', [HEADER]: 'z'.repeat(65) } });
    assert.equal(gzBad.status, 400);
    const recs = await captured();
    assert.equal(recs.filter((x) => x.eventMetadata.inferenceId === 'gzipped-1').length, 1);
    assert.equal(recs.filter((x) => x.eventMetadata.inferenceId === given).length, 1);
    assert.equal(recs.filter((x) => x.eventMetadata.inferenceId === generated).length, 1);
    assert.notEqual(recs.find((x) => x.eventMetadata.inferenceId === given)!.eventMetadata.eventId, given, 'eventId stays unique per record');
  });

  test('an id that breaks the rule (empty, 65 characters, a control character, not ASCII) is 400 and nothing is captured', async () => {
    const before = (await captured()).length;
    // (fetch trims a leading space itself; inferenceIdOf's unit test covers it.)
    for (const bad of ['', 'x'.repeat(65), 'tab\there', 'caf\u00e9']) {
      const r = await http(`${srv.url}/invocations`, { body: csv([data[2]!.slice(0, 6)]), headers: { 'content-type': 'text/csv', [HEADER]: bad } });
      assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.text}`);
      assert.match(r.text, /X-Amzn-SageMaker-Inference-Id must be 1-64 printable ASCII/);
    }
    // 64 characters is the longest allowed.
    const ok = await http(`${srv.url}/invocations`, { body: csv([data[2]!.slice(0, 6)]), headers: { 'content-type': 'text/csv', [HEADER]: 'y'.repeat(64) } });
    assert.equal(ok.status, 200);
    assert.equal((await captured()).length, before + 1);
  });
});

describe('ground truth at the server and the scheduled monitoring run', () => {
  test('labels by HTTP and the watched folder, out of order, duplicated, unknown, before their capture, in bursts: the model-quality report equals a direct computation on the joined table', async () => {
    const rng = mulberry32(14);
    // 300 single-row requests and 20 batch requests of 3 rows, each with its own inference id.
    const sent: { id: string; rows: number[][] }[] = [];
    for (let i = 0; i < 320; i++) {
      const k = i < 300 ? 1 : 3;
      const rows = Array.from({ length: k }, () => data[600 + Math.floor(rng() * 800)]!);
      sent.push({ id: `req-${i}`, rows });
    }
    const late = sent.slice(300, 310); // labelled before they are captured
    const send = async (s: { id: string; rows: number[][] }) => {
      const r = await http(`${srv.url}/invocations`, { body: csv(s.rows.map((r) => r.slice(0, 6))), headers: { 'content-type': 'text/csv', accept: 'application/json', [HEADER]: s.id } });
      assert.equal(r.status, 200, r.text);
    };
    for (const s of sent) if (!late.includes(s)) await send(s);
    const truth = (s: { rows: number[][] }) => s.rows.map((r) => r[6]!);
    const expected = new Map<string, number[]>(); // last label by arrival
    const line = (id: string, v: number[]) => JSON.stringify({ groundTruthData: { data: v.join('\n'), encoding: 'CSV' }, eventMetadata: { eventId: id }, eventVersion: '0' });
    // Labels in shuffled order, in bursts of 10-60, alternating JSON Lines and CSV bodies.
    const order = sent.filter(() => rng() < 0.85);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let burst = 0;
    for (let c = 0; c < order.length; burst++) {
      const part = order.slice(c, c + 10 + Math.floor(rng() * 50));
      c += part.length;
      const jsonl = burst % 2 === 0 || part.some((s) => s.rows.length > 1);
      const extra: string[] = [`unknown-${burst}`];
      const body = jsonl
        ? [...part.map((s) => line(s.id, truth(s))), ...extra.map((id) => line(id, [1]))].join('\n')
        : `inference_id,label\n${[...part.map((s) => `${s.id},${truth(s)[0]}`), ...extra.map((id) => `${id},1`)].join('\n')}\n`;
      const r = await http(`${srv.url}/ground-truth`, { body, headers: { ...auth, 'content-type': jsonl ? 'application/jsonl' : 'text/csv' } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json<{ labels: number }>().labels, part.length + extra.length);
      for (const s of part) expected.set(s.id, truth(s));
    }
    // A correction (duplicate key, another value): the later one wins.
    const corrected = order[0]!;
    const fixed = truth(corrected).map((v) => v + 100);
    assert.equal((await http(`${srv.url}/ground-truth`, { body: line(corrected.id, fixed), headers: auth })).status, 201);
    expected.set(corrected.id, fixed);
    // The folder: one good CSV file, the same content again, and a broken file.
    const folderLabels = sent.filter((s) => s.rows.length === 1 && !expected.has(s.id)).slice(0, 15);
    const fileText = `inference_id,label\n${folderLabels.map((s) => `${s.id},${truth(s)[0]}`).join('\n')}\n`;
    await writeFile(join(labelDir, 'batch-1.csv'), fileText);
    await writeFile(join(labelDir, 'batch-1-again.csv'), fileText);
    await writeFile(join(labelDir, 'broken.csv'), 'inference_id,nothing\nreq-1,2\n');
    for (const s of folderLabels) expected.set(s.id, truth(s));
    // Bad bodies: 400, nothing stored; no token: 401.
    assert.equal((await http(`${srv.url}/ground-truth`, { body: 'inference_id,label\nreq-1,2\n' })).status, 401);
    const bad = await http(`${srv.url}/ground-truth`, { body: '{"groundTruthData":{"data":"1"}}\n', headers: auth });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /encoding/);
    // Labels for the late inferences are already stored; now their requests arrive.
    const relabelled = late.filter((s) => expected.has(s.id)).length; // labelled twice: duplicates
    for (const s of late) {
      expected.set(s.id, truth(s));
      assert.equal((await http(`${srv.url}/ground-truth`, { body: line(s.id, truth(s)), headers: auth })).status, 201);
    }
    for (const s of late) await send(s);
    // One request breaks the baseline's non-negative constraint on the first feature.
    const negative = [-5, ...data[700]!.slice(1, 6)];
    assert.equal((await http(`${srv.url}/invocations`, { body: csv([negative]), headers: { 'content-type': 'text/csv', accept: 'application/json', [HEADER]: 'negative-1' } })).status, 200);

    const run = await http(`${srv.url}/admin/reports/regenerate`, { method: 'POST', headers: auth });
    assert.equal(run.status, 200, run.text);
    const r = run.json<{ reports: { kind: string }[]; groundTruth: { pairs: number; duplicates: number; unmatched: number } }>();
    assert.deepEqual(r.reports.map((x) => x.kind).sort(), ['drift', 'model', 'performance', 'quality']);
    // The folder: stored once, the copy moved unread, the broken file in failed/ with its reason.
    assert.deepEqual((await readdir(join(labelDir, 'done'))).sort(), ['batch-1-again.csv', 'batch-1.csv']);
    assert.deepEqual((await readdir(join(labelDir, 'failed'))).sort(), ['broken.csv', 'broken.csv.reason.txt']);
    assert.match(await readFile(join(labelDir, 'failed', 'broken.csv.reason.txt'), 'utf8'), /no label column/);

    // The direct computation: the capture records joined with the last label of each id, in capture order.
    const actual: number[] = [];
    const predicted: number[] = [];
    for (const rec of await captured()) {
      const v = expected.get(rec.eventMetadata.inferenceId!);
      if (!v) continue;
      const p = (JSON.parse(rec.captureData.endpointOutput.data) as { predictions: number[] }).predictions;
      assert.equal(p.length, v.length);
      actual.push(...v);
      predicted.push(...p);
    }
    assert.equal(r.groundTruth.pairs, actual.length);
    assert.equal(r.groundTruth.duplicates, 1 + relabelled);
    assert.ok(r.groundTruth.unmatched >= burst, `unknown ids stay unmatched (${r.groundTruth.unmatched})`);
    const n = actual.length;
    const err = actual.map((a, i) => a - predicted[i]!);
    const mae = err.reduce((s, e) => s + Math.abs(e), 0) / n;
    const mse = err.reduce((s, e) => s + e * e, 0) / n;
    const mean = actual.reduce((s, a) => s + a, 0) / n;
    const r2 = 1 - err.reduce((s, e) => s + e * e, 0) / actual.reduce((s, a) => s + (a - mean) ** 2, 0);
    const report = JSON.parse(await readFile(join(reportsDir, 'model', 'report.json'), 'utf8')) as ReportResult;
    const q = report.metrics.find((m) => m.type === 'model-quality') as ModelQualityResult;
    assert.equal(q.rows, n);
    const st = (q.statistics as unknown as { regression_metrics: Record<string, { value: number; standard_deviation: number | null }> }).regression_metrics;
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
    close(st.mae!.value, mae, 'mae');
    close(st.mse!.value, mse, 'mse');
    close(st.rmse!.value, Math.sqrt(mse), 'rmse');
    close(st.r2!.value, r2, 'r2');
    assert.ok(n >= 200, `${n} pairs: enough for the bootstrap sd`);
    assert.deepEqual(st, regressionStatistics(actual, predicted) as unknown, 'the bootstrap sd of the same pairs in the same order');

    // The monitoring table: one row per feature's drift test, equal to the drift report.
    const drift = (JSON.parse(await readFile(join(reportsDir, 'drift', 'report.json'), 'utf8')) as ReportResult).metrics.find((m) => m.type === 'data-drift') as DataDriftResult;
    const rows = (await sql("SELECT feature, metric, value, threshold, alert, model FROM monitoring WHERE kind = 'drift' ORDER BY feature", { root: storeDir })).rows;
    assert.deepEqual(rows.map((x) => [x.feature, x.metric, x.value, x.threshold, x.alert]), [...drift.columns].sort((a, b) => (a.column < b.column ? -1 : 1)).map((c) => [c.column, c.test, c.value, c.threshold, c.drifted]));
    assert.ok(rows.every((x) => x.model === 'steel-energy'));
    const kinds = (await sql('SELECT kind, count(*)::INTEGER AS n FROM monitoring GROUP BY kind ORDER BY kind', { root: storeDir })).rows;
    assert.deepEqual(kinds.map((k) => k.kind), ['attribution', 'drift', 'estimated_performance', 'model_quality', 'violation']);
    const violations = (await sql("SELECT feature, metric FROM monitoring WHERE kind = 'violation' AND metric = 'non_negative_check'", { root: storeDir })).rows;
    assert.deepEqual(violations.map((v) => v.feature), [RF_FEATURES[0]]);
    const ranks = (await sql("SELECT feature, rank FROM monitoring WHERE kind = 'attribution' AND metric = 'rank:prediction' ORDER BY rank", { root: storeDir })).rows;
    assert.deepEqual(ranks.map((x) => x.rank), RF_FEATURES.map((_, i) => i + 1));
    const mq = (await sql("SELECT value FROM monitoring WHERE kind = 'model_quality' AND metric = 'mae'", { root: storeDir })).rows;
    close(mq[0]!.value as number, mae, 'monitoring mae');

    // /metrics: the same numbers as gauges.
    const metrics = (await http(`${srv.url}/metrics`)).text;
    const gauge = (name: string, labels: string) => {
      const m = new RegExp(`^${name}${labels === '' ? '' : `\\{${labels}\\}`} (\\S+)$`, 'm').exec(metrics);
      assert.ok(m, `${name}{${labels}} in /metrics`);
      return Number(m[1]);
    };
    for (const c of drift.columns) close(gauge('millwright_drift_score', `feature="${c.column}",test="${c.test}"`), c.value ?? Infinity, `drift ${c.column}`);
    close(gauge('millwright_model_quality', 'metric="mae"'), mae, 'gauge mae');
    const nViolations = Number((await sql("SELECT count(*)::INTEGER AS n FROM monitoring WHERE kind = 'violation'", { root: storeDir })).rows[0]!.n);
    assert.ok(nViolations >= 1);
    assert.equal(gauge('millwright_violations', ''), nViolations);
    assert.equal(gauge('millwright_violations_by_check', 'check="non_negative_check"'), 1);
    const est = (JSON.parse(await readFile(join(reportsDir, 'performance', 'report.json'), 'utf8')) as ReportResult).metrics[0] as PerformanceEstimationResult;
    const lastChunk = est.chunks.filter((c) => c.period === 'analysis' && c.estimate !== null).at(-1)!;
    close(gauge('millwright_estimated_performance', 'metric="mae"'), lastChunk.estimate!, 'estimated mae');
    assert.equal(gauge('millwright_ground_truth_pairs', ''), n);
    assert.ok(gauge('millwright_attribution_rank', `feature="${ranks[0]!.feature}",label="prediction"`) === 1);
    assert.ok(gauge('millwright_ground_truth_labels_total', 'source="folder"') === folderLabels.length);
  });

  test('the one-shot report worker keeps the DLE loss model beside the reports (not served, not listed); the next run reuses it with the same estimate', async () => {
    const fits = await readdir(join(reportsDir, '.dle-fits'));
    assert.equal(fits.length, 1);
    assert.match(fits[0]!, /^dle-[0-9a-f]{64}\.json$/);
    const before = await stat(join(reportsDir, '.dle-fits', fits[0]!));
    const estimate = async () => (JSON.parse(await readFile(join(reportsDir, 'performance', 'report.json'), 'utf8')) as ReportResult).metrics[0] as PerformanceEstimationResult;
    const first = await estimate();
    const run = await http(`${srv.url}/admin/reports/regenerate`, { method: 'POST', headers: auth });
    assert.equal(run.status, 200, run.text);
    assert.deepEqual(await estimate(), first);
    assert.deepEqual(await readdir(join(reportsDir, '.dle-fits')), fits);
    assert.equal((await stat(join(reportsDir, '.dle-fits', fits[0]!))).mtimeMs, before.mtimeMs, 'read, not rewritten');
    assert.notEqual((await http(`${srv.url}/reports/.dle-fits/${fits[0]}`, { headers: auth })).status, 200);
    const index = await http(`${srv.url}/reports/index.json`, { headers: auth });
    assert.ok(!index.text.includes('dle-fits'), index.text.slice(0, 200));
  });
});
