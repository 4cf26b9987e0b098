/**
 * The hourly monitoring job (target < 5 s): what the server's report schedule runs every hour,
 * over the last 24 h of capture of an endpoint taking 100 req/s (8.64M requests a day). The
 * server captures 10 % of requests by default (`--capture-sample 0.1`), so a day of capture is
 * 864,000 single-row records in SageMaker's JSON Lines layout, one file per hour; they are
 * generated here line by line as the capture writer writes them (checked against
 * `captureRecord` on the first line).
 *
 * Parts, each timed: reading the capture, data quality (summary + baseline constraints), drift
 * (20 columns against 20,000 training rows), attributions (TreeSHAP of a sample of the captured
 * rows, evenly spaced over the day, + nDCG against the training ranking; exact TreeSHAP costs
 * ~20 ms of CPU a row on 100 trees of depth 10, so the sample is what bounds it), and estimated
 * performance (DLE per hour against a 20,000-row labelled reference; its loss forests fitted once
 * per reference and read back from the cache file, as a new report worker does; the first run's
 * fit is timed apart). Then the same job end to
 * end through `generateReports` + `monitoringRows` + `writeMonitoring`, as the worker runs it.
 * Reference in the same run: reading the same files and `JSON.parse` of every line (the floor
 * of any reader of this format).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as aq from 'arquero';
import { captureRecord, listCaptureFiles } from '../lib/capture/index.ts';
import { loadModel, trainPackage } from '../lib/model/index.ts';
import { explainModel, explainSteps, globalAttribution } from '../lib/algorithms/explain.ts';
import { writeMonitoring } from '../lib/store/write-monitoring.ts';
import {
  readCapture, generateReports, monitoringRows, qualityReport, driftReport, performanceReport, computeBaseline, attributionAnalysis, type Frame,
} from '../reports/index.ts';
import { defaultAttributionRows } from '../reports/generate.ts';
import { runReport } from '../reports/engine.ts';
import { AttributionDriftMetric } from '../reports/metrics/attribution-drift.ts';
import { clearDleFits } from '../reports/metrics/performance-estimation.ts';

const F = 20;
const REQ_PER_S = 100;
const SAMPLE = 0.1;
const RECORDS = 24 * 3600 * REQ_PER_S * SAMPLE;
const TRAIN = 20_000;

function rng(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return { u, normal: () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) };
}

/** One row of the plant: 20 readings, a load that drives the target. `shift` moves 3 features. */
function row(r: ReturnType<typeof rng>, out: Float64Array, shift: number): number {
  const load = r.u();
  for (let f = 0; f < F; f++) out[f] = Math.round((load * (10 + f) + (1 + f / 10) * r.normal() + (f < 3 ? shift * (1 + f) : 0)) * 1000) / 1000;
  return 5 + 40 * load + 3 * Math.sin(out[4]!) + 0.5 * out[5]! + r.normal();
}

const names = Array.from({ length: F }, (_, f) => `x${f}`);

async function trainModel(dir: string): Promise<{ modelDir: string; train: Record<string, Float64Array> }> {
  const r = rng(1);
  const x = new Float64Array(F);
  const cols: Record<string, Float64Array> = Object.fromEntries([...names, 'y'].map((n) => [n, new Float64Array(TRAIN)]));
  const lines = [[...names, 'y'].join(',')];
  for (let i = 0; i < TRAIN; i++) {
    const y = row(r, x, 0);
    for (let f = 0; f < F; f++) cols[names[f]!]![i] = x[f]!;
    cols.y![i] = y;
    lines.push(`${Array.from(x).join(',')},${y}`);
  }
  const trainDir = join(dir, 'input', 'data', 'train');
  await mkdir(trainDir, { recursive: true });
  await writeFile(join(trainDir, 'train.csv'), `${lines.join('\n')}\n`);
  const { modelDir } = await trainPackage({ package: 'random-forest-regression', base: dir, name: 'plant', hyperparameters: { target: 'y', n_estimators: '100', max_depth: '10', export_onnx: 'false' } });
  return { modelDir, train: cols };
}

/** A day of capture, one file per hour, as the capture writer lays it out. */
async function writeDay(captureDir: string, model: Awaited<ReturnType<typeof loadModel>>, day0: number): Promise<{ bytes: number; ms: number }> {
  const t = performance.now();
  const r = rng(2);
  const perHour = RECORDS / 24;
  const X = new Float64Array(perHour * F);
  const x = new Float64Array(F);
  let bytes = 0;
  for (let h = 0; h < 24; h++) {
    // Drift arrives in the afternoon: three features shift after 14:00.
    for (let i = 0; i < perHour; i++) {
      row(r, x, h >= 14 ? 0.8 : 0);
      X.set(x, i * F);
    }
    const preds = (await model.predictMatrix!(X, perHour)) as Float64Array;
    const iso = new Date(day0 + h * 3_600_000).toISOString();
    const dir = join(captureDir, 'plant', 'AllTraffic', iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10), iso.slice(11, 13));
    await mkdir(dir, { recursive: true });
    const parts: string[] = [];
    for (let i = 0; i < perHour; i++) {
      const at = new Date(day0 + h * 3_600_000 + Math.floor((i * 3_600_000) / perHour)).toISOString();
      const input = Array.from(X.subarray(i * F, (i + 1) * F)).join(',');
      const id = `h${h}-${i}`;
      const line = `{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT","data":"${input}","encoding":"CSV"},"endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"{\\"predictions\\":[${preds[i]}]}","encoding":"JSON"}},"eventMetadata":{"eventId":"e${id}","inferenceId":"${id}","inferenceTime":"${at}","modelName":"plant","modelVersion":"1"},"eventVersion":"0"}`;
      if (h === 0 && i === 0) {
        const want = JSON.stringify(captureRecord({ endpoint: 'plant', modelVersion: '1', eventId: `e${id}`, inferenceId: id, inferenceTime: new Date(at), inputContentType: 'text/csv', input, outputContentType: 'application/json', output: JSON.stringify({ predictions: [preds[i]] }) }));
        if (line !== want) throw new Error(`generated capture line differs from captureRecord:\n${line}\n${want}`);
      }
      parts.push(line);
    }
    const text = `${parts.join('\n')}\n`;
    bytes += text.length;
    await writeFile(join(dir, `00-00-000-${h}.jsonl`), text);
  }
  return { bytes, ms: performance.now() - t };
}

export default async function (): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mw-bench-hourly-'));
  try {
    let t = performance.now();
    const { modelDir, train } = await trainModel(join(dir, 'ml'));
    const trainMs = performance.now() - t;
    const model = await loadModel(modelDir);
    // As many rows as generateReports explains by default for a model this size (48 here: the floor).
    const ATTRIBUTION_ROWS = defaultAttributionRows(await explainSteps(model));
    const day0 = Date.UTC(2026, 11, 1);
    const captureDir = join(dir, 'capture');
    const day = await writeDay(captureDir, model, day0);
    // Labelled reference for DLE: the training rows with the model's predictions, over the day before.
    const trainX = new Float64Array(TRAIN * F);
    for (let i = 0; i < TRAIN; i++) for (let f = 0; f < F; f++) trainX[i * F + f] = train[names[f]!]![i]!;
    const trainPred = (await model.predictMatrix!(trainX, TRAIN)) as Float64Array;
    const reference: Record<string, Float64Array> = { ...Object.fromEntries(names.map((n) => [n, train[n]!])), prediction: trainPred, target: train.y!, capturedAt: Float64Array.from({ length: TRAIN }, (_, i) => day0 - 86_400_000 + Math.floor((i * 86_400_000) / TRAIN)) };
    const features = Object.fromEntries(names.map((n) => [n, train[n]!]));
    const baseline = computeBaseline(features);
    // Attribution baseline: TreeSHAP of as many training rows as the job explains.
    const pick = (n: number, k: number) => Array.from({ length: k }, (_, i) => Math.floor((i * n) / k));
    const refRows = pick(TRAIN, ATTRIBUTION_ROWS);
    const refEx = await explainModel(model, aq.table(Object.fromEntries(names.map((n) => [n, refRows.map((r) => train[n]![r]!)]))));
    const attrBaseline = attributionAnalysis(globalAttribution(refEx), { prediction: refEx.baseValue[0]! });
    const analysisFile = join(dir, 'analysis.json');
    await writeFile(analysisFile, JSON.stringify(attrBaseline));
    const files = await listCaptureFiles(captureDir);
    console.log(`hourly job: a day of capture at ${REQ_PER_S} req/s (${(24 * 3600 * REQ_PER_S).toLocaleString('en')} requests), ${SAMPLE * 100} % captured = ${RECORDS.toLocaleString('en')} single-row records in ${files.length} hourly files, ${(day.bytes / 2 ** 20).toFixed(0)} MiB (written in ${(day.ms / 1000).toFixed(1)} s)`);
    console.log(`model: random forest 100 trees depth 10 on ${F} features, trained on ${TRAIN.toLocaleString('en')} rows in ${(trainMs / 1000).toFixed(1)} s; three features drift from 14:00`);

    // The floor: read every file and JSON.parse every line.
    const f0 = process.cpuUsage();
    t = performance.now();
    let parsed = 0;
    for (const f of files) {
      for (const l of (await readFile(f.path, 'utf8')).split('\n')) {
        if (l === '') continue;
        JSON.parse(l);
        parsed++;
      }
    }
    const floorMs = performance.now() - t;
    const fc = process.cpuUsage(f0);
    const floorCpu = (fc.user + fc.system) / 1000;

    const parts: [string, number, number, string][] = [];
    let c0 = process.cpuUsage();
    const cpuMs = () => {
      const d = process.cpuUsage(c0);
      c0 = process.cpuUsage();
      return (d.user + d.system) / 1000;
    };
    t = performance.now();
    c0 = process.cpuUsage();
    const cap = await readCapture(join(captureDir, 'plant'), { features: model.manifest.features, from: day0 });
    parts.push(['read capture', performance.now() - t, cpuMs(), `${cap.frame.rows.toLocaleString('en')} rows, ${cap.skipped.length} skipped`]);
    const feat: Frame = { names, columns: new Map(names.map((n) => [n, cap.frame.columns.get(n)!])), rows: cap.frame.rows };
    t = performance.now();
    cpuMs();
    const quality = qualityReport(feat, undefined, { baseline, faults: false });
    parts.push(['data quality (summary + constraints)', performance.now() - t, cpuMs(), quality.status]);
    t = performance.now();
    const drift = driftReport(feat, features, {});
    const driftResult = drift.metrics[0] as unknown as { driftedColumns: number };
    parts.push([`drift (${F} columns vs ${TRAIN.toLocaleString('en')} training rows)`, performance.now() - t, cpuMs(), `${driftResult.driftedColumns} of ${F} drifted`]);
    t = performance.now();
    const rows = pick(cap.frame.rows, ATTRIBUTION_ROWS);
    const ex = await explainModel(model, aq.table(Object.fromEntries(names.map((n) => [n, rows.map((r) => feat.columns.get(n)!.values[r] as number)]))));
    const current = attributionAnalysis(globalAttribution(ex), { prediction: ex.baseValue[0]! });
    const attr = runReport('drift', [new AttributionDriftMetric({ baseline: attrBaseline, current })], feat);
    const attrMs = performance.now() - t;
    parts.push([`attributions (TreeSHAP of ${ATTRIBUTION_ROWS} rows, 2 an hour, + nDCG)`, attrMs, cpuMs(), `${(ATTRIBUTION_ROWS / (attrMs / 1000)).toFixed(0)} rows/s; ${attr.checks[0]!.status}`]);
    // DLE's loss forests depend on the reference only: the first run after a new reference fits
    // them and writes them to the cache dir; every later run (a new one-shot worker: memory
    // empty) reads them back. The steady hourly job is the later run.
    const fitCacheDir = join(dir, 'reports', '.dle-fits');
    const estimation = { task: 'regression' as const, features: names, chunkMs: 3_600_000, target: 'target', fitCacheDir };
    clearDleFits();
    t = performance.now();
    cpuMs();
    const coldPerf = performanceReport(cap.frame, reference, estimation);
    const cold: [string, number, number, string] = ['estimated performance, first run on a new reference (fits the 3 loss forests)', performance.now() - t, cpuMs(), `${(coldPerf.metrics[0] as unknown as { alerts: number }).alerts} chunks alert`];
    clearDleFits();
    t = performance.now();
    const perf = performanceReport(cap.frame, reference, estimation);
    const est = perf.metrics[0] as unknown as { alerts: number };
    parts.push(['estimated performance (DLE, 24 hourly chunks; fit from the cache file)', performance.now() - t, cpuMs(), `${est.alerts} chunks alert; same as the fresh fit: ${JSON.stringify(perf.metrics) === JSON.stringify(coldPerf.metrics)}`]);
    const total = parts.reduce((s, p) => s + p[1], 0);
    const totalCpu = parts.reduce((s, p) => s + p[2], 0);
    console.log(`  ${'part'.padEnd(58)}   wall    CPU (the process; the machine is shared)`);
    for (const [what, ms, cpu, note] of parts) console.log(`  ${what.padEnd(58)} ${(ms / 1000).toFixed(2).padStart(6)} s ${(cpu / 1000).toFixed(2).padStart(6)} s   ${note}`);
    console.log(`  (${cold[0]} ${(cold[1] / 1000).toFixed(2)} s wall, ${(cold[2] / 1000).toFixed(2)} s CPU; ${cold[3]}: once per reference, not in the total)`);
    console.log(`  ${'parts in all'.padEnd(58)} ${(total / 1000).toFixed(2).padStart(6)} s ${(totalCpu / 1000).toFixed(2).padStart(6)} s   ratio to the 5 s target ${(total / 5000).toFixed(2)} (wall), ${(totalCpu / 5000).toFixed(2)} (CPU)`);
    console.log(`  load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (1/5/15 min; the machine's cores: compare the CPU column when it is above them)`);
    console.log(`reference: readFile + JSON.parse of the ${parsed.toLocaleString('en')} lines ${(floorMs / 1000).toFixed(2)} s wall, ${(floorCpu / 1000).toFixed(2)} s CPU   read capture / floor = ${(parts[0]![1] / floorMs).toFixed(2)} (wall), ${(parts[0]![2] / floorCpu).toFixed(2)} (CPU)`);

    // The same job end to end, as the server's report worker runs it (a fresh worker: the DLE fit from its file).
    clearDleFits();
    t = performance.now();
    const e0 = process.cpuUsage();
    const out = await generateReports({
      captureDir: join(captureDir, 'plant'), outDir: join(dir, 'reports'), modelDir, since: new Date(day0), baseline, reference: features,
      attributions: { baseline: attrBaseline }, // sampleRows: the default for this model
      estimation: { reference, task: 'regression', features: names, chunkMs: 3_600_000, fitCacheDir },
    });
    const mrows = monitoringRows(out.reports.map((x) => x.report), { ts: Date.now(), model: 'plant', modelVersion: '1', run: 'bench' });
    await writeMonitoring(join(dir, 'store'), mrows);
    const jobMs = performance.now() - t;
    const ec = process.cpuUsage(e0);
    const jobCpu = (ec.user + ec.system) / 1000;
    console.log(`end to end (generateReports: read + quality + drift + attributions + estimate + HTML/JSON/CSV, then ${mrows.length} monitoring rows written) ${(jobMs / 1000).toFixed(2)} s wall, ${(jobCpu / 1000).toFixed(2)} s CPU   ratio to the 5 s target ${(jobMs / 5000).toFixed(2)} (wall), ${(jobCpu / 5000).toFixed(2)} (CPU); reports ${out.reports.map((x) => `${x.kind}:${x.status}`).join(' ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
