import { randomUUID, timingSafeEqual } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { MillwrightError } from '../lib/errors/index.ts';
import type { CaptureWriter } from './capture.ts';
import { errorResponse, toMillwrightError, type HttpResult } from './errors.ts';
import type { ServeMetrics } from './metrics.ts';
import type { ModelInfo, ModelPool } from './pool.ts';
import { reportsRouter } from './reports-route.ts';
import type { ReportRun } from './report-schedule.ts';

/** What the HTTP layer needs from the running server. */
export interface AppState {
  /** The pool serving now; swapped atomically on reload. */
  pool(): ModelPool | undefined;
  shuttingDown(): boolean;
  timeoutMs: number;
  maxBodyBytes: number;
  workers: number;
  adminToken?: string;
  reportsDir?: string;
  capture?: CaptureWriter;
  metrics: ServeMetrics;
  log(fields: Record<string, unknown>): void;
  /** Regenerates the reports from captured traffic now (when capture and reports are configured). */
  regenerateReports?: () => Promise<ReportRun>;
  /** Loads `dir` (or the registry's latest approved version) beside the current model and swaps. */
  reload(dir?: string): Promise<{ previous?: ModelInfo; current: ModelInfo }>;
}

function send(res: Response, r: HttpResult): void {
  if (res.headersSent) return;
  res.status(r.status);
  for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
  res.send(r.body);
}

function sendError(res: Response, err: unknown): void {
  send(res, errorResponse(err));
}

/**
 * The Express app: SageMaker routes (`/ping`, `/invocations`, `/execution-parameters`),
 * health, metrics, admin and reports. All errors go through `errorResponse`.
 */
export function createApp(state: AppState): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // One structured log line and metrics per request, whatever the route.
  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    // A caller's id is kept for tracing only if it is a plain token (it is echoed in a header and the capture).
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[A-Za-z0-9._:-]{1,100}$/.test(given) ? given : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    if (state.shuttingDown()) res.setHeader('connection', 'close');
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const route = routeOf(req.path);
      state.metrics.requests.inc({ route, method: req.method, status: String(res.statusCode) });
      state.metrics.latency.observe({ route }, seconds);
      const line: Record<string, unknown> = {
        level: res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
        msg: 'request',
        requestId,
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(seconds * 1e6) / 1000,
        bytesIn: Number(req.headers['content-length'] ?? 0),
        bytesOut: Number(res.getHeader('content-length') ?? 0),
      };
      if (res.locals.rows !== undefined) line.rows = res.locals.rows;
      if (res.locals.modelVersion !== undefined) line.modelVersion = res.locals.modelVersion;
      if (res.locals.errorCode !== undefined) line.errorCode = res.locals.errorCode;
      if (res.locals.internal !== undefined) line.internal = res.locals.internal;
      state.log(line);
    });
    next();
  });

  app.get('/ping', (_req, res) => {
    res.status(state.pool()?.healthy && !state.shuttingDown() ? 200 : 503).end();
  });
  app.get('/health/live', (_req, res) => {
    res.json({ status: 'live' });
  });
  app.get('/health/ready', (_req, res) => {
    const pool = state.pool();
    const ready = Boolean(pool?.healthy) && !state.shuttingDown();
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : state.shuttingDown() ? 'shutting down' : 'not ready',
      model: pool?.info ? { name: pool.info.name, version: pool.info.version, algorithm: pool.info.algorithm, task: pool.info.task } : null,
    });
  });
  app.get('/execution-parameters', (_req, res) => {
    res.json({ MaxConcurrentTransforms: state.workers, BatchStrategy: 'MULTI_RECORD', MaxPayloadInMB: Math.max(1, Math.floor(state.maxBodyBytes / (1024 * 1024))) });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('content-type', state.metrics.registry.contentType);
    res.send(await state.metrics.registry.metrics());
  });

  // The deadline covers the whole exchange, body upload included: a slow client or a slow model
  // gets 503 + Retry-After at the deadline, never later.
  app.post('/invocations', (req, res, next) => {
    const deadlineAt = Date.now() + state.timeoutMs;
    res.locals.deadlineAt = deadlineAt;
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      res.locals.errorCode = 'DEADLINE_EXCEEDED';
      // The body may still be arriving: close the connection rather than wait for it.
      res.setHeader('connection', 'close');
      sendError(res, new MillwrightError('DEADLINE_EXCEEDED', `request was not answered within the ${state.timeoutMs} ms deadline; retry later`));
    }, state.timeoutMs + 5);
    res.on('close', () => clearTimeout(timer));
    next();
  });
  app.post(
    '/invocations',
    express.raw({ type: () => true, limit: state.maxBodyBytes }),
    async (req: Request, res: Response) => {
      const pool = state.pool();
      if (!pool || !pool.healthy) {
        res.locals.errorCode = 'UNAVAILABLE';
        return sendError(res, new MillwrightError('UNAVAILABLE', 'no model is loaded and healthy; retry later'));
      }
      if (res.headersSent) return;
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const contentType = req.headers['content-type'];
      const accept = req.headers.accept;
      res.locals.modelVersion = pool.info?.version;
      state.metrics.inFlight.inc();
      try {
        const result = await pool.invoke({ body, contentType, accept }, res.locals.deadlineAt as number);
        if (result.rows !== undefined) {
          res.locals.rows = result.rows;
          state.metrics.rows.inc(result.rows);
        }
        if (result.status >= 400) res.locals.errorCode = JSON.parse(result.body).error_code;
        if (result.internal) res.locals.internal = result.internal;
        if (res.headersSent) return;
        send(res, result);
        if (result.status === 200 && state.capture && pool.info) {
          const captured = state.capture.offer({
            endpoint: pool.info.name,
            modelVersion: pool.info.version,
            eventId: res.locals.requestId as string,
            inputContentType: contentType ?? '',
            input: body,
            outputContentType: result.headers['content-type'] ?? 'application/json',
            output: result.body,
          });
          if (captured) state.metrics.captured.inc();
        }
      } catch (err) {
        res.locals.errorCode = toMillwrightError(err).code;
        sendError(res, err);
      } finally {
        state.metrics.inFlight.dec();
      }
    },
  );

  // Admin and reports: off (404) without a token; bearer token required with one.
  const requireAdmin = (req: Request, res: Response, next: NextFunction) => {
    if (!state.adminToken) return sendError(res, new MillwrightError('NOT_FOUND', `no route ${req.method} ${req.originalUrl}`));
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header);
    if (!m || !safeEqual(m[1]!.trim(), state.adminToken)) {
      res.setHeader('www-authenticate', 'Bearer realm="millwright"');
      return sendError(res, new MillwrightError('UNAUTHORIZED', 'admin routes need "Authorization: Bearer <token>" with the token from MILLWRIGHT_ADMIN_TOKEN'));
    }
    next();
  };
  app.use('/admin', requireAdmin);
  app.get('/admin/model', (_req, res) => {
    res.json({ model: state.pool()?.info ?? null });
  });
  app.post('/admin/reload', express.json({ limit: '64kb', type: () => true }), async (req, res) => {
    const body = (req.body ?? {}) as { model?: unknown };
    if (body.model !== undefined && typeof body.model !== 'string') {
      return sendError(res, new MillwrightError('BAD_INPUT', '"model" must be a model directory path (string)'));
    }
    try {
      const out = await state.reload(body.model);
      res.json({ status: 'swapped', previous: out.previous ?? null, current: out.current });
    } catch (err) {
      sendError(res, err);
    }
  });

  app.post('/admin/reports/regenerate', async (_req, res) => {
    if (!state.regenerateReports) {
      return sendError(res, new MillwrightError('NOT_FOUND', 'report regeneration needs both --capture and --reports'));
    }
    try {
      res.json({ status: 'regenerated', ...(await state.regenerateReports()) });
    } catch (err) {
      sendError(res, err);
    }
  });

  if (state.reportsDir) {
    const gate = (req: Request, res: Response, next: NextFunction) => (state.adminToken ? requireAdmin(req, res, next) : next());
    app.use('/reports', gate, reportsRouter(state.reportsDir));
  }

  app.use((req, res) => sendError(res, new MillwrightError('NOT_FOUND', `no route ${req.method} ${req.path}`)));
  // Body-parser and any other thrown errors end here, mapped in one place.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = toMillwrightError(err);
    res.locals.errorCode = e.code;
    if (e.code === 'INTERNAL') res.locals.internal = err instanceof Error ? err.message : String(err);
    if (e.code === 'PAYLOAD_TOO_LARGE') res.setHeader('connection', 'close');
    sendError(res, e);
  });
  return app;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const ROUTES = new Set(['/ping', '/invocations', '/metrics', '/execution-parameters', '/health/live', '/health/ready', '/admin/reload', '/admin/model', '/admin/reports/regenerate']);
function routeOf(path: string): string {
  if (ROUTES.has(path)) return path;
  if (path.startsWith('/reports')) return '/reports';
  return 'other';
}
