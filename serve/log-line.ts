/**
 * The server's JSON log line: `JSON.stringify({ time: <ISO now>, ...fields })`, byte for byte,
 * without building the merged object and with the ISO time formatted once per millisecond. The
 * server writes one such line per request, and at single-row rates the spread copy and
 * `toISOString` were a visible part of a request's cost on the HTTP thread.
 */

let lastMs = Number.NaN;
let lastIso = '';

/** `new Date(ms).toISOString()`, cached for the last millisecond asked. */
function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/**
 * One log line (no trailing newline): the current time first, then `fields` in their order.
 *
 * @example
 * logLine({ level: 'info', msg: 'listening' }); // '{"time":"2026-12-02T10:00:00.000Z","level":"info","msg":"listening"}'
 */
export function logLine(fields: Record<string, unknown>, now = Date.now()): string {
  const time = isoTime(now);
  // a field named time replaces the stamp in place, as the spread does
  if ('time' in fields) return JSON.stringify({ time, ...fields });
  const rest = JSON.stringify(fields);
  return rest.length <= 2 ? `{"time":"${time}"}` : `{"time":"${time}",${rest.slice(1)}`;
}
