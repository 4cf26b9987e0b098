/**
 * One error type for the whole toolkit. `code` is stable and machine-readable; the serving
 * container maps codes to HTTP status in one place (serve/), the CLI maps them to exit codes.
 *
 * @example
 * throw new MillwrightError('BAD_INPUT', 'row 3: value "abc" is not a number (expected a float)');
 */
export class MillwrightError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MillwrightError';
    this.code = code;
    this.details = options?.details;
    // Node prints an error by its stack (console.error, tslab's failing cells, uncaught
    // exceptions), whose first line is only `name: message`: put the code in it, as Node's own
    // errors read: `MillwrightError [BAD_INPUT]: row 3: ...`.
    const head = message === '' ? this.name : `${this.name}: ${message}`;
    if (this.stack?.startsWith(head)) this.stack = `${this.name} [${code}]${message === "" ? "" : `: ${message}`}${this.stack.slice(head.length)}`;
  }
}

/**
 * Stable error codes. Add new codes here rather than inventing strings at call sites, so
 * that every consumer (CLI exit codes, HTTP status mapping) sees the full list.
 */
export type ErrorCode =
  | 'USAGE' // wrong command-line usage: exit 2
  | 'BAD_INPUT' // malformed or invalid data supplied by the caller
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_FOUND'
  | 'CONFLICT' // e.g. registry state does not allow the transition
  | 'INTEGRITY' // checksum mismatch, tampered or incomplete artifact
  | 'DEADLINE_EXCEEDED'
  | 'UNAVAILABLE' // model not loaded, destination unreachable
  | 'UNAUTHORIZED'
  | 'INTERNAL';

/** True when `err` is a MillwrightError with the given code. */
export function isErrorCode(err: unknown, code: ErrorCode): err is MillwrightError {
  return err instanceof MillwrightError && err.code === code;
}
