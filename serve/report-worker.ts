// One-shot worker thread: regenerates the reports from captured traffic (merged with the label
// store when there is one), off the HTTP thread (a day of capture can take seconds of CPU to read
// and compare), and writes the run's monitoring rows to the store.
import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { MillwrightError } from '../lib/errors/index.ts';
import { writeMonitoring } from '../lib/store/write-monitoring.ts';
import { generateReports, monitoringRows } from '../reports/index.ts';
import type { ReportWorkerJob } from './report-schedule.ts';

const job = workerData as ReportWorkerJob;

async function run() {
  const m = job.monitoring ?? {};
  const r = await generateReports({
    captureDir: job.captureDir,
    outDir: job.outDir,
    modelDir: job.modelDir,
    since: new Date(job.since),
    ...(m.baselineDir !== undefined ? { baselineDir: m.baselineDir } : {}),
    ...(job.groundTruthDir !== undefined ? { groundTruthDir: job.groundTruthDir, groundTruthKeys: job.groundTruthKeys } : {}),
    ...(m.attributions ? { attributions: { baseline: JSON.parse(await readFile(m.attributions.baseline, 'utf8')), ...(m.attributions.sampleRows !== undefined ? { sampleRows: m.attributions.sampleRows } : {}) } } : {}),
    ...(m.estimation ? { estimation: m.estimation } : {}),
  });
  const rows = monitoringRows(r.reports.map((x) => x.report), { ts: job.runAt, model: job.model, modelVersion: job.modelVersion, run: job.run });
  if (m.store !== undefined && rows.length > 0) await writeMonitoring(m.store, rows);
  return {
    ok: true,
    rows: r.rows,
    records: r.records,
    reports: r.reports.map((x) => ({ kind: x.kind, status: x.status })),
    notProduced: r.notProduced,
    skipped: r.skipped.length,
    ...(r.groundTruth ? { groundTruth: r.groundTruth } : {}),
    monitoring: rows,
  };
}

run().then(
  (reply) => parentPort!.postMessage(reply),
  (err: unknown) => parentPort!.postMessage({ ok: false, error: MillwrightError.from(err).toJSON() }),
);
