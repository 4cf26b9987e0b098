import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { MillwrightError, type MillwrightErrorJSON } from '../lib/errors/index.ts';
import type { ModelInfo } from './pool.ts';
import { startWorker } from '../lib/workers/index.ts';
import { pathSegment } from '../lib/capture/index.ts';
import type { MonitoringRow } from '../lib/store/write-monitoring.ts';
import type { MergeGroundTruthOptions } from '../reports/ground-truth.ts';
import type { PerformanceEstimationOptions } from '../reports/metrics/performance-estimation.ts';

/** What one regeneration produced. */
export interface ReportRun {
  rows: number;
  records: number;
  reports: { kind: string; status: string }[];
  notProduced: { kind: string; reason: string }[];
  skipped: number;
  /** How the label store merged with the capture (with a ground-truth store). */
  groundTruth?: { pairs: number; labels: number; duplicates: number; unmatched: number; unlabelled: number; mismatched: number };
  /** The run's rows of the `monitoring` table (also written to the store when one is given). */
  monitoring: MonitoringRow[];
}

/** What the scheduled monitoring job adds to the data-quality and drift reports. */
export interface MonitoringJobOptions {
  /** Store root whose `monitoring` table receives each run's rows (lib/store `writeMonitoring`). */
  store?: string;
  /** Baseline dir (statistics.json + constraints.json, `millwright baseline`): the quality report's constraint violations. */
  baselineDir?: string;
  /** Attribution drift: the baseline analysis file (SageMaker's analysis JSON) and the rows explained per run (default 2000). */
  attributions?: { baseline: string; sampleRows?: number };
  /** Estimated performance (DLE / CBPE): a labelled reference file and the estimation options. */
  estimation?: PerformanceEstimationOptions & { reference: string };
}

/** What the report worker thread is given. */
export interface ReportWorkerJob {
  captureDir: string;
  outDir: string;
  modelDir: string;
  since: number;
  runAt: number;
  run: string;
  model: string;
  modelVersion?: string;
  groundTruthDir?: string;
  groundTruthKeys?: Omit<MergeGroundTruthOptions, 'target'>;
  monitoring?: MonitoringJobOptions;
}

export interface ReportScheduleOptions {
  /** Capture root (as given to the capture writer). */
  captureDir: string;
  /** Reports directory served under /reports. */
  reportsDir: string;
  /** How often to regenerate (default 1 h; 0 = only on demand). */
  everyMs?: number;
  /** How much recent traffic each run reads (default 24 h). */
  windowMs?: number;
  /** The model being served (its dir gives features and the drift baseline). */
  model: () => ModelInfo | undefined;
  /** Flushes buffered capture lines first, so a run sees the latest traffic. */
  flush?: () => Promise<void>;
  /** Label store (POST /ground-truth, the watched folder) merged with the capture for the model-quality report. */
  groundTruthDir?: string;
  /** Capture columns for labels keyed by a business key (asset + time, lot). */
  groundTruthKeys?: Omit<MergeGroundTruthOptions, 'target'>;
  /** Monitoring rows (store, attributions, estimated performance). */
  monitoring?: MonitoringJobOptions;
  /** Called with every finished run (the server sets its /metrics gauges from it). */
  onRun?: (run: ReportRun) => void;
  /** Runs before this one ends first (a label folder pass, so its labels are in this run). */
  before?: () => Promise<unknown>;
  log: (fields: Record<string, unknown>) => void;
}

/**
 * The worker is one-shot, so the DLE loss forests (fitted on the reference, the same every run)
 * are kept on disk between runs, under the reports dir's `.dle-fits` (dotfiles are not served).
 */
function withFitCache(m: MonitoringJobOptions, reportsDir: string): MonitoringJobOptions {
  if (!m.estimation || m.estimation.fitCacheDir !== undefined) return m;
  return { ...m, estimation: { ...m.estimation, fitCacheDir: join(reportsDir, '.dle-fits') } };
}

/**
 * Regenerates the data-quality and drift reports (reports/ `generateReports`) from the served
 * model's captured traffic, hourly by default, in a worker thread so serving is never blocked;
 * with a label store, also the model-quality report from the merged labels, and with
 * `monitoring`, attribution drift, estimated performance and the run's `monitoring` rows.
 * Runs never overlap: a run requested while one is going returns that run.
 */
export function scheduleReports(options: ReportScheduleOptions): { runNow(): Promise<ReportRun>; stop(): Promise<void> } {
  let running: Promise<ReportRun> | undefined;
  const runNow = (): Promise<ReportRun> => {
    running ??= (async () => {
      const model = options.model();
      if (!model) throw new MillwrightError('UNAVAILABLE', 'no model loaded');
      await options.flush?.();
      await options.before?.();
      const runAt = Date.now();
      const since = runAt - (options.windowMs ?? 24 * 3_600_000);
      const job: ReportWorkerJob = {
        captureDir: join(options.captureDir, pathSegment(model.name)),
        outDir: options.reportsDir,
        modelDir: model.dir,
        since,
        runAt,
        run: randomUUID(),
        model: pathSegment(model.name),
        modelVersion: model.version,
        ...(options.groundTruthDir !== undefined ? { groundTruthDir: options.groundTruthDir, groundTruthKeys: options.groundTruthKeys } : {}),
        ...(options.monitoring ? { monitoring: withFitCache(options.monitoring, options.reportsDir) } : {}),
      };
      const worker = startWorker(new URL('./report-worker.ts', import.meta.url), job);
      const reply = await new Promise<({ ok: true } & ReportRun) | { ok: false; error: MillwrightErrorJSON }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new MillwrightError('INTERNAL', `report worker exited with code ${code}`)));
      }).finally(() => void worker.terminate());
      if (!reply.ok) {
        const e = MillwrightError.fromJSON(reply.error);
        throw new MillwrightError(e.code, `report regeneration failed: ${e.message}`, { details: e.details, cause: e });
      }
      const { ok: _ok, ...run } = reply;
      const { monitoring, ...logged } = run;
      options.log({ level: 'info', msg: 'reports regenerated', ...logged, monitoringRows: monitoring.length, reports: run.reports.map((r) => `${r.kind}:${r.status}`).join(' ') });
      options.onRun?.(run);
      return run;
    })().finally(() => (running = undefined));
    return running;
  };
  const every = options.everyMs ?? 3_600_000;
  const timer = every > 0 ? setInterval(() => runNow().catch((err: Error) => options.log({ level: 'warn', msg: 'report regeneration failed', reason: err.message })), every) : undefined;
  timer?.unref();
  return {
    runNow,
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
