import { join, resolve } from 'node:path';
import { plantsDir, readEnv, registryDir, servedModelDir } from '../../lib/config/index.ts';
import { numberFlag, parseCommandArgs, usageError, type Command } from '../command.ts';
import { SERVE_DURATION, resolveSettings } from '../../serve/options.ts';
import { parseDuration, parseSize } from '../../lib/units/index.ts';
import { registrySource } from '../../serve/registry-source.ts';
import { DEPLOYMENT_LOADER, deploymentSource } from '../../serve/deployment-source.ts';
import { logLine } from '../../serve/log-line.ts';
import { STAGES, type Stage } from '../../lib/model/stages.ts';
import { loadPlant } from '../../lib/plant/index.ts';
import { startServer, type ModelSource, type RunningServer, type ServeOptions } from '../../serve/server.ts';
import { parseVersionPolicy } from '../../serve/v2/repository.ts';

const usage = `millwright serve [--model DIR | --registry DIR --group G] [options]

Serves a model over HTTP (SageMaker-compatible): GET /ping, POST /invocations,
GET /execution-parameters, /health/live, /health/ready, /metrics; /admin/* and /reports/*
need MILLWRIGHT_ADMIN_TOKEN (admin routes are off without it). Stops gracefully on SIGTERM.

  --model DIR            model directory (default: SM_MODEL_DIR, else /opt/ml/model)
  --registry DIR         serve the latest Approved version of --group from this registry
                         (default registry: MILLWRIGHT_REGISTRY, else ./.millwright/registry)
  --group G              model group in the registry
  --deployment DIR       serve the pair an edge folder's current pointer names (millwright deploy/rollback),
                         blue/green when it moves (checked every --poll, default 2s); with --trust the pair's
                         signatures are checked again
  --plant NAME           a plant config (<plants>/<NAME>/plant.yaml): its model group, stage and port
  --trust DIR            trust store: only models signed by one of its keys load (env MILLWRIGHT_TRUST_DIR);
                         a model older than the one running is refused unless --allow-downgrade
  --allow-downgrade      accept an older signed version (a deliberate rollback)
  --stage DEV|TEST|PROD  follow a registry stage instead of the latest Approved version (promotions and
                         "millwright registry rollback" are served blue/green on the next poll)
  --poll DUR             how often to check the registry for a new Approved version (default 30s; 0 = never)
  --port N               port (default 8080; env SAGEMAKER_BIND_TO_PORT)
  --host ADDR            interface (default 127.0.0.1; env MILLWRIGHT_HOST; the container uses 0.0.0.0)
  --workers N            predict worker threads (default: all cores; env SAGEMAKER_MODEL_SERVER_WORKERS, MODEL_SERVER_WORKERS)
  --timeout DUR          per-request deadline (default 5s; env SAGEMAKER_MODEL_SERVER_TIMEOUT, MODEL_SERVER_TIMEOUT in seconds)
  --max-body SIZE        request body limit (default 6mb; env SAGEMAKER_MAX_PAYLOAD_IN_MB)
  --inline-max-body SIZE bodies up to SIZE are predicted on the HTTP thread, without the hop to a worker, when
                         the model qualifies (built-in forests: small, bounded cost per row; default 4kb; 0 = never,
                         which also sends V2 bodies of small onnx tensor models, up to 256kb, to the workers)
  --capture DIR          capture sampled requests/responses here (SageMaker data-capture JSON Lines)
  --capture-sample P     share of requests captured, 0..1 (default 0.1)
  --capture-max-file SIZE  rotate capture files at this size (default 16mb; also hourly)
  --capture-max-total SIZE keep at most this much capture data, oldest deleted first (default 1gb)
  --capture-max-files N  keep at most N capture files (default 500)
  --reports DIR          serve report files from DIR under /reports/; with --capture, also regenerate the
                         quality and drift reports from captured traffic (POST /admin/reports/regenerate runs one now)
  --reports-every DUR    how often to regenerate them (default 1h; 0 = only on demand)
  --reports-window DUR   how much recent traffic each regeneration reads (default 24h)
  --events-store DIR     accept maintenance records on POST /events (admin token) into this store's events table
  --ground-truth-dir DIR late labels: files dropped in DIR (JSON Lines in SageMaker's ground-truth layout, or CSV
                         keyed by inference_id / lot / asset+time) are stored once stable and moved to done/ (or
                         failed/ with a reason); POST /ground-truth (admin token) takes the same bodies. Labels go
                         to DIR/store/; each report run merges them with the capture into the model-quality report
  --ground-truth-lot COL labels keyed by lot/batch match the captured records' COL (an input column)
  --ground-truth-asset COL labels keyed by asset + time match the captured records' COL and their time
  --ground-truth-time COL  the captured column holding that time, epoch ms (default capturedAt, the inference time)
  --ground-truth-tolerance DUR  an asset + time label matches the nearest record of its asset within DUR (default 0: exact)
  --monitoring-store DIR write each report run's drift, violations, attributions and estimated performance as rows
                         of the monitoring table in this store (SQL: millwright sql "SELECT * FROM monitoring")
  --baseline DIR         statistics.json + constraints.json (millwright baseline): each report run checks the
                         captured traffic against them (violations in the quality report, the monitoring table, /metrics)
  --loader MODULE        module exporting loadModel(dir) (default: millwright's lib/model)
  --model-repository DIR also serve every model of DIR/<name>/<version>/ over the Open Inference
                         Protocol (/v2/models/<name>/infer); with it, --model is optional
  --version-policy P     versions of each repository model to load: latest (default), latest:N,
                         specific:V1,V2 or all

Open Inference Protocol (KServe V2): GET /v2, /v2/health/live, /v2/health/ready,
/v2/models/<name>[/versions/<v>][/ready], POST .../infer; the default model is served under its
manifest name too. POST /v2/repository/index and /v2/repository/models/<name>/load|unload need
MILLWRIGHT_ADMIN_TOKEN.
`;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Serve a model over HTTP (SageMaker-compatible /ping and /invocations)',
  usage,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      options: {
        model: { type: 'string' },
        registry: { type: 'string' },
        group: { type: 'string' },
        deployment: { type: 'string' },
        stage: { type: 'string' },
        plant: { type: 'string' },
        plants: { type: 'string' },
        trust: { type: 'string' },
        'allow-downgrade': { type: 'boolean' },
        poll: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        workers: { type: 'string' },
        timeout: { type: 'string' },
        'max-body': { type: 'string' },
        'inline-max-body': { type: 'string' },
        capture: { type: 'string' },
        'capture-sample': { type: 'string' },
        'capture-max-file': { type: 'string' },
        'capture-max-total': { type: 'string' },
        'capture-max-files': { type: 'string' },
        reports: { type: 'string' },
        'events-store': { type: 'string' },
        'ground-truth-dir': { type: 'string' },
        'ground-truth-lot': { type: 'string' },
        'ground-truth-asset': { type: 'string' },
        'ground-truth-time': { type: 'string' },
        'ground-truth-tolerance': { type: 'string' },
        'monitoring-store': { type: 'string' },
        baseline: { type: 'string' },
        'reports-every': { type: 'string' },
        'reports-window': { type: 'string' },
        loader: { type: 'string' },
        'model-repository': { type: 'string' },
        'version-policy': { type: 'string' },
      },
    });
    const env = io.env;
    if (values.plant) {
      if (values.model || values.group) throw usageError('--plant gives the model group: leave out --model and --group');
      const plant = await loadPlant(values.plant, { dir: plantsDir(values.plants, env, io.cwd) });
      values.group = plant.model.group;
      values.stage ??= plant.serve.stage;
      values.port ??= String(plant.serve.port);
    }
    const settings = resolveSettings(values, env);
    if (values.model && (values.registry || values.group)) throw usageError('give either --model or --registry/--group, not both');
    if (values.group === undefined && values.registry !== undefined) throw usageError('--registry needs --group');
    if (values.stage !== undefined && values.group === undefined) throw usageError('--stage needs --group (and --registry or MILLWRIGHT_REGISTRY)');
    if (values.stage !== undefined && !(STAGES as readonly string[]).includes(values.stage)) throw usageError(`--stage must be one of ${STAGES.join(', ')}, got "${values.stage}"`);
    let source: ModelSource | undefined;
    let modelDir: string | undefined;
    const trustDir = values.trust ?? readEnv('MILLWRIGHT_TRUST_DIR', env);
    if (values.deployment !== undefined) {
      if (values.model || values.group || values['model-repository'] || values.loader) throw usageError('--deployment gives the model and its code: leave out --model, --group, --model-repository and --loader');
      source = deploymentSource(resolve(io.cwd, values.deployment), { pollMs: values.poll === undefined ? 2000 : values.poll === '0' ? 0 : parseDuration(values.poll, { ...SERVE_DURATION, what: '--poll' }), ...(trustDir ? { trust: resolve(io.cwd, trustDir) } : {}) });
    } else if (values.group !== undefined) {
      const registry = registryDir(values.registry, env, io.cwd);
      source = registrySource(registry, values.group, values.poll === undefined ? 30_000 : values.poll === '0' ? 0 : parseDuration(values.poll, { ...SERVE_DURATION, what: '--poll' }), values.stage as Stage | undefined);
    } else {
      modelDir = defaultModelDir(values, env, io.cwd);
    }
    const repository = repositoryOption(values, io.cwd);
    const sample = numberFlag('capture-sample', values['capture-sample'], { min: 0, max: 1 }) ?? 0.1;
    const maxFiles = numberFlag('capture-max-files', values['capture-max-files'], { integer: true, min: 1 });

    // One JSON line per request: lines are gathered and written once per event-loop turn, so a
    // busy server makes one write per batch instead of one syscall per request.
    let pending = '';
    let scheduled = false;
    const flushLog = () => {
      scheduled = false;
      if (pending !== '') io.out(pending);
      pending = '';
    };
    const log = (fields: Record<string, unknown>) => {
      pending += `${logLine(fields)}\n`;
      if (pending.length > 64 * 1024) flushLog();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flushLog);
      }
    };
    const server = await startAbortable({
      modelDir,
      source,
      ...(trustDir && values.deployment === undefined ? { trust: { dir: resolve(io.cwd, trustDir), allowDowngrade: values['allow-downgrade'] ?? false } } : {}),
      loader: values.deployment !== undefined ? DEPLOYMENT_LOADER : values.loader ? resolve(io.cwd, values.loader) : undefined,
      port: settings.port,
      host: settings.host,
      workers: settings.workers,
      timeoutMs: settings.timeoutMs,
      maxBodyBytes: settings.maxBodyBytes,
      ...(values['inline-max-body'] !== undefined ? { inlineMaxBytes: values['inline-max-body'] === '0' ? 0 : parseSize(values['inline-max-body'], { what: '--inline-max-body' }) } : {}),
      capture: values.capture
        ? {
            dir: resolve(io.cwd, values.capture),
            sampleRate: sample,
            maxFileBytes: values['capture-max-file'] ? parseSize(values['capture-max-file'], { what: '--capture-max-file' }) : undefined,
            maxTotalBytes: values['capture-max-total'] ? parseSize(values['capture-max-total'], { what: '--capture-max-total' }) : undefined,
            maxFiles,
          }
        : undefined,
      reportsDir: values.reports ? resolve(io.cwd, values.reports) : undefined,
      eventsStore: values['events-store'] ? resolve(io.cwd, values['events-store']) : undefined,
      reportSchedule: {
        everyMs: values['reports-every'] === undefined ? undefined : values['reports-every'] === '0' ? 0 : parseDuration(values['reports-every'], { ...SERVE_DURATION, what: '--reports-every' }),
        windowMs: values['reports-window'] === undefined ? undefined : parseDuration(values['reports-window'], { ...SERVE_DURATION, what: '--reports-window' }),
        ...monitoringOptions(values, io.cwd),
      },
      ...groundTruthOption(values, io.cwd),
      adminToken: readEnv('MILLWRIGHT_ADMIN_TOKEN', env),
      repository,
      log,
    });
    if (!server) {
      log({ level: 'info', msg: 'stopped', reason: 'shutdown requested while loading the model' });
      flushLog();
      return 0;
    }
    const stop = () => void server.close();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    try {
      await server.closed;
    } finally {
      flushLog();
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
    }
    return 0;
  },
};

/** `--monitoring-store` and `--baseline`: what each scheduled report run adds. */
function monitoringOptions(values: { 'monitoring-store'?: string; baseline?: string }, cwd: string): { monitoring?: NonNullable<ServeOptions['reportSchedule']>['monitoring'] } {
  const store = values['monitoring-store'];
  const baseline = values.baseline;
  if (store === undefined && baseline === undefined) return {};
  return { monitoring: { ...(store !== undefined ? { store: resolve(cwd, store) } : {}), ...(baseline !== undefined ? { baselineDir: resolve(cwd, baseline) } : {}) } };
}

/**
 * `--ground-truth-dir DIR`: the watched label folder, its labels in DIR/store/; the
 * `--ground-truth-lot/asset/time/tolerance` flags name the capture columns business-key labels match.
 */
function groundTruthOption(
  values: { 'ground-truth-dir'?: string; 'ground-truth-lot'?: string; 'ground-truth-asset'?: string; 'ground-truth-time'?: string; 'ground-truth-tolerance'?: string },
  cwd: string,
): Pick<ServeOptions, 'groundTruth'> {
  const dir = values['ground-truth-dir'];
  const keyFlags = (['ground-truth-lot', 'ground-truth-asset', 'ground-truth-time', 'ground-truth-tolerance'] as const).filter((k) => values[k] !== undefined);
  if (dir === undefined) {
    if (keyFlags.length > 0) throw usageError(`--${keyFlags[0]} needs --ground-truth-dir`);
    return {};
  }
  if (values['ground-truth-asset'] === undefined) {
    const orphan = keyFlags.find((k) => k === 'ground-truth-time' || k === 'ground-truth-tolerance');
    if (orphan) throw usageError(`--${orphan} applies to asset + time labels: give --ground-truth-asset COL too`);
  }
  const keys: NonNullable<NonNullable<ServeOptions['groundTruth']>['keys']> = {};
  if (values['ground-truth-lot'] !== undefined) keys.lot = values['ground-truth-lot'];
  if (values['ground-truth-asset'] !== undefined) keys.asset = values['ground-truth-asset'];
  if (values['ground-truth-time'] !== undefined) keys.time = values['ground-truth-time'];
  if (values['ground-truth-tolerance'] !== undefined) keys.toleranceMs = parseDuration(values['ground-truth-tolerance'], { ...SERVE_DURATION, positive: false, what: '--ground-truth-tolerance' });
  return { groundTruth: { dir: join(resolve(cwd, dir), 'store'), watchDir: resolve(cwd, dir), ...(keyFlags.length ? { keys } : {}) } };
}

/** `--model`, SM_MODEL_DIR or /opt/ml/model; none when only a model repository is served. */
function defaultModelDir(values: { model?: string; 'model-repository'?: string }, env: NodeJS.ProcessEnv, cwd: string): string | undefined {
  if (values.model === undefined && values['model-repository'] !== undefined && readEnv('SM_MODEL_DIR', env) === undefined) return undefined;
  return servedModelDir(values.model, env, cwd);
}

function repositoryOption(values: { 'model-repository'?: string; 'version-policy'?: string }, cwd: string): ServeOptions['repository'] {
  const policy = values['version-policy'];
  if (values['model-repository'] === undefined) {
    if (policy !== undefined) throw usageError('--version-policy needs --model-repository');
    return undefined;
  }
  return { dir: resolve(cwd, values['model-repository']), policy: policy === undefined ? undefined : parseVersionPolicy(policy) };
}

/**
 * Starts the server with SIGTERM/SIGINT honoured while the model is still loading (the listener
 * is already up then): resolves undefined when a signal stopped the start.
 */
async function startAbortable(options: ServeOptions): Promise<RunningServer | undefined> {
  const starting = new AbortController();
  const abort = () => starting.abort();
  process.once('SIGTERM', abort);
  process.once('SIGINT', abort);
  try {
    return await startServer({ ...options, signal: starting.signal });
  } catch (err) {
    if (starting.signal.aborted) return undefined;
    throw err;
  } finally {
    process.off('SIGTERM', abort);
    process.off('SIGINT', abort);
  }
}

/** CLI subcommands of this module, registered by cli/main.ts. */
export const serveCommands: Command[] = [serveCommand];
