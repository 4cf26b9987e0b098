import { MillwrightError } from '../errors/index.ts';
import { BatchBuilder, decodeBatch, type EncodedBatch, type ParsedBatch } from './batch-builder.ts';
import { DEFAULT_BATCH_ROWS, KNOWN_COLUMNS, type ReadOptions } from './csv.ts';
import { lineChunks, MAX_LINE_BYTES } from './line-chunks.ts';
import { NameChecker, type NameKind } from './names.ts';
import { rawLine } from './reject.ts';
import { MAX_TS, MIN_EPOCH_MS, parseTimestamp } from './timestamp.ts';

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
  const checkers: Record<NameKind, NameChecker> = { site: new NameChecker('site'), asset: new NameChecker('asset'), signal: new NameChecker('signal') };
  let defaultSite = -1;
  if (opts.site !== undefined) {
    const p = checkers.site.problem(opts.site);
    if (p) throw new MillwrightError('BAD_INPUT', `--site: ${p}`);
    defaultSite = builder.dict.id(opts.site);
  }
  let line = 0;
  let text = '';
  let ls = 0;
  let le = 0;
  const reject = (reason: string) => opts.onReject({ source: opts.source, line, reason, raw: rawLine(text, ls, le) });
  const name = (kind: NameKind, v: unknown): number => {
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
      let obj: unknown;
      const src = text.slice(ls, le);
      if (src.trim() === '') continue;
      try {
        obj = JSON.parse(src);
      } catch (err) {
        reject(`invalid JSON: ${(err as Error).message} (expected one JSON object per line)`);
        continue;
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
        reject('expected a JSON object such as {"ts":"2024-03-01T00:00:00Z","site":"plant-1","asset":"m1","signal":"temp","value":41.5}');
        continue;
      }
      const o = obj as Record<string, unknown>;
      let unknown: string | undefined;
      for (const k in o) {
        if (!KNOWN.has(k)) {
          unknown = k;
          break;
        }
      }
      if (unknown !== undefined) {
        reject(`unknown column ${JSON.stringify(unknown)} (expected keys ${KNOWN_COLUMNS.join(', ')})`);
        continue;
      }
      let ts: number;
      const rawTs = o.ts;
      if (rawTs === undefined || rawTs === null || rawTs === '') {
        reject('missing field "ts"');
        continue;
      } else if (typeof rawTs === 'number') {
        ts = rawTs >= MIN_EPOCH_MS && rawTs <= MAX_TS ? rawTs : NaN;
      } else if (typeof rawTs === 'string') {
        ts = parseTimestamp(rawTs);
      } else {
        ts = NaN;
      }
      if (ts !== ts) {
        reject(
          `unparseable timestamp ${JSON.stringify(rawTs)} (expected ISO-8601 with a zone, e.g. "2024-03-01T12:00:00Z", or epoch milliseconds >= 1e11, between 1900 and 9999)`,
        );
        continue;
      }
      const value = o.value;
      if (value === undefined || value === null) {
        reject('missing field "value"');
        continue;
      }
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        reject(`value ${JSON.stringify(value)} is not a finite number (expected a JSON number such as 41.5)`);
        continue;
      }
      let quality = 0;
      const q = o.quality;
      if (q !== undefined && q !== null) {
        if (typeof q !== 'number' || !Number.isInteger(q) || q < 0 || q > 255) {
          reject(`quality ${JSON.stringify(q)} is not an integer 0-255 (0 = good; null or absent for good)`);
          continue;
        }
        quality = q;
        if (q !== 0) builder.hasQuality = true;
      }
      const site = name('site', o.site);
      if (site < 0) continue;
      const asset = name('asset', o.asset);
      if (asset < 0) continue;
      const signal = name('signal', o.signal);
      if (signal < 0) continue;
      builder.push(line, ts, site, asset, signal, value, quality);
      if (builder.full) {
        const b = builder.takeEncoded(opts.source);
        if (b) yield { batch: b, dict: builder.dict.values };
      }
    }
  }
  const last = builder.takeEncoded(opts.source);
  if (last) yield { batch: last, dict: builder.dict.values };
}
