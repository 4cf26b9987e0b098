import { join } from 'node:path';
import { MillwrightError, type MillwrightErrorJSON } from '../lib/errors/index.ts';
import type { ModelInfo } from './pool.ts';
import { startWorker } from '../lib/workers/index.ts';
import { pathSegment } from '../lib/capture/index.ts';

/** What one regeneration produced. */
export interface ReportRun {
  rows: number;
  records: number;
  reports: { kind: string; status: string }[];
  notProduced: { kind: string; reason: string }[];
  skipped: number;
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
  log: (fields: Record<string, unknown>) => void;
}

/**
 * Regenerates the data-quality and drift reports (reports/ `generateReports`) from the served
 * model's captured traffic, hourly by default, in a worker thread so serving is never blocked.
 * Runs never overlap: a run requested while one is going returns that run.
 */
export function scheduleReports(options: ReportScheduleOptions): { runNow(): Promise<ReportRun>; stop(): Promise<void> } {
  let running: Promise<ReportRun> | undefined;
  const runNow = (): Promise<ReportRun> => {
    running ??= (async () => {
      const model = options.model();
      if (!model) throw new MillwrightError('UNAVAILABLE', 'no model loaded');
      await options.flush?.();
      const since = Date.now() - (options.windowMs ?? 24 * 3_600_000);
      const worker = startWorker(new URL('./report-worker.ts', import.meta.url), { captureDir: join(options.captureDir, pathSegment(model.name)), outDir: options.reportsDir, modelDir: model.dir, since });
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
      options.log({ level: 'info', msg: 'reports regenerated', ...run, reports: run.reports.map((r) => `${r.kind}:${r.status}`).join(' ') });
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
