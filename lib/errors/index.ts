import { isKnownErrorCode, type ErrorCode } from './codes.ts';

export { ERROR_CODES, EXIT_OK, errorCodesMarkdown, exitCodeFor, exitCodesSummary, httpStatusFor, isKnownErrorCode, type ErrorCode } from './codes.ts';

/**
 * The form in which a {@link MillwrightError} crosses a worker-thread boundary (structured clone
 * drops the class and its own fields' meaning, so errors travel as this plain object).
 */
export interface MillwrightErrorJSON {
  name: 'MillwrightError';
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  /** The cause's message (the cause itself may not be cloneable). */
  cause?: string;
}

/**
 * One error type for the whole toolkit. `code` is stable and machine-readable; its HTTP status and
 * CLI exit code come from one table, `ERROR_CODES` (lib/errors/codes.ts, docs/errors.md).
 *
 * @example
 * import { MillwrightError } from 'millwright';
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

  /**
   * The plain object a worker posts instead of the error itself; {@link MillwrightError.fromJSON}
   * turns it back into an error on the other side.
   *
   * @example
   * import { MillwrightError } from 'millwright';
   * parentPort.postMessage({ error: MillwrightError.from(err).toJSON() });
   */
  toJSON(): MillwrightErrorJSON {
    const json: MillwrightErrorJSON = { name: 'MillwrightError', code: this.code, message: this.message };
    if (this.details !== undefined) json.details = this.details;
    if (this.cause !== undefined) json.cause = this.cause instanceof Error ? this.cause.message : String(this.cause);
    return json;
  }

  /**
   * The error a worker posted with {@link MillwrightError.toJSON}. A code this build does not know
   * (a message from another version) becomes INTERNAL rather than an unmapped code.
   *
   * @example
   * import { MillwrightError } from 'millwright';
   * worker.on('message', (m) => { if (m.error) reject(MillwrightError.fromJSON(m.error)); });
   */
  static fromJSON(json: MillwrightErrorJSON): MillwrightError {
    const code = isKnownErrorCode(json.code) ? json.code : 'INTERNAL';
    return new MillwrightError(code, json.message, {
      details: json.details,
      cause: json.cause === undefined ? undefined : new Error(json.cause),
    });
  }

  /**
   * Any thrown value as a MillwrightError: itself when it already is one, else `fallback` (INTERNAL
   * by default) with the value's message, the value kept as the cause.
   *
   * @example
   * import { MillwrightError } from 'millwright';
   * MillwrightError.from(new Error('boom')).code; // 'INTERNAL'
   */
  static from(err: unknown, fallback: ErrorCode = 'INTERNAL'): MillwrightError {
    if (err instanceof MillwrightError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new MillwrightError(fallback, message, { cause: err });
  }
}

/** True when `err` is a MillwrightError with the given code. */
export function isErrorCode(err: unknown, code: ErrorCode): err is MillwrightError {
  return err instanceof MillwrightError && err.code === code;
}
