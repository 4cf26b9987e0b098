import { MillwrightError } from '../errors/index.ts';
import { decodeBatch, type EncodedBatch, type ParsedBatch } from './batch-builder.ts';
import type { ReadOptions } from './csv.ts';
import { lineChunks, MAX_LINE_BYTES } from './line-chunks.ts';
import { nameProblem } from './names.ts';
import { rawLine } from './reject.ts';
import { MAX_TS, MIN_EPOCH_MS } from './timestamp.ts';
import { planWideColumns, type ColumnsInfo } from './wide-columns.ts';
import { badCellReason, badTimestampReason, cellValue, ColumnSampler, SAMPLE_ROWS, WideTarget } from './wide-cells.ts';

/** What a key of the file is. */
interface KeyRole {
  /** 0 time, 1 asset, 2 signal, 3 anything else (skipped or left out). */
  role: number;
  /** Signal id (role 2). */
  id: number;
}

const TIME = 0;
const ASSET = 1;
const SIGNAL = 2;
const LEFT_OUT = 3;

function parseLine(src: string): Record<string, unknown> | string {
  let o: unknown;
  try {
    o = JSON.parse(src);
  } catch (err) {
    return `invalid JSON: ${(err as Error).message} (expected one JSON object per line)`;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return `expected a JSON object such as {"timestamp":"2024-03-01 12:00:00","pressure":7.1}, got ${JSON.stringify(o).slice(0, 40)}`;
  return o as Record<string, unknown>;
}

/** The reading of a JSON signal value (the wide CSV's cell rules for strings), NaN when it is none. */
function valueOf(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return cellValue(v);
  return NaN;
}

function badValueReason(v: unknown): string {
  if (v === null) return 'null value';
  if (typeof v === 'string') return badCellReason(v);
  if (typeof v === 'number') return `value ${v} is not a finite number`;
  return `nested value ${JSON.stringify(v).slice(0, 40)} is not a number or a boolean`;
}

/** Epoch ms of the line's time value (ISO text, or epoch milliseconds as a number), or why not. */
function timeOf(t: WideTarget, raw: unknown, key: string): number | string {
  let ts = NaN;
  if (typeof raw === 'number') ts = raw >= MIN_EPOCH_MS && raw <= MAX_TS ? raw : NaN;
  else if (typeof raw === 'string') ts = t.timestamp(raw, 0, raw.length);
  if (ts === ts) return ts;
  if (raw === undefined) return `no ${JSON.stringify(key)} key (the time of the line)`;
  if (raw === null) return 'null timestamp';
  return badTimestampReason(typeof raw === 'string' ? raw : JSON.stringify(raw), t.local);
}

/** Dictionary id of the line's asset value, or why not. */
function assetOf(t: WideTarget, a: unknown, key: string): number | string {
  if (typeof a === 'string') return t.asset(a, 0, a.length);
  if (a === undefined) return `no ${JSON.stringify(key)} key (the asset of the line)`;
  return `asset must be a string, got ${JSON.stringify(a)}`;
}

/**
 * Streams readings out of wide NDJSON: one JSON object per line, one key for the time (chosen as
 * the wide CSV's time column is: `wide.timestampColumn`, else the first key named ts, timestamp,
 * time or datetime) and one key per signal. The per-cell rules are the wide CSV's
 * (wide-cells.ts): a JSON number or boolean is a reading, and so is a string a CSV cell would be
 * read as (`"41.5"`, `"true"`); `null`, another string, or an object or array where a signal had
 * numbers is a reject naming its line and key; a key left out of one line is no reading (the
 * signal was not sampled then). The keys come from the first 1,000 lines: one whose values there
 * are all text (or all nested) is left out and named in the summary (`strict` refuses the file). A
 * key first seen later becomes a signal if its first value is a number or a boolean, and is left
 * out otherwise (under `strict` its lines are rejects, as the readings before it were already
 * handed on). A malformed line is a reject naming the line. Times without a zone are read in
 * `opts.timezone` with `opts.ambiguous` at DST changes; epoch milliseconds may be JSON numbers.
 *
 * @example
 * import { createReadStream } from 'node:fs';
 * import { readWideNdjson } from 'millwright';
 * for await (const { batch } of readWideNdjson(createReadStream('export.ndjson'), {
 *   source: 'export.ndjson', site: 'plant-1', timezone: 'Europe/Berlin', wide: { asset: 'compressor-1' }, onReject: console.warn,
 * })) console.log(batch.ts.length);
 */
export async function* readWideNdjson(stream: AsyncIterable<Buffer | Uint8Array | string>, opts: ReadOptions): AsyncGenerator<ParsedBatch> {
  for await (const { batch, dict } of readWideNdjsonEncoded(stream, opts)) yield decodeBatch(batch, dict);
}

/** {@link readWideNdjson} with names as dictionary ids. */
export async function* readWideNdjsonEncoded(
  stream: AsyncIterable<Buffer | Uint8Array | string>,
  opts: ReadOptions,
): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  let target: WideTarget | undefined;
  const roles = new Map<string, KeyRole>();
  let info: ColumnsInfo | undefined;
  let late = false;
  let tsKey = '';
  let assetKey: string | undefined;
  let line = 0;
  let text = '';
  let ls = 0;
  let le = 0;
  const reject = (reason: string, column?: string) => opts.onReject({ source: opts.source, line, column, reason, raw: rawLine(text, ls, le) });

  /** Reads the keys and their kinds off the first lines of the first run. */
  const plan = (first: string): void => {
    const keys = new Map<string, number>();
    const sampler = new ColumnSampler();
    let pos = 0;
    let looked = 0;
    while (pos < first.length && sampler.rows < SAMPLE_ROWS) {
      let nl = first.indexOf('\n', pos);
      if (nl < 0) nl = first.length;
      const src = first.slice(pos, nl);
      pos = nl + 1;
      looked++;
      if (src.trim() === '') continue;
      const o = parseLine(src);
      if (typeof o === 'string') continue;
      sampler.rows++;
      for (const k in o) {
        let c = keys.get(k);
        if (c === undefined) keys.set(k, (c = keys.size));
        const v = o[k];
        if (typeof v === 'number' || typeof v === 'boolean') sampler.number(c);
        else if (typeof v === 'string') {
          if (v !== '') sampler.text(c, v);
        } else if (v !== null && typeof v === 'object') sampler.nestedValue(c, JSON.stringify(v));
      }
    }
    const names = [...keys.keys()];
    if (names.length === 0) {
      throw new MillwrightError('BAD_INPUT', `${opts.source}: no JSON object in the first ${looked} line(s); expected one object per line with a time key and one key per signal, e.g. {"timestamp":"2024-03-01 12:00:00","pressure":7.1}`);
    }
    // A key may be absent from the sampled lines (sparse exports): --skip-columns may name one.
    for (const k of opts.wide?.skipColumns ?? []) if (!keys.has(k) && !names.some((n) => n.trim() === k.trim())) names.push(k);
    const p = planWideColumns(names, opts.source, opts.wide ?? {});
    target = new WideTarget(opts, p.signals.length);
    const { keep, leftOut } = sampler.decide(p, opts, 'field', 'lines');
    tsKey = names[p.ts];
    assetKey = p.asset >= 0 ? names[p.asset] : undefined;
    const kept = new Set(keep);
    names.forEach((k, i) => {
      if (i === p.ts) roles.set(k, { role: TIME, id: -1 });
      else if (i === p.asset) roles.set(k, { role: ASSET, id: -1 });
      else if (kept.has(i)) roles.set(k, { role: SIGNAL, id: target!.builder.dict.id(p.names[i]) });
      else roles.set(k, { role: LEFT_OUT, id: -1 });
    });
    info = { timestamp: p.names[p.ts], signals: keep.map((c) => p.names[c]), leftOut };
  };

  /** A key not in the sample: a signal if its first value is one, left out otherwise. */
  const lateKey = (k: string, v: unknown): KeyRole | string => {
    const name = k.trim();
    const readable = typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && cellValue(v) === cellValue(v));
    let role: KeyRole;
    let why: string | undefined;
    const problem = nameProblem('signal', name);
    if (problem) why = problem;
    else if (info!.signals.includes(name) || name === info!.timestamp) why = `key ${JSON.stringify(k)} is ${JSON.stringify(name)} once trimmed, which another key already names`;
    else if (!readable && v !== null) why = `${typeof v === 'string' ? 'text' : 'nested'} field first seen on line ${line}, after the first ${SAMPLE_ROWS} lines were sampled (e.g. ${JSON.stringify(v).slice(0, 40)})`;
    if (why === undefined) {
      role = { role: SIGNAL, id: target!.builder.dict.id(name) };
      info!.signals.push(name);
    } else {
      if (opts.wide?.strict) return `--strict: ${why}; the line is refused (readings before it were already handed on)`;
      role = { role: LEFT_OUT, id: -1 };
      info!.leftOut.push({ column: name, reason: why });
    }
    roles.set(k, role);
    late = true;
    return role;
  };

  for await (const run of lineChunks(stream)) {
    opts.onBytes?.(run.bytesRead);
    if (run.kind === 'long') {
      line++;
      opts.onReject({ source: opts.source, line, reason: `line longer than ${MAX_LINE_BYTES} bytes`, raw: `${run.head}…` });
      continue;
    }
    text = run.text;
    if (!target && text.trim() !== '') plan(text);
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
      const t = target!;
      const b = t.builder;
      const o = parseLine(src);
      if (typeof o === 'string') {
        reject(o);
        continue;
      }
      const ts = timeOf(t, o[tsKey], tsKey);
      if (typeof ts === 'string') {
        reject(ts, tsKey);
        continue;
      }
      const asset = assetKey === undefined ? t.fixedAsset : assetOf(t, o[assetKey], assetKey);
      if (typeof asset === 'string') {
        reject(asset, assetKey);
        continue;
      }
      if (opts.wide?.strict) {
        // Under strict, a late text key refuses its line before any of its readings is kept.
        let refused = false;
        for (const k in o) {
          if (roles.has(k)) continue;
          const got = lateKey(k, o[k]);
          if (typeof got === 'string') {
            reject(got, k.trim());
            refused = true;
            break;
          }
        }
        if (refused) continue;
      }
      // Cut the batch at whole lines when it can hold one (at most one reading per key).
      let keys = 0;
      for (const k in o) if (k !== '') keys++;
      if (b.capacity - b.length < keys) {
        const out = b.takeEncoded(opts.source);
        if (out) yield { batch: out, dict: b.dict.values };
      }
      for (const k in o) {
        const v = o[k];
        const r = roles.get(k) ?? (lateKey(k, v) as KeyRole);
        if (r.role !== SIGNAL) continue;
        const x = valueOf(v);
        if (x !== x) {
          reject(badValueReason(v), k.trim());
          continue;
        }
        if (b.full) {
          const out = b.takeEncoded(opts.source);
          if (out) yield { batch: out, dict: b.dict.values };
        }
        b.push(line, ts, t.site, asset, r.id, x, 0);
      }
    }
  }
  if (!target) {
    throw new MillwrightError('BAD_INPUT', `${opts.source}: no JSON object (the input is empty); expected one object per line with a time key and one key per signal, e.g. {"timestamp":"2024-03-01 12:00:00","pressure":7.1}`);
  }
  if (late) opts.onColumns?.(info!);
  const last = target.builder.takeEncoded(opts.source);
  if (last) yield { batch: last, dict: target.builder.dict.values };
}

