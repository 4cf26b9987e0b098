/**
 * Reads the serving container's data-capture files (SageMaker Model Monitor JSON Lines:
 * `captureData.endpointInput/endpointOutput` + `eventMetadata`) back into a table: the model's
 * input features, its predictions (`prediction`, or `prediction_<key>` for record outputs such as
 * the energy model's expected/best), `capturedAt` (inference time, epoch ms; a feature named `ts`
 * keeps its own values), `eventId` and `inferenceId` (the id late labels name; the eventId when the
 * record has none).
 */
import { open } from 'node:fs/promises';
import { captureBody, listCaptureFiles } from '../lib/capture/index.ts';
import type { FeatureSpec } from '../lib/model/contract.ts';
import { parseInput, inputFormat } from '../lib/wire/parse-input.ts';
import { parseNumericCsv } from '../lib/wire/numeric-csv.ts';
import { captureKeyValues } from './capture-keys.ts';
import { quickCaptureLine } from './capture-line.ts';
import { readV2Capture } from './capture-v2.ts';
import { scanCaptureLine } from './capture-scan.ts';
import { CapturedIds, lazyColumn } from './capture-ids.ts';
import { toFrame, type Frame } from './data.ts';

export interface CaptureReadOptions {
  /** The model's features (manifest `features`), needed to parse headerless CSV inputs. */
  features?: FeatureSpec[];
  /** Only records at or after this time (epoch ms). */
  from?: number;
  /** Only records before this time (epoch ms). */
  to?: number;
  /**
   * Read the server's one-row numeric CSV records straight from the file's bytes (capture-scan.ts;
   * default true). `false` reads every line through the string path: the same table, slower.
   */
  scan?: boolean;
  /**
   * Input columns to keep beside the features, one value per row (null where a request lacks
   * one): the business keys late labels name (a lot id, an asset, a time). See capture-keys.ts.
   */
  keys?: string[];
}

export interface CaptureReadResult {
  frame: Frame;
  records: number;
  files: number;
  /** Lines that could not be used, with the reason (never silently dropped). */
  skipped: { file: string; line: number; reason: string }[];
}

/** A JSON number, exactly (Number() then reads it as JSON.parse does). */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function parsePredictions(text: string, contentType: string): unknown[] {
  const ct = contentType.toLowerCase();
  // The server's own numeric answer, `{"predictions":[1.5,2]}`: numbers without a parse into objects.
  if (ct === 'application/json' && text.startsWith('{"predictions":[') && text.endsWith(']}')) {
    const parts = text.slice(16, -2).split(',');
    if (parts.every((p) => JSON_NUMBER.test(p))) return parts.map(Number);
  }
  if (ct.includes('json') && !ct.includes('lines') && !ct.includes('ndjson')) {
    const doc = JSON.parse(text) as unknown;
    if (Array.isArray(doc)) return doc;
    const p = (doc as { predictions?: unknown }).predictions;
    if (!Array.isArray(p)) throw new Error('output JSON has no "predictions" array');
    return p;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (ct.includes('csv')) return lines.map((l) => {
    const cells = l.split(',');
    const vals = cells.map((c) => (c.trim() !== '' && Number.isFinite(Number(c)) ? Number(c) : c));
    return vals.length === 1 ? vals[0] : Object.fromEntries(vals.map((v, i) => [String(i), v]));
  });
  return lines.map((l) => JSON.parse(l) as unknown);
}

function inferFeatures(text: string, format: string): FeatureSpec[] {
  // Without a manifest: JSON objects name their fields; a CSV needs a header row.
  if (format === 'csv') {
    const head = text.split('\n')[0]!.split(',').map((s) => s.trim());
    if (head.every((h) => h !== '' && !Number.isFinite(Number(h)))) return head.map((name) => ({ name, type: 'number' }));
    throw new Error('headerless CSV input and no model features to name its columns (pass the model)');
  }
  const doc = JSON.parse(format === 'jsonl' ? text.split('\n').find((l) => l.trim())! : text) as Record<string, unknown>;
  const rows = Array.isArray(doc) ? doc : ((doc.instances ?? doc.inputs ?? doc.dataframe_records) as unknown[] | undefined);
  const first = Array.isArray(rows) ? rows[0] : doc;
  if (first && typeof first === 'object' && !Array.isArray(first)) {
    return Object.entries(first as Record<string, unknown>).map(([name, v]) => ({ name, type: typeof v === 'string' ? 'string' : 'number' }));
  }
  throw new Error('cannot tell the input columns (pass the model so its features name them)');
}

/** Unboxed feature columns of the fast path: `data[k]` holds `rows` values of `names[k]`. */
interface NumericColumns {
  names: string[];
  data: Float64Array[];
  rows: number;
}

function sameNames(names: string[], features: FeatureSpec[]): boolean {
  return names.length === features.length && features.every((f, k) => f.name === names[k]);
}

/** Bytes read from a capture file at a time (a longer line grows the buffer). */
const CHUNK = 1 << 20;

/** `d` with room for at least `need` values (doubling), its values kept. */
function grow(d: Float64Array, need: number): Float64Array<ArrayBuffer> {
  const grown = new Float64Array(Math.max(2 * d.length, need));
  grown.set(d);
  return grown;
}

function growNumeric(c: NumericColumns, need: number): void {
  c.data = c.data.map((d) => grow(d.subarray(0, c.rows), Math.max(2 * d.length, need)));
}

/** Appends a parsed batch (row-major) to the columns, doubling their capacity as needed. */
function appendNumeric(c: NumericColumns, batch: { X: Float64Array; rows: number }): void {
  const F = c.names.length;
  const at = c.rows;
  if (at + batch.rows > c.data[0]!.length) growNumeric(c, at + batch.rows);
  for (let k = 0; k < F; k++) {
    const d = c.data[k]!;
    for (let r = 0; r < batch.rows; r++) d[at + r] = batch.X[r * F + k]!;
  }
  c.rows = at + batch.rows;
}

/**
 * Reads capture JSON Lines into one table.
 *
 * @example
 * const { frame, skipped } = await readCapture('/var/lib/millwright/capture', { features: manifest.features });
 */
export async function readCapture(dirOrFile: string, options: CaptureReadOptions = {}): Promise<CaptureReadResult> {
  const listed = await listCaptureFiles(dirOrFile);
  const files = listed.map((f) => f.path);
  const totalBytes = listed.reduce((sum, f) => sum + f.bytes, 0);
  const cols = new Map<string, unknown[]>();
  let rows = 0;
  let records = 0;
  const skipped: CaptureReadResult['skipped'] = [];
  const column = (name: string, at: number): unknown[] => {
    let c = cols.get(name);
    if (!c) cols.set(name, (c = []));
    while (c.length < at) c.push(null);
    return c;
  };
  const put = (name: string, at: number, v: unknown) => {
    column(name, at)[at] = v;
  };
  // Feature values of fast-path records, unboxed (a day of capture is ~20M numbers; as JS
  // arrays they were most of the garbage collector's work). Moved into `cols` if a record of
  // another kind arrives.
  let numeric: NumericColumns | undefined;
  const demote = () => {
    if (!numeric) return;
    numeric.names.forEach((name, k) => cols.set(name, Array.from(numeric!.data[k]!.subarray(0, numeric!.rows))));
    numeric = undefined;
  };
  // Predictions and the record's metadata, one value per row of a record whose rows start at `rows`.
  const putMeta = (preds: unknown[], t: number, meta: { eventId?: string; inferenceId?: string } | undefined) => {
    for (let r = 0; r < preds.length; r++) {
      const p = preds[r];
      if (p !== null && typeof p === 'object') for (const [k, v] of Object.entries(p as Record<string, unknown>)) put(`prediction_${k}`, rows + r, v);
      else put('prediction', rows + r, p);
      put('capturedAt', rows + r, Number.isFinite(t) ? t : null);
      put('eventId', rows + r, meta?.eventId ?? null);
      put('inferenceId', rows + r, meta?.inferenceId ?? meta?.eventId ?? null);
    }
  };
  const general = (file: string, ln: number, line: string): void => {
    if (line === '') return;
    try {
      const rec = (quickCaptureLine(line) ?? JSON.parse(line)) as {
        captureData?: { endpointInput?: { observedContentType: string; data: string; encoding: string }; endpointOutput?: { observedContentType: string; data: string; encoding: string } };
        eventMetadata?: { eventId?: string; inferenceId?: string; inferenceTime?: string };
      };
      const input = rec.captureData?.endpointInput;
      const output = rec.captureData?.endpointOutput;
      if (!input || !output) throw new Error('not a capture record (expected captureData.endpointInput and endpointOutput)');
      const t = Date.parse(rec.eventMetadata?.inferenceTime ?? '');
      if (options.from !== undefined && !(t >= options.from)) return;
      if (options.to !== undefined && !(t < options.to)) return;
      const v2 = readV2Capture(input, output, options.features);
      if (v2) {
        demote();
        for (const [name, vals] of v2.columns) vals.forEach((v, r) => put(name, rows + r, v));
        putMeta(v2.predictions, t, rec.eventMetadata);
        rows += v2.rows;
        records++;
        return;
      }
      const inText = captureBody(input);
      const format = inputFormat(input.observedContentType);
      const features = options.features ?? inferFeatures(inText, format);
      // Numeric CSV (what the server captures most): straight to numbers, no table per record;
      // anything the fast path does not take goes through the general parser, same values.
      const fast = format === 'csv' ? parseNumericCsv(inText, features) : undefined;
      const parsed = fast ? { rows: fast.rows } : parseInput(inText, format, features);
      const preds = parsePredictions(captureBody(output), output.observedContentType);
      if (preds.length !== parsed.rows) throw new Error(`${parsed.rows} input rows but ${preds.length} predictions`);
      const F = features.length;
      if (fast && rows === 0 && cols.size === 0 && !numeric) numeric = { names: features.map((f) => f.name), data: features.map(() => new Float64Array(1024)), rows: 0 };
      if (fast && numeric && sameNames(numeric.names, features)) {
        appendNumeric(numeric, fast);
      } else if (fast) {
        demote();
        for (let k = 0; k < F; k++) {
          const c = column(features[k]!.name, rows);
          for (let r = 0; r < fast.rows; r++) c[rows + r] = fast.X[r * F + k];
        }
      } else {
        demote();
        for (const f of features) {
          const vals = (parsed as ReturnType<typeof parseInput>).table.array(f.name) as ArrayLike<unknown>;
          for (let r = 0; r < parsed.rows; r++) put(f.name, rows + r, vals[r]);
        }
      }
      const keys = options.keys?.filter((k) => !features.some((f) => f.name === k));
      if (keys?.length) captureKeyValues(inText, format, keys, parsed.rows).forEach((vals, k) => vals.forEach((v, r) => put(keys[k]!, rows + r, v)));
      putMeta(preds, t, rec.eventMetadata);
      rows += parsed.rows;
      records++;
    } catch (err) {
      skipped.push({ file, line: ln + 1, reason: (err as Error).message });
    }
  };
  // The server's own one-row numeric records go straight from the bytes into the columns
  // (capture-scan.ts); any other line is decoded and read by `general`, with the same values.
  const features = options.features;
  const integerFeatures = features?.some((f) => f.type === 'integer') ?? false;
  const scannable = options.scan !== false && !options.keys?.length && features !== undefined && features.length > 0 && features.every((f) => f.type === 'number' || f.type === 'integer');
  // Whether the unboxed columns are the model's features (checked once per columns object).
  let checked: NumericColumns | undefined;
  let sameAsFeatures = false;
  const numericIsFeatures = (): boolean => {
    if (numeric !== checked) {
      checked = numeric;
      sameAsFeatures = numeric !== undefined && sameNames(numeric.names, features!);
    }
    return sameAsFeatures;
  };
  // The other four columns of the scanned rows since the last `general` record, unboxed
  // (`rows - tail.n` rows are in `cols`); moved into `cols` before a general record.
  const tail = { n: 0, prediction: new Float64Array(1024), time: new Float64Array(1024), eventId: new CapturedIds(), inferenceId: new CapturedIds() };
  const flushTail = () => {
    if (tail.n === 0) return;
    const at = rows - tail.n;
    const pc = column('prediction', at);
    const ac = column('capturedAt', at);
    const ec = column('eventId', at);
    const ic = column('inferenceId', at);
    for (let r = 0; r < tail.n; r++) {
      const t = tail.time[r]!;
      pc.push(tail.prediction[r]);
      ac.push(Number.isFinite(t) ? t : null);
      ec.push(tail.eventId.at(r));
      ic.push(tail.inferenceId.at(r));
    }
    tail.n = 0;
    tail.eventId.clear();
    tail.inferenceId.clear();
  };
  // Scanning is on while every row so far has the four columns the scanner writes, nothing else.
  const canScan = (): boolean => {
    if (!scannable) return false;
    if (numeric === undefined) return rows === 0 && cols.size === 0;
    if (!numericIsFeatures()) return false;
    if (cols.size === 0) return tail.n === rows;
    if (cols.size !== 4) return false;
    const before = rows - tail.n;
    const pc = cols.get('prediction');
    const ac = cols.get('capturedAt');
    const ec = cols.get('eventId');
    const ic = cols.get('inferenceId');
    return pc !== undefined && ac !== undefined && ec !== undefined && ic !== undefined && pc.length === before && ac.length === before && ec.length === before && ic.length === before;
  };
  let scanning = canScan();
  // Files are read in chunks (bounded memory: a chunk, not a file, plus the columns), split at '\n'.
  let chunk = Buffer.allocUnsafe(CHUNK);
  let view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  for (const file of files) {
    const fh = await open(file, 'r');
    try {
      let have = 0;
      let ln = 0;
      let eof = false;
      while (!eof) {
        if (have === chunk.length) {
          // One line longer than the chunk: grow it.
          const grown = Buffer.allocUnsafe(2 * chunk.length);
          chunk.copy(grown, 0, 0, have);
          chunk = grown;
          view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        }
        const { bytesRead } = await fh.read(chunk, have, chunk.length - have, null);
        have += bytesRead;
        eof = bytesRead === 0;
        const buf = chunk;
        let start = 0;
        for (;;) {
          let end = buf.indexOf(10, start);
          if (end < 0 || end >= have) {
            if (!eof || start >= have) break;
            end = have; // the file's last line, without a newline
          }
          const s = scanning ? scanCaptureLine(buf, start, end, features!, view, integerFeatures) : undefined;
          if (s !== undefined) {
            if ((options.from === undefined || s.time >= options.from) && (options.to === undefined || s.time < options.to)) {
              if (numeric === undefined) {
                // Room for every line of the files if they are like this one (+20 %): no doubling
                // and copying of a day's columns (untouched capacity is never paged in).
                const capacity = Math.min(1 << 26, Math.max(1024, Math.ceil((1.2 * totalBytes) / (end - start + 1))));
                numeric = { names: features!.map((f) => f.name), data: features!.map(() => new Float64Array(capacity)), rows: 0 };
                if (tail.n === 0) {
                  tail.prediction = new Float64Array(capacity);
                  tail.time = new Float64Array(capacity);
                }
              }
              const at = numeric.rows;
              if (at >= numeric.data[0]!.length) growNumeric(numeric, at + 1);
              const x = s.x;
              const data = numeric.data;
              for (let k = 0; k < x.length; k++) data[k]![at] = x[k]!;
              numeric.rows = at + 1;
              const n = tail.n;
              if (n >= tail.prediction.length) {
                tail.prediction = grow(tail.prediction, n + 1);
                tail.time = grow(tail.time, n + 1);
              }
              tail.prediction[n] = s.prediction;
              tail.time[n] = s.time;
              tail.eventId.push(buf, s.eventStart, s.eventEnd);
              if (s.idStart < 0) tail.inferenceId.push(buf, s.eventStart, s.eventEnd);
              else tail.inferenceId.push(buf, s.idStart, s.idEnd);
              tail.n = n + 1;
              rows++;
              records++;
            }
          } else {
            flushTail();
            general(file, ln, buf.toString('utf8', start, end).trim());
            scanning = canScan();
          }
          ln++;
          start = end + 1;
          if (start >= have) break;
        }
        // Keep the partial last line for the next read.
        if (start < have) {
          buf.copy(buf, 0, start, have);
          have -= start;
        } else {
          have = 0;
        }
        if (eof) break;
      }
    } finally {
      await fh.close();
    }
  }
  if (numeric && cols.size === 0 && tail.n === rows && rows > 0) {
    // Every row came from the scanner: the columns as they are.
    const table: Record<string, ArrayLike<unknown>> = {};
    numeric.names.forEach((name, k) => (table[name] = numeric!.data[k]!.subarray(0, rows)));
    table.prediction = tail.prediction.subarray(0, rows);
    const time = tail.time.subarray(0, rows);
    // A column of times that are all missing stays what the string path makes of it (all nulls).
    table.capturedAt = time.some(Number.isFinite) ? time : Array.from(time, (t) => (Number.isFinite(t) ? t : null));
    const frame = toFrame(table);
    // The ids stay bytes until a report reads them (a ground-truth merge does; the others do not).
    const { eventId, inferenceId } = tail;
    frame.names.push('eventId', 'inferenceId');
    frame.columns.set('eventId', lazyColumn('eventId', () => eventId.strings()));
    frame.columns.set('inferenceId', lazyColumn('inferenceId', () => inferenceId.strings()));
    return { frame, records, files: files.length, skipped };
  }
  flushTail();
  if (numeric) {
    for (const c of cols.values()) while (c.length < rows) c.push(null);
    const table: Record<string, ArrayLike<unknown>> = {};
    numeric.names.forEach((name, k) => (table[name] = numeric!.data[k]!.subarray(0, rows)));
    for (const [name, c] of cols) table[name] = c;
    return { frame: toFrame(table), records, files: files.length, skipped };
  }
  const table: Record<string, unknown[]> = {};
  for (const [name, c] of cols) {
    while (c.length < rows) c.push(null);
    table[name] = c;
  }
  return { frame: toFrame(table), records, files: files.length, skipped };
}
