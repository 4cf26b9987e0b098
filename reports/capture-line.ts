/**
 * Reading one capture line without `JSON.parse` when it has exactly the layout the capture
 * writer produces (`JSON.stringify(captureRecord(...))`: fixed key order, no whitespace, string
 * values without `\u` escapes). A day of capture is ~1M lines; parsing each into objects was most of the
 * hourly job. Any other line (another writer's key order, escapes, a torn line) returns
 * undefined and is read by `JSON.parse`, so the values are the same either way.
 */

/** The parts of a capture record the reports use. */
export interface CaptureLine {
  captureData: {
    endpointInput: { observedContentType: string; data: string; encoding: string };
    endpointOutput: { observedContentType: string; data: string; encoding: string };
  };
  eventMetadata: { eventId?: string; inferenceId?: string; inferenceTime?: string };
}

const QUOTE = 34;

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };

/**
 * The JSON string starting after an opening quote at `i`: its value, with `out.end` set to the
 * index after its closing quote. Single-character escapes are decoded; a `\u` escape declines
 * the line. Linear in the string's length however many escapes it holds.
 */
function str(line: string, i: number, out: { end: number }): string | undefined {
  let v = '';
  let k = i;
  let q = line.indexOf('"', k);
  for (;;) {
    if (q < 0) return undefined;
    const b = line.indexOf('\\', k);
    if (b < 0 || b > q) {
      v += line.slice(k, q);
      out.end = q + 1;
      return v;
    }
    const e = ESCAPES[line[b + 1]!];
    if (e === undefined) return undefined;
    v += line.slice(k, b) + e;
    k = b + 2;
    if (k > q) q = line.indexOf('"', k); // an escaped quote: the string goes on
  }
}

function lit(line: string, i: number, text: string): number {
  return line.startsWith(text, i) ? i + text.length : -1;
}

/** The string after the literal `text` at `at.end` (moving `at.end` past it), or undefined. */
function field(line: string, at: { end: number }, text: string): string | undefined {
  const i = lit(line, at.end, text);
  if (i < 0) return undefined;
  at.end = i;
  return str(line, i, at);
}

const HEAD = '{"captureData":{"endpointInput":{"observedContentType":"';
const TAIL = '"eventVersion":"0"}';

/**
 * The record of a line in the capture writer's own layout, or undefined (then use JSON.parse).
 *
 * @example
 * quickCaptureLine(JSON.stringify(captureRecord({ endpoint: 'm', inputContentType: 'text/csv', input: '1,2',
 *   outputContentType: 'application/json', output: '{"predictions":[3]}' })))?.captureData.endpointInput.data; // '1,2'
 */
export function quickCaptureLine(line: string): CaptureLine | undefined {
  if (!line.startsWith(HEAD) || !line.endsWith(TAIL) || line.charCodeAt(line.length - TAIL.length - 1) !== 44) return undefined;
  const at = { end: HEAD.length };
  const inCt = str(line, at.end, at);
  if (inCt === undefined) return undefined;
  at.end = lit(line, at.end, ',"mode":"INPUT"');
  if (at.end < 0) return undefined;
  const inData = field(line, at, ',"data":"');
  const inEnc = inData === undefined ? undefined : field(line, at, ',"encoding":"');
  const outCt = inEnc === undefined ? undefined : field(line, at, '},"endpointOutput":{"observedContentType":"');
  if (outCt === undefined) return undefined;
  at.end = lit(line, at.end, ',"mode":"OUTPUT"');
  if (at.end < 0) return undefined;
  const outData = field(line, at, ',"data":"');
  const outEnc = outData === undefined ? undefined : field(line, at, ',"encoding":"');
  const eventId = outEnc === undefined ? undefined : field(line, at, '}},"eventMetadata":{"eventId":"');
  if (eventId === undefined) return undefined;
  let inferenceId: string | undefined;
  if (line.startsWith(',"inferenceId":"', at.end)) {
    inferenceId = field(line, at, ',"inferenceId":"');
    if (inferenceId === undefined) return undefined;
  }
  const inferenceTime = field(line, at, ',"inferenceTime":"');
  if (inferenceTime === undefined || line.charCodeAt(at.end) === QUOTE) return undefined;
  return {
    captureData: { endpointInput: { observedContentType: inCt, data: inData!, encoding: inEnc! }, endpointOutput: { observedContentType: outCt, data: outData!, encoding: outEnc! } },
    eventMetadata: { eventId, ...(inferenceId !== undefined ? { inferenceId } : {}), inferenceTime },
  };
}
