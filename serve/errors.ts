import { MillwrightError, httpStatusFor, isKnownErrorCode } from '../lib/errors/index.ts';

/** Content type of every error body. */
export const ERROR_CONTENT_TYPE = 'application/json';

/** Seconds a client should wait before retrying after a 503. */
export const RETRY_AFTER_SECONDS = 1;

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
    // A MillwrightError thrown uncaught in a worker arrives as a clone that lost its class but
    // kept its code (and a toJSON() form, when posted, has the same shape).
    if (anyErr.type === undefined && typeof anyErr.code === 'string' && typeof anyErr.message === 'string' && isKnownErrorCode(anyErr.code)) {
      return MillwrightError.fromJSON({ name: 'MillwrightError', code: anyErr.code, message: anyErr.message });
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

