// One-shot worker thread: regenerates the reports from captured traffic, off the HTTP thread
// (a day of capture can take seconds of CPU to read and compare).
import { parentPort, workerData } from 'node:worker_threads';
import { MillwrightError } from '../lib/errors/index.ts';
import { generateReports } from '../reports/index.ts';

const job = workerData as { captureDir: string; outDir: string; modelDir: string; since: number };
generateReports({ captureDir: job.captureDir, outDir: job.outDir, modelDir: job.modelDir, since: new Date(job.since) }).then(
  (r) => parentPort!.postMessage({ ok: true, rows: r.rows, records: r.records, reports: r.reports.map((x) => ({ kind: x.kind, status: x.status })), notProduced: r.notProduced, skipped: r.skipped.length }),
  (err: unknown) => parentPort!.postMessage({ ok: false, error: MillwrightError.from(err).toJSON() }),
);
