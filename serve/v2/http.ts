/**
 * The Open Inference Protocol's HTTP routes (`/v2/...`) on node:http: routing, the body limit,
 * the deadline and the admin token. What a request means is decided in infer.ts (run by the
 * model's worker threads) and repository.ts.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MillwrightError } from '../../lib/errors/index.ts';
import type { HttpResult } from '../errors.ts';
import { countRequest, type ServeMetrics } from '../metrics.ts';
import type { ModelInfo, ModelPool } from '../pool.ts';
import { modelMetadata, v2ErrorResponse } from './infer.ts';
import type { ModelRepository } from './repository.ts';
import { captureInference } from './capture.ts';
import type { CaptureWriter } from '../capture-writer.ts';
import { HEADER_LENGTH } from './binary.ts';

export interface V2Deps {
  /** The default model (`--model` / registry), also served over V2 under its manifest name. */
  defaultPool(): ModelPool | undefined;
  /** True when a default model is configured (so readiness waits for it). */
  hasDefault: boolean;
  repository?: ModelRepository;
  shuttingDown(): boolean;
  timeoutMs: number;
  maxBodyBytes: number;
  adminToken?: string;
  metrics: ServeMetrics;
  log(fields: Record<string, unknown>): void;
  readBody(req: IncomingMessage, limit: number): Promise<Buffer>;
  serverVersion: string;
  /** Data capture of inference requests (as for /invocations); off when absent. */
  capture?: CaptureWriter;
}

const SEG = '([A-Za-z0-9][A-Za-z0-9._-]*)';
const MODEL_ROUTE = new RegExp(`^/v2/models/${SEG}(?:/versions/${SEG})?(/ready|/infer)?$`);
const REPO_ROUTE = new RegExp(`^/v2/repository/models/${SEG}/(load|unload)$`);

function json(status: number, value: unknown): HttpResult {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

/** Writes a result; binary V2 outputs (`binary`) follow the JSON body in the same response. */
function write(res: ServerResponse, r: HttpResult & { binary?: Uint8Array }): void {
  if (res.headersSent) return;
  res.statusCode = r.status;
  for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
  const body = Buffer.from(r.body);
  res.setHeader('content-length', body.byteLength + (r.binary?.byteLength ?? 0));
  if (!r.binary) return void res.end(body);
  // Small answers go out in one write; large binary outputs are not copied again.
  if (r.binary.byteLength <= 64 * 1024) return void res.end(Buffer.concat([body, r.binary]));
  res.cork();
  res.write(body);
  res.end(r.binary);
}

/** A served model resolved from a URL: its pool, the version answered under and what it is. */
interface Target {
  pool: ModelPool;
  version: string;
  info: ModelInfo;
  versions: string[];
}

/** The model a URL names: a repository model first, else the default model under its manifest name. */
function resolveTarget(deps: V2Deps, name: string, version: string | undefined): Target {
  const repo = deps.repository;
  if (repo?.has(name)) {
    const r = repo.resolve(name, version);
    if (!r.info) throw new MillwrightError('UNAVAILABLE', `model "${name}" is loading`);
    return { pool: r.pool, version: r.version, info: r.info, versions: repo.versions(name) };
  }
  const pool = deps.defaultPool();
  const info = pool?.info;
  if (pool && info && info.name === name) {
    if (version !== undefined && version !== info.version) throw new MillwrightError('NOT_FOUND', `model "${name}" has no version "${version}" (serving ${info.version})`);
    return { pool, version: info.version, info, versions: [info.version] };
  }
  throw new MillwrightError('NOT_FOUND', `unknown model "${name}"${version !== undefined ? ` version "${version}"` : ''}`);
}

/** Server readiness: the default model healthy (when there is one) and no repository model loading. */
function serverReady(deps: V2Deps): boolean {
  if (deps.shuttingDown()) return false;
  if (deps.hasDefault && !deps.defaultPool()?.healthy) return false;
  const repo = deps.repository;
  return !repo || (!repo.loading && (deps.hasDefault || repo.readyModels().length > 0));
}

function checkAdmin(deps: V2Deps, req: IncomingMessage): ModelRepository {
  if (!deps.adminToken) throw new MillwrightError('NOT_FOUND', `no route ${req.method} ${req.url} (repository routes need MILLWRIGHT_ADMIN_TOKEN)`);
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  const given = Buffer.from(m?.[1]?.trim() ?? '');
  const want = Buffer.from(deps.adminToken);
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new MillwrightError('UNAUTHORIZED', 'repository routes need "Authorization: Bearer <token>" with the token from MILLWRIGHT_ADMIN_TOKEN');
  }
  if (!deps.repository) throw new MillwrightError('NOT_FOUND', 'no model repository is configured (serve --model-repository DIR)');
  return deps.repository;
}

async function readJsonBody(deps: V2Deps, req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await deps.readBody(req, 64 * 1024);
  if (body.byteLength === 0) return {};
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new MillwrightError('BAD_INPUT', 'request body must be a JSON object (or empty)');
}

type Notes = Record<string, unknown>;

/** `/v2/models/<name>[/versions/<v>][/ready|/infer]`. */
async function modelRoute(deps: V2Deps, req: IncomingMessage, res: ServerResponse, m: RegExpExecArray, notes: Notes): Promise<HttpResult> {
  const [path, name, version, action] = m as unknown as [string, string, string | undefined, string | undefined];
  const method = req.method ?? 'GET';
  if (action === '/infer') {
    if (method !== 'POST') throw new MillwrightError('NOT_FOUND', `no route ${method} ${path} (inference is POST)`);
    return inferRoute(deps, req, res, name, version, notes);
  }
  if (method !== 'GET') throw new MillwrightError('NOT_FOUND', `no route ${method} ${path}`);
  if (action !== '/ready') {
    const t = resolveTarget(deps, name, version);
    return json(200, modelMetadata({ ...t.info, name }, t.versions));
  }
  try {
    const t = resolveTarget(deps, name, version);
    const ready = t.pool.healthy && !deps.shuttingDown();
    return json(ready ? 200 : 503, { name, ready });
  } catch (err) {
    if (err instanceof MillwrightError && err.code === 'UNAVAILABLE') return json(503, { name, ready: false });
    throw err;
  }
}

/** `POST /v2/repository/index` and `/v2/repository/models/<name>/load|unload`. */
async function repositoryRoute(deps: V2Deps, req: IncomingMessage, path: string): Promise<HttpResult | undefined> {
  if (req.method !== 'POST') return undefined;
  if (path === '/v2/repository/index') {
    const repo = checkAdmin(deps, req);
    const body = await readJsonBody(deps, req);
    return json(200, await repo.index({ ready: body.ready === true }));
  }
  const rr = REPO_ROUTE.exec(path);
  if (!rr) return undefined;
  const repo = checkAdmin(deps, req);
  await readJsonBody(deps, req);
  const name = rr[1]!;
  if (rr[2] === 'load') {
    const out = await repo.load(name);
    return json(200, { name, loaded: out.loaded, failed: out.failed });
  }
  await repo.unload(name);
  return json(200, { name, unloaded: true });
}

async function route(deps: V2Deps, req: IncomingMessage, res: ServerResponse, path: string, notes: Notes): Promise<HttpResult> {
  const method = req.method ?? 'GET';
  if (method === 'GET' && path === '/v2') {
    return json(200, { name: 'millwright', version: deps.serverVersion, extensions: ['binary_tensor_data', ...(deps.repository ? ['model_repository'] : [])] });
  }
  if (method === 'GET' && path === '/v2/health/live') return json(200, { live: true });
  if (method === 'GET' && path === '/v2/health/ready') {
    const ready = serverReady(deps);
    return json(ready ? 200 : 503, { ready });
  }
  const mr = MODEL_ROUTE.exec(path);
  if (mr) return modelRoute(deps, req, res, mr, notes);
  const repo = await repositoryRoute(deps, req, path);
  if (repo) return repo;
  throw new MillwrightError('NOT_FOUND', `no route ${method} ${path}`);
}

/** Inference: resolve the model, read the body under the limit and the deadline, run it on the model's workers. */
async function inferRoute(deps: V2Deps, req: IncomingMessage, res: ServerResponse, name: string, version: string | undefined, notes: Notes): Promise<HttpResult> {
  const deadlineAt = Date.now() + deps.timeoutMs;
  const timer = setTimeout(() => {
    res.setHeader('connection', 'close');
    notes.errorCode = 'DEADLINE_EXCEEDED';
    write(res, v2ErrorResponse(new MillwrightError('DEADLINE_EXCEEDED', `request was not answered within the ${deps.timeoutMs} ms deadline; retry later`)));
  }, deps.timeoutMs + 5);
  res.on('close', () => clearTimeout(timer));
  try {
    if (deps.shuttingDown()) throw new MillwrightError('UNAVAILABLE', 'server is shutting down');
    const t = resolveTarget(deps, name, version);
    if (!t.pool.healthy) throw new MillwrightError('UNAVAILABLE', `model "${name}" version "${t.version}" is not ready; retry later`);
    const body = await deps.readBody(req, deps.maxBodyBytes).catch((err: unknown) => {
      if ((err as MillwrightError).code === 'PAYLOAD_TOO_LARGE') res.setHeader('connection', 'close');
      throw err;
    });
    notes.model = name;
    notes.modelVersion = t.version;
    deps.metrics.inFlight.inc();
    try {
      const headerLength = req.headers[HEADER_LENGTH];
      const v2 = { modelName: name, modelVersion: t.version, ...(typeof headerLength === 'string' ? { headerLength } : {}) };
      const result = await t.pool.runV2({ body, contentType: req.headers['content-type'], v2 }, deadlineAt);
      if (result.rows !== undefined) {
        notes.rows = result.rows;
        deps.metrics.rows.inc(result.rows);
      }
      if (result.internal) notes.internal = result.internal;
      if (result.inferenceId !== undefined) notes.inferenceId = result.inferenceId;
      if (result.status === 200 && deps.capture) {
        if (captureInference(deps.capture, { model: name, version: t.version, requestId: String(notes.requestId), contentType: req.headers['content-type'], headerLength: v2.headerLength, body, result })) deps.metrics.captured.inc();
      }
      return result;
    } finally {
      deps.metrics.inFlight.dec();
    }
  } finally {
    clearTimeout(timer);
  }
}

function routeLabel(path: string): string {
  if (path.endsWith('/infer')) return '/v2/infer';
  if (path.startsWith('/v2/repository')) return '/v2/repository';
  return path.startsWith('/v2/health') ? '/v2/health' : '/v2/metadata';
}

/**
 * The `/v2` request handler: one JSON log line and the request metrics per request, errors as
 * `{"error": "..."}`.
 *
 * @example
 * const v2 = createV2Handler({ defaultPool: () => pool, hasDefault: true, ... });
 * createServer((req, res) => (req.url?.startsWith('/v2') ? v2(req, res) : app(req, res)));
 */
export function createV2Handler(deps: V2Deps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const start = process.hrtime.bigint();
    const path = (req.url ?? '/v2').split('?')[0]!.replace(/\/+$/, '') || '/v2';
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[A-Za-z0-9._:-]{1,100}$/.test(given) ? given : randomUUID();
    res.setHeader('x-request-id', requestId);
    if (deps.shuttingDown()) res.setHeader('connection', 'close');
    const notes: Notes = { requestId };
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const label = routeLabel(path);
      countRequest(deps.metrics, label, req.method ?? '', res.statusCode, seconds);
      const level = res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
      deps.log({ level, msg: 'request', requestId, method: req.method, path, status: res.statusCode, ms: Math.round(seconds * 1e6) / 1000, ...notes });
    });
    route(deps, req, res, path, notes).then(
      (r) => write(res, r),
      (err: unknown) => {
        const r = v2ErrorResponse(err);
        notes.errorCode = err instanceof MillwrightError ? err.code : 'INTERNAL';
        if (r.status >= 500 && !(err instanceof MillwrightError)) notes.internal = err instanceof Error ? err.message : String(err);
        write(res, r);
      },
    );
  };
}
