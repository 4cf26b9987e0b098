import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureRecord } from '../../lib/capture/index.ts';
import { appendGroundTruth, parseGroundTruth, readGroundTruth, type GroundTruthRecord } from '../../lib/ground-truth/index.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';
import { readCapture } from '../../reports/capture.ts';
import { mergeGroundTruth } from '../../reports/ground-truth.ts';
import { regressionStatistics, binaryClassificationStatistics, BOOTSTRAP_RESAMPLES } from '../../reports/metrics/quality-statistics.ts';
import { generateReports } from '../../reports/generate.ts';
import type { ModelManifest } from '../../lib/model/contract.ts';

const features = [{ name: 'load', type: 'number' as const }, { name: 'speed', type: 'number' as const }];
const T0 = Date.UTC(2026, 2, 2);
const DAY = 86_400_000;

/** Writes capture files (one per hour) for `n` single-row requests with ids `inf-<i>`; returns the predictions. */
async function writeCapture(dir: string, from: number, to: number, rng: () => number): Promise<Map<string, { p: number; t: number; asset: string }>> {
  const out = new Map<string, { p: number; t: number; asset: string }>();
  const byHour = new Map<number, string[]>();
  for (let i = from; i < to; i++) {
    const load = Math.round(rng() * 1000) / 10;
    const speed = Math.round(rng() * 500) / 10;
    const p = Math.round((2 * load + speed) * 100) / 100;
    const t = T0 + i * 60_000;
    const rec = captureRecord({ endpoint: 'press', inputContentType: 'text/csv', input: `${load},${speed}`, outputContentType: 'application/json', output: JSON.stringify({ predictions: [p] }), eventId: `inf-${i}`, inferenceTime: new Date(t) });
    const h = Math.floor(t / 3_600_000);
    (byHour.get(h) ?? byHour.set(h, []).get(h)!).push(JSON.stringify(rec));
    out.set(`inf-${i}`, { p, t, asset: `press-${i % 3}` });
  }
  for (const [h, lines] of byHour) {
    const d = new Date(h * 3_600_000);
    const sub = join(dir, 'press', 'AllTraffic', String(d.getUTCFullYear()), String(d.getUTCMonth() + 1).padStart(2, '0'), String(d.getUTCDate()).padStart(2, '0'), String(d.getUTCHours()).padStart(2, '0'));
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `00-00-000-${from}.jsonl`), `${lines.join('\n')}\n`);
  }
  return out;
}

const label = (id: string, v: number): GroundTruthRecord => ({ groundTruthData: { data: String(v), encoding: 'CSV' }, eventMetadata: { eventId: id }, eventVersion: '0' });

test('a week of labels in bursts, out of order, duplicated, unknown ids and labels before their capture: merged pairs and metrics equal a direct join', async () => {
  const root = await mkdtemp(join(tmpdir(), 'mw-gt-'));
  try {
    const rng = mulberry32(5);
    const capDir = join(root, 'capture');
    const gtDir = join(root, 'ground-truth');
    // Day 0-6 of traffic (one request a minute for the first 600 minutes), captured now.
    const preds = await writeCapture(capDir, 0, 600, rng);
    // The truth the plant measures later: prediction + error.
    const truth = new Map<string, number>();
    for (const [id, { p }] of preds) truth.set(id, Math.round((p + (rng() - 0.5) * 20) * 100) / 100);
    const ids = [...preds.keys()].filter(() => rng() < 0.8); // 20 % never labelled
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    // Labels for inferences 600-649 arrive before their capture records exist.
    const early = Array.from({ length: 50 }, (_, k) => `inf-${600 + k}`);
    const expected = new Map<string, number>();
    let burst = 0;
    let cursor = 0;
    const bursts: GroundTruthRecord[][] = [];
    while (cursor < ids.length) {
      const size = 20 + Math.floor(rng() * 60);
      const batch = ids.slice(cursor, cursor + size).map((id) => label(id, truth.get(id)!));
      cursor += size;
      // Duplicates: a correction of an earlier label with another value; the last by arrival wins.
      if (burst > 0 && bursts[burst - 1]!.length) batch.push(label(bursts[burst - 1]![0]!.eventMetadata.eventId!, -1000 - burst));
      batch.push(label(`unknown-${burst}`, 1)); // never captured
      if (burst === 2) batch.push(...early.map((id) => label(id, 50)));
      bursts.push(batch);
      burst++;
    }
    for (let b = 0; b < bursts.length; b++) {
      // A week of arrivals: spread over 7 days, in bursts.
      await appendGroundTruth(gtDir, bursts[b]!, new Date(T0 + Math.floor((b / bursts.length) * 7 * DAY)));
      for (const l of bursts[b]!) expected.set(l.eventMetadata.eventId!, Number(l.groundTruthData.data));
    }
    const labels = await readGroundTruth(gtDir);
    assert.equal(labels.length, bursts.reduce((s, b) => s + b.length, 0));
    assert.deepEqual(labels.map((l) => l.arrival), labels.map((_, i) => i));

    const first = await readCapture(capDir, { features });
    const m1 = mergeGroundTruth(first.frame, labels);
    // The direct computation: join the capture table with the last label per id.
    const direct = (frame: typeof first.frame) => {
      const ev = frame.columns.get('eventId')!.values as string[];
      const pr = frame.columns.get('prediction')!.values as Float64Array;
      const a: number[] = [];
      const p: number[] = [];
      const id: string[] = [];
      for (let r = 0; r < frame.rows; r++) if (expected.has(ev[r]!)) {
        a.push(expected.get(ev[r]!)!);
        p.push(pr[r]!);
        id.push(ev[r]!);
      }
      return { a, p, id };
    };
    const d1 = direct(first.frame);
    assert.equal(m1.pairs, d1.a.length);
    assert.deepEqual(Array.from(m1.frame.columns.get('target')!.values as Float64Array), d1.a);
    assert.deepEqual(m1.frame.columns.get('eventId')!.values, d1.id);
    assert.equal(m1.unmatched, bursts.length + early.length, 'unknown ids and early labels wait');
    assert.equal(m1.duplicates, bursts.length - 1);
    assert.equal(m1.unlabelled, 600 - d1.a.length);

    // The early labels' inferences are captured now: the next merge picks them up.
    await writeCapture(capDir, 600, 650, rng);
    const second = await readCapture(capDir, { features });
    const m2 = mergeGroundTruth(second.frame, await readGroundTruth(gtDir));
    const d2 = direct(second.frame);
    assert.equal(m2.pairs, d1.a.length + early.length);
    assert.equal(m2.unmatched, bursts.length);
    assert.deepEqual(Array.from(m2.frame.columns.get('target')!.values as Float64Array), d2.a);

    // Metrics: exactly the direct computation on the joined table.
    const s = regressionStatistics(d2.a, d2.p);
    const n = d2.a.length;
    let sae = 0;
    let sse = 0;
    let sa = 0;
    for (let i = 0; i < n; i++) {
      sae += Math.abs(d2.a[i]! - d2.p[i]!);
      sse += (d2.a[i]! - d2.p[i]!) ** 2;
      sa += d2.a[i]!;
    }
    let sst = 0;
    for (let i = 0; i < n; i++) sst += (d2.a[i]! - sa / n) ** 2;
    assert.equal(s.mae.value, sae / n);
    assert.equal(s.mse.value, sse / n);
    assert.equal(s.rmse.value, Math.sqrt(sse / n));
    assert.equal(s.r2.value, 1 - sse / sst);
    // The bootstrap, recomputed directly: the same seeded resamples, sample standard deviation.
    const r = mulberry32(1);
    const maes: number[] = [];
    for (let b = 0; b < BOOTSTRAP_RESAMPLES; b++) {
      let e = 0;
      const idx = Array.from({ length: n }, () => Math.floor(r() * n));
      for (const i of idx) e += Math.abs(d2.a[i]! - d2.p[i]!);
      maes.push(e / n);
    }
    const mean = maes.reduce((x, y) => x + y, 0) / maes.length;
    const sdDirect = Math.sqrt(maes.reduce((x, y) => x + (y - mean) ** 2, 0) / (maes.length - 1));
    assert.ok(Math.abs(s.mae.standard_deviation! - sdDirect) <= 1e-12 * sdDirect);
    // And the scheduled report uses the store: the model-quality report has these values.
    const manifest: ModelManifest = { format: 1, name: 'press', version: '1', algorithm: 'test', task: 'regression', features, hyperparameters: {}, trainingData: { rows: 0 }, metrics: { training: {} }, baseline: [], createdAt: new Date(T0).toISOString(), codeVersion: 'test', files: {} };
    const res = await generateReports({ captureDir: capDir, outDir: join(root, 'reports'), groundTruthDir: gtDir, manifest, now: new Date(T0 + 8 * DAY) });
    assert.equal(res.groundTruth?.pairs, m2.pairs);
    assert.equal(res.groundTruth?.duplicates, bursts.length - 1);
    const model = JSON.parse(await readFile(join(root, 'reports', 'model', 'report.json'), 'utf8'));
    const mq = model.metrics.find((x: { type: string }) => x.type === 'model-quality');
    assert.equal(mq.statistics.regression_metrics.mae.value, sae / n);
    assert.equal(mq.statistics.regression_metrics.rmse.value, Math.sqrt(sse / n));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('standard deviations only from 200 pairs; best constant classifier beside the classification metrics', () => {
  assert.equal(regressionStatistics([1, 2, 3, 4], [1, 2, 3, 8]).mse.value, 4);
  assert.equal(regressionStatistics(Array.from({ length: 199 }, (_, i) => i), Array.from({ length: 199 }, (_, i) => i + (i % 3))).mae.standard_deviation, null);
  assert.ok(regressionStatistics(Array.from({ length: 200 }, (_, i) => i), Array.from({ length: 200 }, (_, i) => i + (i % 3))).mae.standard_deviation! > 0);
  const y = ['1', '0', '0', '1', '0', '0', '0', '1'];
  const p = ['1', '0', '1', '0', '0', '0', '0', '1'];
  const c = binaryClassificationStatistics(y, p, '1', [0.9, 0.2, 0.6, 0.4, 0.1, 0.3, 0.2, 0.8]);
  assert.deepEqual(c.confusion_matrix, { 0: { 0: 4, 1: 1 }, 1: { 0: 1, 1: 2 } });
  assert.equal(c.accuracy.value, 6 / 8);
  assert.equal(c.precision.value, 2 / 3);
  assert.equal(c.recall.value, 2 / 3);
  assert.equal(c.f1.value, 2 / 3);
  assert.equal(c.auc.value, 14 / 15);
  assert.equal(c.accuracy_best_constant_classifier.value, 5 / 8);
  assert.equal(c.precision_best_constant_classifier.value, 3 / 8);
  assert.equal(c.recall_best_constant_classifier.value, 1);
  assert.equal(c.f1_best_constant_classifier.value, (2 * 3 / 8) / (1 + 3 / 8));
});

test('labels by CSV: inference id, lot, and asset + time within a tolerance; bad files say what is wrong', async () => {
  const { toFrame } = await import('../../reports/data.ts');
  const frame = toFrame({ eventId: ['a', 'b', 'c', 'd'], lot: ['L1', 'L1', 'L2', 'L3'], asset: ['p1', 'p2', 'p1', 'p2'], capturedAt: [T0, T0 + 1000, T0 + 60_000, T0 + 61_000], prediction: [1, 2, 3, 4] });
  const at = (recs: GroundTruthRecord[]) => recs.map((r, i) => ({ ...r, arrival: i, receivedAt: 0 }));
  const byId = mergeGroundTruth(frame, at(parseGroundTruth('inference_id,label\nb,20\nzz,5\n')));
  assert.deepEqual([...byId.frame.columns.get('target')!.values as Float64Array], [20]);
  const byLot = mergeGroundTruth(frame, at(parseGroundTruth('batch,actual\nL1,7\nL3,9\n')), { lot: 'lot' });
  assert.deepEqual(byLot.frame.columns.get('eventId')!.values, ['a', 'b', 'd']);
  assert.deepEqual([...byLot.frame.columns.get('target')!.values as Float64Array], [7, 7, 9]);
  const t = (ms: number) => new Date(T0 + ms).toISOString();
  const byAsset = mergeGroundTruth(frame, at(parseGroundTruth(`asset,time,label\np1,${t(59_000)},30\np2,${t(5000)},10\np2,${t(30_000)},99\n`)), { asset: 'asset', toleranceMs: 5000 });
  assert.deepEqual(byAsset.frame.columns.get('eventId')!.values, ['b', 'c']);
  assert.deepEqual([...byAsset.frame.columns.get('target')!.values as Float64Array], [10, 30]);
  assert.equal(byAsset.unmatched, 1);
  assert.throws(() => parseGroundTruth('id,value\na,1\n'), (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /no label column/.test(e.message));
  assert.throws(() => parseGroundTruth('{"groundTruthData":{"data":"1"},"eventMetadata":{"eventId":"a"}}\n'), /encoding/);
  assert.throws(() => parseGroundTruth(`{"groundTruthData":{"data":"1","encoding":"CSV"},"eventMetadata":{"eventId":"${'x'.repeat(65)}"},"eventVersion":"0"}\n`), /inference id/);
  assert.throws(() => mergeGroundTruth(frame, at(parseGroundTruth('lot,label\nL1,1\n'))), /option lot/);
});
