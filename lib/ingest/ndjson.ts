import { MillwrightError } from '../errors/index.ts';
import { BatchBuilder, decodeBatch, type EncodedBatch, type ParsedBatch } from './batch-builder.ts';
import { DEFAULT_BATCH_ROWS, KNOWN_COLUMNS, type ReadOptions } from './csv.ts';
import { lineChunks, MAX_LINE_BYTES } from './line-chunks.ts';
import { NameChecker, type NameKind } from './names.ts';
import { rawLine } from './reject.ts';
import { MAX_TS, MIN_EPOCH_MS, parseTimestamp } from './timestamp.ts';
import { LocalTimeZone } from './local-time.ts';

const KNOWN = new Set<string>(KNOWN_COLUMNS);

/**
 * Streams readings out of NDJSON: one JSON object per line with the keys `ts` (ISO-8601 string
 * with a zone, or epoch milliseconds as a number or digit string), `site` (optional with a
 * default site), `asset`, `signal`, `value` (a JSON number) and optionally `quality` (integer
 * 0-255, null = good). Any other key, a missing key, invalid JSON or a wrong type rejects that
 * line only. Yields columnar batches of `opts.batchRows` rows.
 *
 * @example
 * for await (const { batch } of readNdjson(process.stdin, { source: '-', onReject: console.warn })) console.log(batch.ts.length);
 */
export async function* readNdjson(stream: AsyncIterable<Buffer | Uint8Array | string>, opts: ReadOptions): AsyncGenerator<ParsedBatch> {
  for await (const { batch, dict } of readNdjsonEncoded(stream, opts)) yield decodeBatch(batch, dict);
}

/** {@link readNdjson} with names as dictionary ids; `dict` is the reader's live dictionary. */
export async function* readNdjsonEncoded(
  stream: AsyncIterable<Buffer | Uint8Array | string>,
  opts: ReadOptions,
): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  const builder = new BatchBuilder(opts.batchRows ?? DEFAULT_BATCH_ROWS);
  let line = 0;
  let text = '';
  let ls = 0;
  let le = 0;
  const reject = (reason: string) => opts.onReject({ source: opts.source, line, reason, raw: rawLine(text, ls, le) });
  const name = nameResolver(builder, opts.site, reject);
  const fields: LineFields = { ts: 0, value: 0, quality: 0 };
  const local = opts.timezone === undefined ? undefined : new LocalTimeZone(opts.timezone, opts.ambiguous);

  for await (const run of lineChunks(stream)) {
    opts.onBytes?.(run.bytesRead);
    if (run.kind === 'long') {
      line++;
      opts.onReject({ source: opts.source, line, reason: `line longer than ${MAX_LINE_BYTES} bytes`, raw: `${run.head}…` });
      continue;
    }
    text = run.text;
    let pos = 0;
    const n = text.length;
    while (pos < n) {
      let nl = text.indexOf('\n', pos);
      if (nl < 0) nl = n;
      ls = pos;
      le = nl;
      pos = nl + 1;
      line++;
      if (le > ls && text.charCodeAt(le - 1) === 13) le--;
      const src = text.slice(ls, le);
      if (src.trim() === '') continue;
      const o = parseObject(src);
      if (typeof o === 'string') {
        reject(o);
        continue;
      }
      const problem = checkFields(o, fields, local);
      if (problem !== undefined) {
        reject(problem);
        continue;
      }
      if (fields.quality !== 0) builder.hasQuality = true;
      const site = name('site', o.site);
      if (site < 0) continue;
      const asset = name('asset', o.asset);
      if (asset < 0) continue;
      const signal = name('signal', o.signal);
      if (signal < 0) continue;
      builder.push(line, fields.ts, site, asset, signal, fields.value, fields.quality);
      if (builder.full) {
        const b = builder.takeEncoded(opts.source);
        if (b) yield { batch: b, dict: builder.dict.values };
      }
    }
  }
  const last = builder.takeEncoded(opts.source);
  if (last) yield { batch: last, dict: builder.dict.values };
}

/** The numeric fields of one line, filled in place by {@link checkFields} (one object per reader, not per line). */
interface LineFields {
  ts: number;
  value: number;
  quality: number;
}

/** One line as a JSON object, or why it is not one. */
function parseObject(src: string): Record<string, unknown> | string {
  let obj: unknown;
  try {
    obj = JSON.parse(src);
  } catch (err) {
    return `invalid JSON: ${(err as Error).message} (expected one JSON object per line)`;
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    return 'expected a JSON object such as {"ts":"2024-03-01T00:00:00Z","site":"plant-1","asset":"m1","signal":"temp","value":41.5}';
  }
  return obj as Record<string, unknown>;
}

/** Checks keys, `ts`, `value` and `quality` of one object: fills `out`, or returns why the line is rejected. */
function checkFields(o: Record<string, unknown>, out: LineFields, local?: LocalTimeZone): string | undefined {
  for (const k in o) {
    if (!KNOWN.has(k)) return `unknown column ${JSON.stringify(k)} (expected keys ${KNOWN_COLUMNS.join(', ')})`;
  }
  const rawTs = o.ts;
  if (rawTs === undefined || rawTs === null || rawTs === '') return 'missing field "ts"';
  if (local) local.problem = '';
  const ts = timestampOf(rawTs, local);
  if (ts !== ts) {
    if (local?.problem) return local.problem;
    return `unparseable timestamp ${JSON.stringify(rawTs)} (expected ISO-8601 with a zone, e.g. "2024-03-01T12:00:00Z", or epoch milliseconds >= 1e11, between 1900 and 9999)`;
  }
  const value = o.value;
  if (value === undefined || value === null) return 'missing field "value"';
  if (typeof value !== 'number' || !Number.isFinite(value)) return `value ${JSON.stringify(value)} is not a finite number (expected a JSON number such as 41.5)`;
  const q = o.quality;
  let quality = 0;
  if (q !== undefined && q !== null) {
    if (typeof q !== 'number' || !Number.isInteger(q) || q < 0 || q > 255) return `quality ${JSON.stringify(q)} is not an integer 0-255 (0 = good; null or absent for good)`;
    quality = q;
  }
  out.ts = ts;
  out.value = value;
  out.quality = quality;
  return undefined;
}

/** Epoch ms of a `ts` field (ISO text or epoch milliseconds), NaN when it is neither. */
function timestampOf(raw: unknown, local?: LocalTimeZone): number {
  if (typeof raw === 'number') return raw >= MIN_EPOCH_MS && raw <= MAX_TS ? raw : NaN;
  if (typeof raw === 'string') return parseTimestamp(raw, 0, raw.length, local);
  return NaN;
}

/**
 * Turns a site/asset/signal field into a dictionary id, or -1 after rejecting the line: a missing
 * site falls back to `defaultSite` (`--site`); names are checked once, when first seen.
 */
function nameResolver(builder: BatchBuilder, defaultSiteName: string | undefined, reject: (reason: string) => void): (kind: NameKind, v: unknown) => number {
  const checkers: Record<NameKind, NameChecker> = { site: new NameChecker('site'), asset: new NameChecker('asset'), signal: new NameChecker('signal') };
  let defaultSite = -1;
  if (defaultSiteName !== undefined) {
    const p = checkers.site.problem(defaultSiteName);
    if (p) throw new MillwrightError('BAD_INPUT', `--site: ${p}`);
    defaultSite = builder.dict.id(defaultSiteName);
  }
  return (kind, v) => {
    if (v === undefined || v === null) {
      if (kind === 'site' && defaultSite >= 0) return defaultSite;
      reject(`missing field "${kind}"${kind === 'site' ? ' (or pass --site NAME)' : ''}`);
      return -1;
    }
    if (typeof v !== 'string') {
      reject(`${kind} must be a string, got ${JSON.stringify(v)}`);
      return -1;
    }
    const known = builder.dict.get(v);
    if (known !== undefined) return known;
    const p = checkers[kind].problem(v);
    if (p !== undefined) {
      reject(p);
      return -1;
    }
    return builder.dict.id(v);
  };
}
