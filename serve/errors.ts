import { MillwrightError, type ErrorCode } from '../lib/errors/index.ts';

/** Content type of every error body. */
export const ERROR_CONTENT_TYPE = 'application/json';

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * The one place where error codes become HTTP statuses (mlflow scoring-server style).
 * Anything not listed is a 500: the caller did nothing wrong that we can name.
 */
const STATUS: Partial<Record<ErrorCode, number>> = {
  BAD_INPUT: 400,
  USAGE: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  DEADLINE_EXCEEDED: 503,
  UNAVAILABLE: 503,
};

/** HTTP status for an error code (500 for anything unmapped). */
export function httpStatusFor(code: ErrorCode): number {
  return STATUS[code] ?? 500;
}

/** A response the HTTP layer writes as-is. Body is a string or bytes. */
export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Turns any thrown value into the JSON error response `{error_code, message}`.
 * Non-Millwright errors become INTERNAL with a generic message, so stack details of a
 * model's bug never leak to a control system (they go to the log instead).
 *
 * @example
 * errorResponse(new MillwrightError('BAD_INPUT', 'row 2: expected 4 values, got 3'))
 * // => { status: 400, headers: {'content-type': 'application/json'}, body: '{"error_code":"BAD_INPUT",...}' }
 */
export function errorResponse(err: unknown): HttpResult {
  const e = toMillwrightError(err);
  const status = httpStatusFor(e.code);
  const headers: Record<string, string> = { 'content-type': ERROR_CONTENT_TYPE };
  if (status === 503) headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  return { status, headers, body: JSON.stringify({ error_code: e.code, message: e.message }) };
}

/** Normalises anything thrown (including body-parser's http errors) to a MillwrightError. */
export function toMillwrightError(err: unknown): MillwrightError {
  if (err instanceof MillwrightError) return err;
  const anyErr = err as { type?: string; status?: number; message?: string; code?: unknown } | undefined;
  if (anyErr && typeof anyErr === 'object') {
    // Errors that crossed a worker boundary arrive as plain objects carrying the code.
    if (anyErr.type === undefined && typeof anyErr.code === 'string' && typeof anyErr.message === 'string' && isErrorCode(anyErr.code)) {
      return new MillwrightError(anyErr.code, anyErr.message);
    }
    switch (anyErr.type) {
      case 'entity.too.large':
        return new MillwrightError('PAYLOAD_TOO_LARGE', `request body is larger than the limit of ${String((anyErr as { limit?: number }).limit ?? '?')} bytes`);
      case 'request.aborted':
        return new MillwrightError('BAD_INPUT', 'request body was aborted by the client before it was complete');
      case 'request.size.invalid':
        return new MillwrightError('BAD_INPUT', 'request body length does not match its Content-Length header');
      case 'encoding.unsupported':
        return new MillwrightError('UNSUPPORTED_MEDIA_TYPE', anyErr.message ?? 'unsupported content encoding');
      default:
        break;
    }
    if (anyErr.status === 413) return new MillwrightError('PAYLOAD_TOO_LARGE', anyErr.message ?? 'request body too large');
    if (typeof anyErr.status === 'number' && anyErr.status >= 400 && anyErr.status < 500) {
      return new MillwrightError('BAD_INPUT', anyErr.message ?? 'bad request');
    }
  }
  return new MillwrightError('INTERNAL', 'internal error while handling the request (see the server log)', { cause: err });
}

const CODES = new Set<string>([
  'USAGE', 'BAD_INPUT', 'UNSUPPORTED_MEDIA_TYPE', 'PAYLOAD_TOO_LARGE', 'NOT_FOUND', 'CONFLICT',
  'INTEGRITY', 'DEADLINE_EXCEEDED', 'UNAVAILABLE', 'UNAUTHORIZED', 'INTERNAL',
]);

function isErrorCode(code: string): code is ErrorCode {
  return CODES.has(code);
}
