import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { MillwrightError } from '../lib/errors/index.ts';
import { inferenceIdOf, INFERENCE_ID_HEADER } from '../lib/capture/index.ts';
import type { CaptureWriter } from './capture-writer.ts';
import { errorResponse, toMillwrightError, type HttpResult } from './errors.ts';
import { countRequest, type ServeMetrics } from './metrics.ts';
import type { ModelInfo, ModelPool } from './pool.ts';
import type { InvocationResult } from './invocations.ts';
import { reportsRouter } from './reports-route.ts';
import { eventsRouter } from './events-route.ts';
import { groundTruthRouter } from './ground-truth-route.ts';
import type { ReportRun } from './report-schedule.ts';
import { DeadlineQueue, type DeadlineEntry } from './deadline-queue.ts';
import { AnswerBatch, type HeldAnswer } from './answer-batch.ts';

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
  /** Store root that `POST /events` (maintenance records, admin token) writes into; the route is off without it. */
  eventsStore?: string;
  /** Label store that `POST /ground-truth` (admin token) appends to; the route is off without it. */
  groundTruthStore?: string;
  capture?: CaptureWriter;
  metrics: ServeMetrics;
  log(fields: Record<string, unknown>): void;
  /** Regenerates the reports from captured traffic now (when capture and reports are configured). */
  regenerateReports?: () => Promise<ReportRun>;
  /** Loads `dir` (or the registry's latest approved version) beside the current model and swaps. */
  reload(dir?: string): Promise<{ previous?: ModelInfo; current: ModelInfo }>;
  /** The Open Inference Protocol routes (`/v2/...`, serve/v2/http.ts); 404 when absent. */
  v2?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Readiness for /ping when there is no default model (a model repository only). */
  ready?: () => boolean;
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
    const start = performance.now();
    const requestId = requestIdOf(req);
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    if (state.shuttingDown()) res.setHeader('connection', 'close');
    res.on('finish', () => logRequest(state, req, res, req.path, start, res.locals as RequestNotes));
    next();
  });

  app.get('/ping', (_req, res) => {
    res.status((state.ready ? state.ready() : state.pool()?.healthy) && !state.shuttingDown() ? 200 : 503).end();
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
  // gets 503 + Retry-After at the deadline, never later. (Plain POST /invocations normally takes
  // the fast path in `createHandler`; this route serves the rest, e.g. compressed bodies.)
  app.post('/invocations', (req, res, next) => {
    if (explainRequested(req.originalUrl)) (res.locals as RequestNotes).explain = true;
    if (!takeInferenceId(req, res, res.locals as RequestNotes)) return void req.resume();
    armDeadline(state, res, res.locals as RequestNotes);
    next();
  });
  app.post(
    '/invocations',
    express.raw({ type: () => true, limit: state.maxBodyBytes }),
    (req: Request, res: Response) => {
      const body: Buffer = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      answerInvocation(state, res, body, req.headers['content-type'], req.headers.accept, res.locals as RequestNotes);
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

  if (state.eventsStore) app.use('/events', requireAdmin, eventsRouter(state.eventsStore));
  if (state.groundTruthStore) app.use('/ground-truth', requireAdmin, groundTruthRouter(state.groundTruthStore, { onStored: (n) => state.metrics.labels.inc({ source: 'http' }, n) }));

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

/** What a request's log line carries beyond method/path/status (res.locals on Express routes). */
interface RequestNotes extends DeadlineEntry {
  requestId: string;
  deadlineAt?: number;
  rows?: number;
  modelVersion?: string;
  errorCode?: string;
  internal?: string;
  /** `?explain=true`: answer attributions with each prediction. */
  explain?: boolean;
  /** The inference id (client's X-Amzn-SageMaker-Inference-Id, else generated), echoed and captured. */
  inferenceId?: string;
  /** Bytes of the response body, once sent (the fast path's headers are not kept on the response). */
  bytesOut?: number;
  /**
   * Set on the node:http fast path: its response headers (request and inference id,
   * `connection: close`) are written once with the answer, not set one by one as they are known.
   */
  fast?: FastRequest;
}

/** The node:http fast path's own per-request state (on its notes; no closures per request). */
interface FastRequest {
  state: AppState;
  req: IncomingMessage;
  res: ServerResponse;
  /** performance.now() at the start. */
  start: number;
  /** Answer with `connection: close` (shutting down, body too large, deadline). */
  close: boolean;
  /** Body collection. */
  chunks: Buffer[] | undefined;
  size: number;
  declared: number | undefined;
  reading: boolean;
  /** Where the answer waits for the rest of this event-loop turn's answers (serve/answer-batch.ts). */
  batch: AnswerBatch;
  /** The answer is in `batch`: it counts as sent (a deadline or a second answer must not write another). */
  held: boolean;
}

/**
 * Reads and echoes the request's inference id; false (after answering 400) when the client's
 * header breaks the rule.
 */
function takeInferenceId(req: IncomingMessage, res: ServerResponse, notes: RequestNotes): boolean {
  try {
    notes.inferenceId = inferenceIdOf(req.headers[INFERENCE_ID_HEADER]);
  } catch (err) {
    sendPlainError(res, err, notes);
    return false;
  }
  // the fast path writes it with the answer (sendPlain)
  if (!notes.fast) res.setHeader(INFERENCE_ID_HEADER, notes.inferenceId);
  return true;
}

/** True for `/invocations?explain=true` (also `=1`). */
function explainRequested(url: string): boolean {
  const q = url.indexOf('?');
  if (q < 0) return false;
  const v = new URLSearchParams(url.slice(q + 1)).get('explain');
  return v === 'true' || v === '1';
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

function requestIdOf(req: IncomingMessage): string {
  // A caller's id is kept for tracing only if it is a plain token (it is echoed in a header and the capture).
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

function logRequest(state: AppState, req: IncomingMessage, res: ServerResponse, path: string, start: number, notes: RequestNotes): void {
  const elapsedMs = performance.now() - start;
  const route = routeOf(path);
  countRequest(state.metrics, route, req.method ?? '', res.statusCode, elapsedMs / 1000);
  const line: Record<string, unknown> = {
    level: res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
    msg: 'request',
    requestId: notes.requestId,
    method: req.method,
    path,
    status: res.statusCode,
    ms: Math.round(elapsedMs * 1000) / 1000,
    bytesIn: Number(req.headers['content-length'] ?? 0),
    bytesOut: notes.bytesOut ?? Number(res.getHeader('content-length') ?? 0),
  };
  if (notes.rows !== undefined) line.rows = notes.rows;
  if (notes.modelVersion !== undefined) line.modelVersion = notes.modelVersion;
  if (notes.errorCode !== undefined) line.errorCode = notes.errorCode;
  if (notes.internal !== undefined) line.internal = notes.internal;
  if (notes.inferenceId !== undefined) line.inferenceId = notes.inferenceId;
  state.log(line);
}

/** Content-Type values with the explicit utf-8 charset sendPlain adds, by value (few distinct ones). */
const withCharset = new Map<string, string>();

function withUtf8(v: string): string {
  let c = withCharset.get(v);
  if (c === undefined) {
    c = /;\s*charset=/i.test(v) ? v : `${v}; charset=utf-8`;
    if (withCharset.size < 64) withCharset.set(v, c);
  }
  return c;
}

/**
 * Writes a result on a plain (or Express) response; strings get an explicit utf-8 charset like
 * Express's res.send. The body is ended as a string: node:http then sends header and body in one
 * write (a Buffer body would go out as a two-buffer writev). On the fast path (`notes.fast`) every
 * header is written at once by `writeHead` (no per-header `setHeader` map); the headers and
 * their order are the same as the Express path's.
 */
function sendPlain(res: ServerResponse, r: HttpResult, notes?: RequestNotes): void {
  // a held answer counts as sent, as a written one: a second answer (an error after it) is dropped
  if (res.headersSent || notes?.fast?.held) return;
  const body = r.body;
  const length = Buffer.byteLength(body);
  if (notes) notes.bytesOut = length;
  const fast = notes?.fast;
  if (fast) {
    const headers: (string | number)[] = ['x-request-id', notes.requestId];
    if (notes.inferenceId !== undefined) headers.push(INFERENCE_ID_HEADER, notes.inferenceId);
    if (fast.close || fast.state.shuttingDown()) headers.push('connection', 'close');
    for (const k in r.headers) headers.push(k, k === 'content-type' ? withUtf8(r.headers[k]!) : r.headers[k]!);
    headers.push('content-length', length);
    fast.held = true;
    fast.batch.hold({ res, status: r.status, headers, body });
    return;
  }
  res.statusCode = r.status;
  for (const k in r.headers) res.setHeader(k, k === 'content-type' ? withUtf8(r.headers[k]!) : r.headers[k]!);
  res.setHeader('content-length', length);
  res.end(body);
}

function sendPlainError(res: ServerResponse, err: unknown, notes: RequestNotes): void {
  const e = toMillwrightError(err);
  notes.errorCode = e.code;
  if (e.code === 'INTERNAL') notes.internal = err instanceof Error ? err.message : String(err);
  sendPlain(res, errorResponse(e), notes);
}

function deadlineError(timeoutMs: number): MillwrightError {
  return new MillwrightError('DEADLINE_EXCEEDED', `request was not answered within the ${timeoutMs} ms deadline; retry later`);
}

/** Starts the per-request deadline: 503 + Retry-After at `timeoutMs`, even while the body is still arriving. */
function armDeadline(state: AppState, res: ServerResponse, notes: RequestNotes): void {
  notes.deadlineAt = Date.now() + state.timeoutMs;
  const timer = setTimeout(() => {
    if (res.headersSent) return;
    notes.errorCode = 'DEADLINE_EXCEEDED';
    // The body may still be arriving: close the connection rather than wait for it.
    res.setHeader('connection', 'close');
    sendPlain(res, errorResponse(deadlineError(state.timeoutMs)), notes);
  }, state.timeoutMs + 5);
  res.on('close', () => clearTimeout(timer));
}

/** The fast path's deadline: the same 503 + Retry-After as `armDeadline`, from one shared timer (serve/deadline-queue.ts). */
function expireFast(notes: RequestNotes): void {
  const fast = notes.fast!;
  const res = fast.res;
  if (res.headersSent || res.destroyed || fast.held) return;
  notes.errorCode = 'DEADLINE_EXCEEDED';
  // The body may still be arriving: close the connection rather than wait for it.
  fast.close = true;
  sendPlain(res, errorResponse(deadlineError(fast.state.timeoutMs)), notes);
}

/**
 * Predicts `body` on the serving pool and answers; capture and metrics included. Never throws.
 * Synchronous when the pool answers synchronously (a small body on its inline copy of the model:
 * `ModelPool.invokeNow`), so a single-row request costs no promise; otherwise after the pool's promise.
 */
function answerInvocation(state: AppState, res: ServerResponse, body: Buffer, contentType: string | undefined, accept: string | undefined, notes: RequestNotes): void {
  const pool = state.pool();
  if (!pool || !pool.healthy) {
    notes.errorCode = 'UNAVAILABLE';
    return sendPlain(res, errorResponse(new MillwrightError('UNAVAILABLE', 'no model is loaded and healthy; retry later')), notes);
  }
  if (res.headersSent) return;
  notes.modelVersion = pool.info?.version;
  let answer: InvocationResult | Promise<InvocationResult>;
  try {
    answer = pool.invokeNow(notes.explain === true ? { body, contentType, accept, explain: true } : { body, contentType, accept }, notes.deadlineAt ?? Date.now() + state.timeoutMs);
  } catch (err) {
    return sendPlainError(res, err, notes);
  }
  // The gauge counts only answers that wait: one answered synchronously (the inline path) is in
  // flight for no turn of the event loop, so no /metrics scrape (same thread) could ever see it,
  // and the gauge's inc + dec were two label hashes per single-row request for nothing.
  if (answer instanceof Promise) {
    state.metrics.inFlight.inc();
    answer.then(
      (result) => {
        state.metrics.inFlight.dec();
        answered(state, pool, res, body, contentType, notes, result);
      },
      (err: unknown) => {
        state.metrics.inFlight.dec();
        sendPlainError(res, err, notes);
      },
    );
    return;
  }
  answered(state, pool, res, body, contentType, notes, answer);
}

/** Sends the pool's answer, with its metrics, log notes and data capture. */
function answered(state: AppState, pool: ModelPool, res: ServerResponse, body: Buffer, contentType: string | undefined, notes: RequestNotes, result: InvocationResult): void {
  try {
    if (result.rows !== undefined) {
      notes.rows = result.rows;
      state.metrics.rows.inc(result.rows);
    }
    if (result.inline === true) state.metrics.inline.inc();
    if (result.status >= 400) notes.errorCode = (JSON.parse(result.body) as { error_code?: string }).error_code;
    if (result.internal) notes.internal = result.internal;
    if (res.headersSent) return;
    sendPlain(res, result, notes);
    if (result.status === 200 && state.capture && pool.info) {
      const captured = state.capture.offer({
        endpoint: pool.info.name,
        modelVersion: pool.info.version,
        eventId: notes.requestId,
        inferenceId: notes.inferenceId,
        inputContentType: contentType ?? '',
        input: body,
        outputContentType: result.headers['content-type'] ?? 'application/json',
        output: result.body,
      });
      if (captured) state.metrics.captured.inc();
    }
  } catch (err) {
    sendPlainError(res, err, notes);
  }
}

/**
 * The server's request handler: plain `POST /invocations` (no Content-Encoding) is answered
 * directly on node:http, everything else goes to the Express app. The fast path exists for tail
 * latency and CPU per request: Express's per-request router/response objects cost CPU and, at
 * 1,000 req/s, were being promoted to the old generation (measured: ~14 MB/s), making scavenges
 * and mark-compacts long enough to show as 20-100 ms stalls at p99. It allocates no closures per
 * request (its listeners are shared functions that find the request's notes on it), keeps its
 * deadline in one shared queue instead of a timer per request, and writes its headers once.
 * Behaviour (deadline, limits, errors, logs, metrics, capture) is the same on both paths.
 */
export function createHandler(state: AppState, app: Express = createApp(state)): (req: IncomingMessage, res: ServerResponse) => void {
  const deadlines = new DeadlineQueue<RequestNotes>(expireFast);
  const batch = new AnswerBatch(ANSWER_HOLD_MS, failHeldAnswer);
  return (req, res) => {
    const url = req.url ?? '';
    if (state.v2 && (url === '/v2' || url.startsWith('/v2/') || url.startsWith('/v2?'))) return state.v2(req, res);
    const encoding = req.headers['content-encoding'];
    if (req.method !== 'POST' || !(url === '/invocations' || url.startsWith('/invocations?')) || (encoding !== undefined && encoding.toLowerCase() !== 'identity')) {
      app(req, res);
      return;
    }
    const fast: FastRequest = { state, req, res, start: performance.now(), close: false, chunks: undefined, size: 0, declared: undefined, reading: false, batch, held: false };
    const notes: RequestNotes = { requestId: requestIdOf(req), fast };
    if (url.length > 12 && explainRequested(url)) notes.explain = true;
    (res as FastResponse)[FAST_NOTES] = notes;
    (req as FastIncoming)[FAST_NOTES] = notes;
    res.on('finish', onFastFinish);
    if (!takeInferenceId(req, res, notes)) {
      req.resume(); // the body is not read: let it drain so the connection stays usable
      return;
    }
    notes.deadlineAt = Date.now() + state.timeoutMs;
    deadlines.add(notes);
    res.on('close', onFastClose);
    fastReadBody(req, notes);
  };

  function onFastFinish(this: ServerResponse): void {
    const notes = (this as FastResponse)[FAST_NOTES]!;
    deadlines.remove(notes);
    const fast = notes.fast!;
    logRequest(fast.state, fast.req, this, '/invocations', fast.start, notes);
  }

  function onFastClose(this: ServerResponse): void {
    deadlines.remove((this as FastResponse)[FAST_NOTES]!);
  }
}

/**
 * Longest a finished fast-path answer waits for the others of its event-loop turn (serve/answer-batch.ts):
 * 32 single-row answers at ~50 µs each fit, so a burst from 32 connections goes out as one batch.
 * Measured under wrk (32 connections): 1, 2 and 10 ms gave the same throughput within the run-to-run
 * spread, so the smallest that holds such a burst. Only a saturated server holds anything that long.
 */
const ANSWER_HOLD_MS = 2;

/**
 * A held answer whose `writeHead`/`end` threw (a header value node:http refuses): answered with
 * a plain 500 instead, logged with the cause; a response already half written is closed.
 */
function failHeldAnswer(answer: HeldAnswer, err: unknown): void {
  const res = answer.res;
  const notes = (res as FastResponse)[FAST_NOTES];
  if (notes) {
    notes.errorCode = 'INTERNAL';
    notes.internal = `the answer could not be written: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  try {
    sendPlain(res, errorResponse(new MillwrightError('INTERNAL', 'the answer could not be written')));
  } catch {
    res.destroy();
  }
}

const FAST_NOTES = Symbol('millwright.fastNotes');
type FastResponse = ServerResponse & { [FAST_NOTES]?: RequestNotes };
type FastIncoming = IncomingMessage & { [FAST_NOTES]?: RequestNotes };

/**
 * The fast path's body reader: `readBody`'s rules (declared length first, the limit while
 * reading, a length mismatch, an aborted or failed upload), with shared listeners that keep their
 * state on the request's notes instead of four closures and a promise per request.
 */
function fastReadBody(req: IncomingMessage, notes: RequestNotes): void {
  const fast = notes.fast!;
  const limit = fast.state.maxBodyBytes;
  const cl = req.headers['content-length'];
  const declared = cl !== undefined ? Number(cl) : undefined;
  if (declared !== undefined && declared > limit) {
    req.pause();
    return fastBodyFailed(notes, new MillwrightError('PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${limit} bytes`));
  }
  fast.declared = declared;
  fast.reading = true;
  req.on('data', onFastData);
  req.on('end', onFastEnd);
  req.on('aborted', onFastAborted);
  req.on('error', onFastError);
}

function fastBodyDone(req: IncomingMessage, notes: RequestNotes, err?: MillwrightError): void {
  const fast = notes.fast!;
  if (!fast.reading) return;
  fast.reading = false;
  req.off('data', onFastData);
  req.off('end', onFastEnd);
  req.off('aborted', onFastAborted);
  req.off('error', onFastError);
  if (err) {
    req.pause();
    return fastBodyFailed(notes, err);
  }
  const chunks = fast.chunks;
  fast.chunks = undefined;
  const body = chunks === undefined ? Buffer.alloc(0) : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, fast.size);
  answerInvocation(fast.state, fast.res, body, req.headers['content-type'], req.headers.accept, notes);
}

function fastBodyFailed(notes: RequestNotes, err: MillwrightError): void {
  if (err.code === 'PAYLOAD_TOO_LARGE') notes.fast!.close = true;
  sendPlainError(notes.fast!.res, err, notes);
}

function onFastData(this: IncomingMessage, chunk: Buffer): void {
  const notes = (this as FastIncoming)[FAST_NOTES]!;
  const fast = notes.fast!;
  fast.size += chunk.length;
  if (fast.size > fast.state.maxBodyBytes) return fastBodyDone(this, notes, new MillwrightError('PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${fast.state.maxBodyBytes} bytes`));
  (fast.chunks ??= []).push(chunk);
}

function onFastEnd(this: IncomingMessage): void {
  const notes = (this as FastIncoming)[FAST_NOTES]!;
  const fast = notes.fast!;
  if (fast.declared !== undefined && fast.size !== fast.declared) return fastBodyDone(this, notes, new MillwrightError('BAD_INPUT', 'request body length does not match its Content-Length header'));
  fastBodyDone(this, notes);
}

function onFastAborted(this: IncomingMessage): void {
  fastBodyDone(this, (this as FastIncoming)[FAST_NOTES]!, new MillwrightError('BAD_INPUT', 'request body was aborted by the client before it was complete'));
}

function onFastError(this: IncomingMessage, err: Error): void {
  fastBodyDone(this, (this as FastIncoming)[FAST_NOTES]!, new MillwrightError('BAD_INPUT', `request body could not be read: ${err.message}`));
}

/** Reads a request body up to `limit` bytes, checking the declared length first (body-parser's rules). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : undefined;
    if (declared !== undefined && declared > limit) {
      req.pause();
      return reject(new MillwrightError('PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${limit} bytes`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onError);
      if (err) {
        req.pause();
        return reject(err);
      }
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return finish(new MillwrightError('PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${limit} bytes`));
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (declared !== undefined && size !== declared) return finish(new MillwrightError('BAD_INPUT', 'request body length does not match its Content-Length header'));
      finish();
    };
    const onAborted = () => finish(new MillwrightError('BAD_INPUT', 'request body was aborted by the client before it was complete'));
    const onError = (err: Error) => finish(new MillwrightError('BAD_INPUT', `request body could not be read: ${err.message}`));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onError);
  });
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const ROUTES = new Set(['/ping', '/invocations', '/metrics', '/execution-parameters', '/health/live', '/health/ready', '/admin/reload', '/admin/model', '/admin/reports/regenerate', '/events', '/ground-truth']);
function routeOf(path: string): string {
  if (ROUTES.has(path)) return path;
  if (path.startsWith('/reports')) return '/reports';
  return 'other';
}
