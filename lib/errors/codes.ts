/**
 * Every error code the toolkit raises, defined once (in the manner of Fastify's lib/errors.js):
 * the HTTP status the serving container answers with, the exit code the CLI ends with, and when
 * the code is raised. `ErrorCode`, `httpStatusFor`, `exitCodeFor` and docs/errors.md are all
 * derived from this table, so adding a code here is the whole job.
 *
 * @example
 * import { ERROR_CODES } from 'millwright';
 * ERROR_CODES.NOT_FOUND.status; // 404
 */
export const ERROR_CODES = {
  USAGE: { status: 400, exit: 2, summary: 'Wrong command-line usage or request parameters: an unknown flag, a missing argument, a malformed option value.' },
  BAD_INPUT: { status: 400, exit: 1, summary: 'Malformed or invalid data supplied by the caller: an unparsable row, a value of the wrong type, an invalid hyperparameter.' },
  UNAUTHORIZED: { status: 401, exit: 1, summary: 'The request lacks the admin token (or carries a wrong one) for an endpoint that requires it.' },
  NOT_FOUND: { status: 404, exit: 1, summary: 'The named thing does not exist: a file, a model group or version, a dataset, a route.' },
  CONFLICT: { status: 409, exit: 1, summary: 'The current state does not allow the operation, e.g. deploying a registry version that is not Approved.' },
  PAYLOAD_TOO_LARGE: { status: 413, exit: 1, summary: 'A request body is larger than the configured limit.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, exit: 1, summary: 'A request body or file has a content type or encoding the toolkit cannot read.' },
  // 500, not 4xx or 503: the client did nothing wrong, and retrying cannot help. A failed
  // verification (checksum mismatch, tampered or incomplete artifact, e.g. on /admin/reload)
  // means the operator's deployed model is broken and needs a person, while the server keeps
  // serving the model it already had.
  INTEGRITY: { status: 500, exit: 1, summary: 'A model artifact, registry record or manifest failed verification, or a store file does not decode: checksum mismatch, tampered, corrupt or incomplete files.' },
  DEADLINE_EXCEEDED: { status: 503, exit: 1, summary: 'An operation (e.g. a prediction) did not finish within its deadline; retry later.' },
  UNAVAILABLE: { status: 503, exit: 1, summary: 'A needed resource is not ready or not reachable: no model loaded, workers busy or restarting, a destination down.' },
  // 507 (Insufficient Storage): the gateway's spool or disk is full; what was acknowledged is kept,
  // new data is refused until the flush frees space, so a sender should retry later.
  RESOURCE_EXHAUSTED: { status: 507, exit: 1, summary: 'A bounded resource is full: the spool reached its maxBytes or the disk is full (ENOSPC). Acknowledged data is kept; new data is refused until space frees up.' },
  CHECK_FAILED: { status: 422, exit: 3, summary: 'A deliberate check failed, e.g. `millwright report --fail-on warn` found a report at or above that status. The command itself worked.' },
  INTERNAL: { status: 500, exit: 1, summary: 'An unexpected failure, a bug in the toolkit or a model; details go to the log, never to the client.' },
} as const satisfies Record<string, { status: number; exit: number; summary: string }>;

/** A stable, machine-readable error code: one key of {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Exit code of a CLI run that ended normally. */
export const EXIT_OK = 0;

/**
 * True when `code` is one of the {@link ERROR_CODES} (e.g. for a code read from a worker message).
 *
 * @example
 * import { isKnownErrorCode } from 'millwright';
 * isKnownErrorCode('ENOENT'); // false
 */
export function isKnownErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/**
 * HTTP status for an error code, from {@link ERROR_CODES}.
 *
 * @example
 * import { httpStatusFor } from 'millwright';
 * httpStatusFor('PAYLOAD_TOO_LARGE'); // 413
 */
export function httpStatusFor(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/**
 * CLI exit code for an error code, from {@link ERROR_CODES}.
 *
 * @example
 * import { exitCodeFor } from 'millwright';
 * exitCodeFor('USAGE'); // 2
 */
export function exitCodeFor(code: ErrorCode): number {
  return ERROR_CODES[code].exit;
}

/**
 * The "Exit codes: ..." line of the CLI overview, generated from {@link ERROR_CODES} so it can
 * never disagree with what the CLI returns.
 */
export function exitCodesSummary(): string {
  const byExit = new Map<number, ErrorCode[]>();
  for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
    const exit = exitCodeFor(code);
    byExit.set(exit, [...(byExit.get(exit) ?? []), code]);
  }
  const label = (codes: ErrorCode[]): string => {
    if (codes.length > 2) return 'failure';
    if (codes.includes('USAGE')) return 'usage error';
    if (codes.includes('CHECK_FAILED')) return 'check failed (e.g. report --fail-on)';
    return codes.join('/');
  };
  const parts = [`${EXIT_OK} ok`, ...[...byExit].sort(([a], [b]) => a - b).map(([exit, codes]) => `${exit} ${label(codes)}`)];
  return `Exit codes: ${parts.join(', ')}.`;
}

/** The text of docs/errors.md, generated from {@link ERROR_CODES} (`npm run docs:tables` writes it). */
export function errorCodesMarkdown(): string {
  const rows = (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => {
    const e = ERROR_CODES[code];
    return `| \`${code}\` | ${e.status} | ${e.exit} | ${e.summary.replaceAll('|', '\\|')} |`;
  });
  return `<!-- Generated from lib/errors/codes.ts by \`npm run docs:tables\`; do not edit by hand. -->
# Error codes

Every error the toolkit raises is a \`MillwrightError\` with one of these codes. The serving
container answers with the HTTP status and a JSON body \`{"error_code": ..., "message": ...}\`;
the CLI prints the message and ends with the exit code (${EXIT_OK} means success).

| Code | HTTP status | Exit code | Raised when |
| --- | --- | --- | --- |
${rows.join('\n')}

${exitCodesSummary()}
`;
}
