import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MillwrightError } from '../lib/errors/index.ts';
import { createHandler } from './app.ts';
import { CaptureWriter, type CaptureOptions } from './capture-writer.ts';
import { DEFAULT_MAX_BODY_BYTES } from './invocations.ts';
import { DEFAULT_INLINE_MAX_BYTES, DEFAULT_INLINE_TENSOR_MAX_BYTES } from './inline-model.ts';
import { createMetrics, setMonitoringGauges, type ServeMetrics } from './metrics.ts';
import { ModelPool, type ModelInfo } from './pool.ts';
import { trustGate, type TrustGate } from './trust-gate.ts';
import { scheduleReports, type MonitoringJobOptions } from './report-schedule.ts';
import { watchGroundTruthFolder } from '../lib/ground-truth/index.ts';
import type { MergeGroundTruthOptions } from '../reports/ground-truth.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { millwrightRoot } from '../lib/model/code-version.ts';
import { readBody } from './app.ts';
import { createV2Handler } from './v2/http.ts';
import { logLine } from './log-line.ts';
import { ModelRepository, type VersionPolicy } from './v2/repository.ts';

/** Where new model versions come from when serving from a registry. */
export interface ModelSource {
  /** Directory of the version that should be served now (latest Approved), with a key that changes when it does (e.g. `group/7`). */
  latest(): Promise<{ dir: string; version: string }>;
  /** Poll interval in ms (default 30 s; 0 disables polling). */
  pollMs?: number;
}

/** Options of `startServer`. Defaults are SageMaker's where it has one. */
export interface ServeOptions {
  /** Model directory to serve (or use `source`). */
  modelDir?: string;
  /**
   * Trust store: every model (at start, on reload, from the source) must be signed by one of its
   * keys and not older than the one running (unless `allowDowngrade`), checked before its
   * workers start; a refused reload keeps the running model.
   */
  trust?: { dir: string; allowDowngrade?: boolean };
  /** Registry-backed source: serves its latest version and polls for new ones. */
  source?: ModelSource;
  /** Module exporting `loadModel(dir)` (default: lib/model). Loaded inside every worker thread. */
  loader?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** Interface (default 127.0.0.1; the container sets 0.0.0.0). */
  host?: string;
  /** Worker threads predicting in parallel (default: available cores). */
  workers?: number;
  /** Per-request deadline in ms (default 5000). */
  timeoutMs?: number;
  /** Body limit in bytes (default 6 MiB). */
  maxBodyBytes?: number;
  /**
   * `/invocations` bodies up to this many bytes are answered on the HTTP thread by a copy of the
   * model, when it qualifies (small, bounded per-row cost: serve/inline-model.ts); larger bodies
   * and other models go to the workers. Default 4096; 0 = always the workers (V2 tensor requests too).
   */
  inlineMaxBytes?: number;
  /**
   * V2 and `/invocations` bodies up to this many bytes for a small tensor model (the `onnx`
   * built-in, probe run keeping the HTTP thread busy at most 1 ms) are answered on the HTTP thread
   * by a copy of the model (serve/inline-model.ts `loadInlineTensorModel`); larger bodies go to the
   * workers. Default 256 KiB; off with
   * `inlineMaxBytes: 0` or a loader other than millwright's own.
   */
  tensorInlineMaxBytes?: number;
  /** Data capture; off when absent. */
  capture?: CaptureOptions;
  /** Directory of generated reports served under /reports. */
  reportsDir?: string;
  /**
   * With both `capture` and `reportsDir`: regenerate the quality and drift reports from captured
   * traffic every `everyMs` (default 1 h; 0 = only via POST /admin/reports/regenerate), reading
   * the last `windowMs` of traffic (default 24 h).
   */
  reportSchedule?: { everyMs?: number; windowMs?: number; monitoring?: MonitoringJobOptions };
  /**
   * Late ground truth: `POST /ground-truth` (behind the admin token) and, with `watchDir`, a
   * watched folder append labels to the label store `dir`; each scheduled report run merges them
   * with the capture (by inference id, or by the business keys in `keys`) and writes the
   * model-quality report. The folder's files are read once stable for `stableForMs` (default
   * 2 s), recorded by content hash and moved to done/ (or failed/ with a reason).
   */
  groundTruth?: { dir: string; watchDir?: string; pollMs?: number; stableForMs?: number; keys?: Omit<MergeGroundTruthOptions, 'target'> };
  /** Bearer token for /admin and /reports; admin routes are off when absent. */
  adminToken?: string;
  /** Store root that `POST /events` (maintenance records, behind the admin token) writes into; off when absent. */
  eventsStore?: string;
  /** Longest a graceful shutdown may take before connections are cut (default 30000 ms). */
  shutdownTimeoutMs?: number;
  /** Structured log sink (default: one JSON line on stdout). */
  log?: (fields: Record<string, unknown>) => void;
  /**
   * A model repository served over the Open Inference Protocol (`/v2/models/<name>/...`):
   * `<dir>/<name>/<version>/` artifact dirs, the versions chosen by `policy` (default: the latest).
   * With a repository, `modelDir`/`source` (the default model of /invocations) are optional.
   */
  repository?: { dir: string; policy?: VersionPolicy };
  /**
   * Aborting it while the model is still loading (the listener is already up) stops the start:
   * the loading workers are ended, the listener closes, and `startServer` rejects with UNAVAILABLE.
   * This is how the CLI honours a SIGTERM that arrives during a long load.
   */
  signal?: AbortSignal;
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  metrics: ServeMetrics;
  capture?: CaptureWriter;
  /** The model being served. */
  model(): ModelInfo | undefined;
  /** Blue/green: load `dir` (default: the source's latest or the same dir) beside the current model, health-check, swap. */
  reload(dir?: string): Promise<{ previous?: ModelInfo; current: ModelInfo }>;
  /** The model repository served over V2, when one was given. */
  repository?: ModelRepository;
  /** Stop accepting, finish in-flight requests, release everything. Idempotent. */
  close(): Promise<void>;
  /** Resolves once the server has fully stopped. */
  closed: Promise<void>;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_TIMEOUT_MS = 5000;

const defaultLoader = new URL(`../lib/model/index${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url).href;

function stdoutLog(fields: Record<string, unknown>): void {
  process.stdout.write(`${logLine(fields)}\n`);
}

/**
 * Starts the model server: loads the model once into worker threads (health-checked), then
 * listens. Resolves when it is ready to answer; rejects if the model cannot be loaded.
 *
 * @example
 * const srv = await startServer({ modelDir: '/opt/ml/model', port: 8080 });
 * // ... later
 * await srv.close();
 */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const log = options.log ?? stdoutLog;
  const workers = Math.max(1, options.workers ?? availableParallelism());
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const loader = options.loader ?? defaultLoader;
  const metrics = createMetrics();
  const onEvent = (event: string, fields: Record<string, unknown>) => log({ level: 'warn', msg: event, ...fields });
  const inlineMaxBytes = options.inlineMaxBytes ?? DEFAULT_INLINE_MAX_BYTES;
  // only with millwright's own loader: another loader's code would run on the HTTP thread, out of the deadline's reach
  const inlineAllowed = loaderUrl(loader) === loaderUrl(defaultLoader);
  // V2 repository models get no HTTP-thread copy for /invocations' tabular path; a small tensor
  // model (the onnx built-in) may have one for small V2 bodies, as the default model may
  const tensorInline = tensorInlineOption(options, inlineAllowed && inlineMaxBytes > 0);
  const newPool = (modelDir: string, inline = false) => new ModelPool({ modelDir: resolve(modelDir), loader: loaderUrl(loader), size: workers, maxBodyBytes, onEvent, ...(inline ? { inlineMaxBytes } : {}), ...tensorInline });
  const newDefaultPool = (modelDir: string) => newPool(modelDir, inlineAllowed);

  const state: ServerState = { current: undefined, servingKey: undefined, shuttingDown: false, reloading: Promise.resolve() };
  const setInfo = (info: ModelInfo) => {
    metrics.modelInfo.reset();
    metrics.modelInfo.set({ name: info.name, version: info.version, algorithm: info.algorithm }, 1);
  };

  const gate = options.trust ? trustGate(options.trust) : undefined;
  const reload = reloader(state, options.source, { newPool: newDefaultPool, setInfo, metrics, log, gate });

  const capture = options.capture ? new CaptureWriter(options.capture) : undefined;
  const gt = options.groundTruth;
  const { labelFolder, reports } = monitoringJob(options, state, capture, metrics, log);
  const hasDefault = needsDefaultModel(options);
  const { repository, v2, ready } = openInference(options, state, { hasDefault, newPool, timeoutMs, maxBodyBytes, metrics, log, capture });
  const handler = createHandler({
    v2,
    ready,
    regenerateReports: reports?.runNow,
    pool: () => state.current,
    shuttingDown: () => state.shuttingDown,
    timeoutMs,
    maxBodyBytes,
    workers,
    adminToken: options.adminToken || undefined,
    reportsDir: options.reportsDir,
    eventsStore: options.eventsStore,
    groundTruthStore: gt?.dir,
    capture,
    metrics,
    log,
    reload,
  });

  // Listen before loading: a large model can take a while to verify and load, and SageMaker (and
  // any orchestrator) must see GET /ping answer (503 until the model is ready) within seconds.
  const server = createServer(handler);
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? DEFAULT_PORT, host, timeoutMs);
  log({ level: 'info', msg: 'listening', url: `http://${host}:${port}` });
  await loadOrAbandon(options, state, server, { repository, reports, capture, labelFolder }, { hasDefault, newPool: newDefaultPool, setInfo, log, workers, gate });

  const poll = options.source && (options.source.pollMs ?? 30_000) > 0 ? pollSource(state, options.source, reload, log) : undefined;
  const { close, closed } = closer(state, server, poll, options, { reports, capture, log, repository, labelFolder });

  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    server,
    metrics,
    capture,
    model: () => state.current?.info,
    repository,
    reload,
    close,
    closed,
  };
}

/**
 * The watched label folder and the report schedule (quality, drift, and with labels and
 * `reportSchedule.monitoring` model quality, attributions, estimated performance, monitoring rows
 * and the /metrics gauges they set).
 */
function monitoringJob(options: ServeOptions, state: ServerState, capture: CaptureWriter | undefined, metrics: ServeMetrics, log: (fields: Record<string, unknown>) => void) {
  const gt = options.groundTruth;
  const labelFolder = gt?.watchDir !== undefined
    ? watchGroundTruthFolder({
        dir: gt.watchDir,
        storeDir: gt.dir,
        pollMs: gt.pollMs,
        stableForMs: gt.stableForMs,
        log: (fields) => {
          if (fields.msg === 'ground truth file stored') metrics.labels.inc({ source: 'folder' }, Number(fields.labels));
          log(fields);
        },
      })
    : undefined;
  const reports =
    capture && options.reportsDir
      ? scheduleReports({
          captureDir: capture.options.dir,
          reportsDir: options.reportsDir,
          everyMs: options.reportSchedule?.everyMs,
          windowMs: options.reportSchedule?.windowMs,
          model: () => state.current?.info,
          flush: () => capture.flush(),
          ...(gt ? { groundTruthDir: gt.dir, groundTruthKeys: gt.keys } : {}),
          ...(options.reportSchedule?.monitoring ? { monitoring: options.reportSchedule.monitoring } : {}),
          // Files that are already stable go into this run.
          before: labelFolder ? () => labelFolder.pass().catch(() => undefined) : undefined,
          onRun: (run) => setMonitoringGauges(metrics.monitoring, run.monitoring, { ...(run.groundTruth ? { pairs: run.groundTruth.pairs } : {}) }),
          log,
        })
      : undefined;
  return { labelFolder, reports };
}

/** What the server's steps share and change: the pool being served and the reload / shutdown flags. */
interface ServerState {
  /** Undefined until the first model has loaded (the listener is up before that). */
  current: ModelPool | undefined;
  /** The first model's pool while it loads (ended if the start is aborted). */
  loading?: ModelPool;
  /** What the source said we are serving; a poll reloads only when this changes. */
  servingKey: string | undefined;
  shuttingDown: boolean;
  reloading: Promise<unknown>;
}

/** The pools' `tensorInlineMaxBytes` (none when inline answers are off or another loader is used). */
function tensorInlineOption(options: ServeOptions, allowed: boolean): { tensorInlineMaxBytes?: number } {
  return allowed ? { tensorInlineMaxBytes: options.tensorInlineMaxBytes ?? DEFAULT_INLINE_TENSOR_MAX_BYTES } : {};
}

/** A repository alone needs no default model for /invocations; anything else does. */
function needsDefaultModel(options: ServeOptions): boolean {
  return !options.repository || options.modelDir !== undefined || options.source !== undefined;
}

/**
 * Loads the models with the listener already up; if loading fails or `options.signal` aborts it,
 * stops listening, releases what was started and rejects.
 */
async function loadOrAbandon(
  options: ServeOptions,
  state: ServerState,
  server: Server,
  parts: { repository?: ModelRepository; reports?: { stop(): Promise<void> }; capture?: CaptureWriter; labelFolder?: { stop(): Promise<void> } },
  deps: Parameters<typeof loadModels>[3],
): Promise<void> {
  const abortLoad = () => {
    state.shuttingDown = true;
    void state.loading?.terminate();
    void parts.repository?.close();
  };
  options.signal?.addEventListener('abort', abortLoad, { once: true });
  try {
    if (options.signal?.aborted) throw new MillwrightError('UNAVAILABLE', 'stopped before the model was loaded (shutdown requested)');
    await loadModels(options, state, parts.repository, deps);
  } catch (err) {
    state.shuttingDown = true;
    await abandonStart(server, [parts.repository, parts.reports, parts.capture, parts.labelFolder]);
    if (options.signal?.aborted) throw new MillwrightError('UNAVAILABLE', 'stopped while loading the model (shutdown requested)', { cause: err });
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', abortLoad);
  }
}

/** A start whose model failed to load: stop listening and release what was started. */
async function abandonStart(server: Server, parts: ({ close?(): Promise<void>; stop?(): Promise<void> } | undefined)[]): Promise<void> {
  await new Promise<void>((r) => server.close(() => r()));
  server.closeAllConnections();
  for (const p of parts) await (p?.close ?? p?.stop)?.call(p);
}

/** Loads the default model (when there is one), then the repository's models; the listener is already up. */
async function loadModels(
  options: ServeOptions,
  state: ServerState,
  repository: ModelRepository | undefined,
  deps: { hasDefault: boolean; newPool: (dir: string) => ModelPool; setInfo: (info: ModelInfo) => void; log: (fields: Record<string, unknown>) => void; workers: number; gate?: TrustGate },
): Promise<void> {
  if (deps.hasDefault) {
    const initial = await initialModel(options);
    await deps.gate?.(initial.dir);
    const pool = deps.newPool(initial.dir);
    state.loading = pool;
    deps.setInfo(await pool.start());
    state.loading = undefined;
    state.current = pool;
    state.servingKey = initial.servingKey;
    const info = pool.info!;
    deps.log({ level: 'info', msg: 'model loaded', name: info.name, version: info.version, dir: info.dir, workers: deps.workers, ...(info.notes ? { notes: info.notes } : {}), ...(info.inline ? { inline: info.inline } : {}) });
  }
  if (repository) {
    await repository.loadAll();
    deps.log({ level: 'info', msg: 'model repository loaded', dir: repository.options.dir, ready: repository.readyModels() });
  }
}

/** The Open Inference Protocol routes and the model repository they serve (serve/v2). */
function openInference(
  options: ServeOptions,
  state: ServerState,
  deps: { hasDefault: boolean; newPool: (dir: string) => ModelPool; timeoutMs: number; maxBodyBytes: number; metrics: ServeMetrics; log: (fields: Record<string, unknown>) => void; capture?: CaptureWriter },
): { repository?: ModelRepository; v2: ReturnType<typeof createV2Handler>; ready?: () => boolean } {
  const repository = options.repository
    ? new ModelRepository({ dir: resolve(options.repository.dir), policy: options.repository.policy, newPool: deps.newPool, log: deps.log })
    : undefined;
  const v2 = createV2Handler({
    defaultPool: () => state.current,
    hasDefault: deps.hasDefault,
    repository,
    shuttingDown: () => state.shuttingDown,
    timeoutMs: deps.timeoutMs,
    maxBodyBytes: deps.maxBodyBytes,
    adminToken: options.adminToken || undefined,
    metrics: deps.metrics,
    log: deps.log,
    readBody,
    serverVersion: serverVersion(),
    capture: deps.capture,
  });
  // Without a default model, /ping follows the repository: up once it has loaded a model.
  const ready = deps.hasDefault || !repository ? undefined : () => !repository.loading && repository.readyModels().length > 0;
  return { repository, v2, ready };
}

/** The model directory to start with: the given one, else the source's latest version. */
async function initialModel(options: ServeOptions): Promise<{ dir: string; servingKey: string | undefined }> {
  let initialDir = options.modelDir;
  let servingKey: string | undefined;
  if (!initialDir && options.source) {
    const first = await options.source.latest();
    initialDir = first.dir;
    servingKey = first.version;
  }
  if (!initialDir) throw new MillwrightError('USAGE', 'nothing to serve: give a model directory or a registry source');
  return { dir: initialDir, servingKey };
}

/** The reload function: health-checks a new pool, swaps it in, drains the old one; keeps serving on failure. */
function reloader(
  state: ServerState,
  source: ModelSource | undefined,
  deps: { newPool: (dir: string) => ModelPool; setInfo: (info: ModelInfo) => void; metrics: ServeMetrics; log: (fields: Record<string, unknown>) => void; gate?: TrustGate },
): (dir?: string) => Promise<{ previous?: ModelInfo; current: ModelInfo }> {
  const { newPool, setInfo, metrics, log } = deps;
  return (dir?: string) => {
    // One reload at a time; a second request waits for the first.
    const run = state.reloading.then(async () => {
      if (state.shuttingDown) throw new MillwrightError('UNAVAILABLE', 'server is shutting down');
      if (!state.current && dir === undefined && !source) throw new MillwrightError('UNAVAILABLE', 'the model is still loading; retry later');
      let target = dir ?? state.current?.options.modelDir ?? '';
      let sourceKey: string | undefined;
      if (dir === undefined && source) {
        const latest = await source.latest();
        target = latest.dir;
        sourceKey = latest.version;
      }
      const previous = state.current?.info;
      let candidate: ModelPool;
      try {
        await deps.gate?.(target, state.current?.options.modelDir);
        candidate = newPool(target);
        await candidate.start();
      } catch (err) {
        metrics.reloads.inc({ result: 'rejected' });
        const e = err instanceof MillwrightError ? err : new MillwrightError('INTERNAL', String(err));
        log({ level: 'error', msg: 'model reload rejected', dir: target, reason: e.message, serving: previous?.version });
        throw new MillwrightError(e.code === 'INTERNAL' ? 'UNAVAILABLE' : e.code, `${e.message}; still serving version ${previous?.version ?? '?'}`);
      }
      const old = state.current;
      state.current = candidate; // the swap: requests from here on go to the new version
      if (sourceKey !== undefined) state.servingKey = sourceKey;
      setInfo(candidate.info!);
      metrics.reloads.inc({ result: 'swapped' });
      log({ level: 'info', msg: 'model swapped', from: previous?.version, to: candidate.info!.version, dir: target });
      void old?.drain();
      return { previous, current: candidate.info! };
    });
    state.reloading = run.catch(() => undefined);
    return run;
  };
}

/** Listens with slow-client bounds; resolves with the bound port. */
async function listen(server: Server, port: number, host: string, timeoutMs: number): Promise<number> {
  // Bound slow clients: headers must arrive promptly; bodies are also bounded by the invocation deadline.
  server.headersTimeout = 20_000;
  server.requestTimeout = Math.max(60_000, timeoutMs * 2);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Polls the source and reloads when it names a new version; a version that failed to load is not retried. */
function pollSource(state: ServerState, src: ModelSource, reload: (dir?: string) => Promise<unknown>, log: (fields: Record<string, unknown>) => void): NodeJS.Timeout {
  const rejected = new Set<string>();
  let polling = false;
  const poll = setInterval(() => {
    // One poll at a time: loading a version can take longer than the interval.
    if (state.shuttingDown || polling) return;
    polling = true;
    src.latest().then(
      async ({ dir, version }) => {
        const key = `${resolve(dir)}@${version}`;
        if (version === state.servingKey || rejected.has(key)) return;
        try {
          await reload(dir);
          state.servingKey = version;
        } catch {
          rejected.add(key); // don't retry a broken version every poll
        }
      },
      (err: Error) => log({ level: 'warn', msg: 'registry poll failed', reason: err.message }),
    ).finally(() => (polling = false));
  }, src.pollMs ?? 30_000);
  poll.unref();
  return poll;
}

/** Graceful shutdown (idempotent): stop accepting, let in-flight requests finish up to `shutdownTimeoutMs`, then drain. */
function closer(
  state: ServerState,
  server: Server,
  poll: NodeJS.Timeout | undefined,
  options: ServeOptions,
  deps: { reports: { stop(): Promise<void> } | undefined; capture: CaptureWriter | undefined; log: (fields: Record<string, unknown>) => void; repository?: ModelRepository; labelFolder?: { stop(): Promise<void> } },
): { close: () => Promise<void>; closed: Promise<void> } {
  const { reports, capture, log, repository, labelFolder } = deps;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      state.shuttingDown = true;
      if (poll) clearInterval(poll);
      log({ level: 'info', msg: 'shutting down', inFlight: state.current?.pending ?? 0 });
      const limit = options.shutdownTimeoutMs ?? 30_000;
      const stopped = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      // Keep-alive connections that go idle after their last response are closed as they finish.
      const idleSweep = setInterval(() => server.closeIdleConnections(), 100);
      const timer = setTimeout(() => server.closeAllConnections(), limit);
      await stopped;
      clearInterval(idleSweep);
      clearTimeout(timer);
      await state.reloading;
      await labelFolder?.stop();
      await reports?.stop();
      await state.current?.drain();
      await repository?.close();
      await capture?.close();
      log({ level: 'info', msg: 'stopped' });
      resolveClosed();
    })();
    return closing;
  };
  return { close, closed };
}

function serverVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(millwrightRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

function loaderUrl(loader: string): string {
  return /^[a-z]+:/i.test(loader) ? loader : pathToFileURL(resolve(loader)).href;
}
