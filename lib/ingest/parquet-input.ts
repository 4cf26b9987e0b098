import { readFile } from 'node:fs/promises';
import * as pw from 'parquet-wasm/node';
import { DataType, tableFromIPC, type Field, type Table, type Vector } from 'apache-arrow';
import { MillwrightError } from '../errors/index.ts';
import { BatchBuilder, type EncodedBatch } from './batch-builder.ts';
import { DEFAULT_BATCH_ROWS, type ReadOptions } from './csv.ts';
import { LocalTimeZone } from './local-time.ts';
import { NameChecker } from './names.ts';
import { checkParquetPages, type PagesReport, type SchemaNode } from './parquet-pages.ts';
import { MAX_TS, MIN_EPOCH_MS, MIN_TS, parseTimestamp } from './timestamp.ts';
import { readInt96Columns, rewriteWithDuckDb } from './int96.ts';
import { checkStrict, planWideColumns, type LeftOut } from './wide-columns.ts';

/**
 * Parquet written by other tools (Spark, Impala, pyarrow, parquet-mr, arrow-rs, a historian's
 * exporter), long or wide. Decoding is parquet-wasm's (arrow-rs: every common codec including both
 * LZ4 flavours, dictionary / delta / byte-stream-split encodings, data page v2); page CRCs are
 * verified first (parquet-pages.ts), and the whole file is decoded before the first batch is
 * handed on, so a file that fails anywhere writes nothing.
 */

const INT96 = 3;

type Cell = (i: number) => number;

function typeName(f: Field): string {
  return String(f.type);
}

function isNested(t: DataType): boolean {
  return DataType.isStruct(t) || DataType.isList(t) || DataType.isMap(t) || DataType.isUnion(t) || DataType.isFixedSizeList(t);
}

function isNumeric(t: DataType): boolean {
  return DataType.isInt(t) || DataType.isFloat(t) || DataType.isDecimal(t) || DataType.isBool(t);
}

/** A numeric column as a cell reader: NaN for null and NaN cells (the caller tells them apart). */
function numericCell(v: Vector, t: DataType): Cell {
  if (DataType.isDecimal(t)) {
    const scale = (t as unknown as { scale: number }).scale;
    return (i) => {
      const x = v.get(i);
      if (x === null || x === undefined) return NaN;
      const s = String(x);
      const neg = s.startsWith('-');
      const digits = (neg ? s.slice(1) : s).padStart(scale + 1, '0');
      const text = scale > 0 ? `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}` : digits;
      return Number(neg ? `-${text}` : text);
    };
  }
  return (i) => {
    const x = v.get(i) as number | bigint | boolean | null;
    if (x === null || x === undefined) return NaN;
    return typeof x === 'number' ? x : Number(x);
  };
}

/** Builds the timestamp reader of a column, or throws BAD_INPUT saying why it cannot be one. */
function timeCell(v: Vector, f: Field, node: SchemaNode | undefined, local: LocalTimeZone | undefined, source: string, int96?: Float64Array): { cell: Cell; problem: () => string } {
  const t = f.type;
  const none = () => '';
  if (int96) return { cell: (i) => Math.floor(int96[i]), problem: none };
  if (DataType.isTimestamp(t) || DataType.isDate(t)) {
    const zoned = DataType.isTimestamp(t) && (t as unknown as { timezone: string | null }).timezone;
    // INT96 carries no zone flag; Spark and Hive write UTC instants in it (Impala's
    // convert_legacy_hive_parquet_utc_timestamps reads them the same way).
    if (zoned || node?.type === INT96) {
      return { cell: (i) => (v.isValid(i) ? Math.floor(Number(v.get(i))) : NaN), problem: none };
    }
    if (!local) {
      throw new MillwrightError(
        'BAD_INPUT',
        `${source}: time column ${JSON.stringify(f.name)} (${typeName(f)}) holds local times without a zone (isAdjustedToUTC = false): pass --timezone ZONE to say where they were recorded`,
      );
    }
    return {
      cell: (i) => {
        if (!v.isValid(i)) return NaN;
        local.problem = '';
        return local.toUtc(Math.floor(Number(v.get(i))));
      },
      problem: () => local.problem,
    };
  }
  if (DataType.isUtf8(t) || DataType.isLargeUtf8(t)) {
    return {
      cell: (i) => {
        const s = v.get(i) as string | null;
        if (s === null) return NaN;
        if (local) local.problem = '';
        return parseTimestamp(s, 0, s.length, local);
      },
      problem: () => local?.problem ?? '',
    };
  }
  if (DataType.isInt(t) || DataType.isFloat(t)) {
    const num = numericCell(v, t);
    return { cell: (i) => {
      const ms = num(i);
      return ms >= MIN_EPOCH_MS && ms <= MAX_TS ? ms : NaN;
    }, problem: none };
  }
  throw new MillwrightError('BAD_INPUT', `${source}: time column ${JSON.stringify(f.name)} has type ${typeName(f)}; expected a timestamp, a date, ISO-8601 text or epoch milliseconds`);
}

interface Decoded {
  table: Table;
  fields: SchemaNode[];
  /** INT96 columns' times (epoch ms, NaN for null), read by DuckDB. */
  int96: Map<string, Float64Array>;
}

async function decodeFile(path: string, source: string): Promise<Decoded> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new MillwrightError('BAD_INPUT', `${source}: cannot read the file (${code ?? (err as Error).message})`);
  }
  const report = checkParquetPages(buf, source);
  try {
    const table = tableFromIPC((await readWithFallback(buf, path)).intoIPCStream());
    if (table.numRows !== report.rows) throw new Error(`decoded ${table.numRows} rows, the footer says ${report.rows}`);
    checkDictionaryUse(table, report.chunks);
    const int96Names = report.fields.filter((f) => f.type === INT96 && f.children === 0).map((f) => f.name);
    const int96 = int96Names.length > 0 ? await readInt96Columns(path, int96Names, table.numRows) : new Map<string, Float64Array>();
    return { table, fields: report.fields, int96 };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new MillwrightError('BAD_INPUT', `${source}: cannot decode the Parquet file: ${msg.replace(/^Parquet (argument )?error: /, '')}`);
  }
}

/**
 * arrow-rs refuses some valid footers outright: parquet-mr 1.12.0 pre-release builds wrote a field
 * id that later parquet.thrift versions gave another type (`dict-page-offset-zero.parquet`: "Expected
 * list element type of I64 but got I16"). Our own footer reader (parquet-pages.ts) has read the
 * footer and every page header by then and checked the page CRCs; for exactly this Thrift type
 * clash, DuckDB (whose Thrift reader skips a field of an unexpected type) rewrites the file and
 * arrow-rs decodes the rewrite. Any other decoder error still refuses the file.
 */
const FOOTER_TYPE_CLASH = /^Parquet error: Expected (list|set|map) (element|key|value) type of \w+ but got \w+$/;

async function readWithFallback(buf: Buffer, path: string): Promise<pw.Table> {
  try {
    return pw.readParquet(buf);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (!FOOTER_TYPE_CLASH.test(msg)) throw err;
    return pw.readParquet(await rewriteWithDuckDb(path));
  }
}

/**
 * A writer adds a dictionary entry only for a value it stores, so a fully dictionary-encoded
 * chunk whose dictionary has several entries must decode to several distinct values. When it
 * decodes to one, the indices are corrupt (e.g. RLE with bit width 0, apache/arrow#43605) and
 * readers silently return the first entry for every row: refuse instead.
 */
function checkDictionaryUse(table: Table, chunks: PagesReport['chunks']): void {
  for (const c of chunks) {
    if (c.dictEntries < 2 || !c.allDictionary || c.path.includes('.')) continue;
    const v = table.getChild(c.path);
    if (!v) continue;
    let first: unknown;
    let seen = false;
    let distinct = 0;
    for (let i = c.firstRow; i < c.firstRow + c.rows && distinct < 2; i++) {
      if (!v.isValid(i)) continue;
      const x = v.get(i);
      const key = x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x;
      if (!seen) {
        seen = true;
        first = key;
        distinct = 1;
      } else if (key !== first && !(Number.isNaN(key) && Number.isNaN(first))) distinct = 2;
    }
    if (distinct < 2) {
      throw new Error(
        `column ${JSON.stringify(c.path)} row group ${c.rowGroup}: its dictionary has ${c.dictEntries} entries but every value decodes to ${distinct === 0 ? 'null' : 'the same one'}: the dictionary indices are corrupt (RLE bit width 0?)`,
      );
    }
  }
}

interface Emit {
  builder: BatchBuilder;
  onReject: ReadOptions['onReject'];
  source: string;
}

function cellReject(e: Emit, row: number, column: string, value: number, isNull: boolean): void {
  e.onReject({ source: e.source, line: row, column, reason: isNull ? 'null cell (no value)' : `value ${value} is not a finite number`, raw: isNull ? 'null' : String(value) });
}

/**
 * Streams readings out of a Parquet file. `long`: columns ts, asset, signal, value (site and
 * quality optional, names case-insensitive), one reading per row. `wide`: a time column and one
 * column per signal (numbers, decimals and booleans); text, time and nested columns are left out
 * with their reason (`strict` refuses the file instead). A null or NaN cell is a reject naming its
 * row (1-based) and column, never a reading.
 *
 * @example
 * import { readParquetReadings } from 'millwright';
 * for await (const { batch, dict } of readParquetReadings('export.parquet', 'wide', {
 *   source: 'export.parquet', site: 'plant-1', wide: { asset: 'kiln-2' }, onReject: console.warn,
 * })) console.log(batch.ts.length, dict.length);
 */
export async function* readParquetReadings(
  path: string,
  mode: 'long' | 'wide',
  opts: ReadOptions,
): AsyncGenerator<{ batch: EncodedBatch; dict: readonly string[] }> {
  const decoded = await decodeFile(path, opts.source);
  const { table } = decoded;
  const local = opts.timezone === undefined ? undefined : new LocalTimeZone(opts.timezone, opts.ambiguous);
  const rows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  const plan = mode === 'wide' ? planWide(decoded, local, opts) : planLong(decoded, local, opts);
  const nPer = Math.max(1, plan.signals.length);
  const builder = new BatchBuilder(mode === 'wide' ? Math.max(nPer, Math.floor(rows / nPer) * nPer) : rows);
  const e: Emit = { builder, onReject: opts.onReject, source: opts.source };
  const site = builder.dict.id(plan.site);
  const sigIds = plan.signals.map((s) => builder.dict.id(s.name));
  const assetIds = new Map<string, number>();
  const assetChecker = new NameChecker('asset');
  const fixedAsset = plan.asset === undefined ? -1 : builder.dict.id(plan.asset);
  for (let i = 0; i < table.numRows; i++) {
    const line = i + 1;
    const ts = plan.ts.cell(i);
    if (!(ts >= MIN_TS && ts <= MAX_TS)) {
      const valid = plan.ts.vector.isValid(i);
      const shown = Number.isFinite(ts) && Math.abs(ts) <= 8.64e15 ? new Date(ts).toISOString() : String(plan.ts.vector.get(i));
      const reason = !valid ? 'null timestamp' : plan.ts.problem() || `timestamp ${shown} is outside 1900-9999 or cannot be read as a time`;
      opts.onReject({ source: opts.source, line, column: plan.ts.name, reason, raw: valid ? shown : 'null' });
      continue;
    }
    let asset = fixedAsset;
    if (plan.assetColumn) {
      const a = plan.assetColumn.vector.get(i) as string | null;
      const p = a === null ? 'null asset cell' : assetChecker.problem(a);
      if (p) {
        opts.onReject({ source: opts.source, line, column: plan.assetColumn.name, reason: p, raw: String(a) });
        continue;
      }
      asset = assetIds.get(a!) ?? builder.dict.id(a!);
      assetIds.set(a!, asset);
    }
    if (mode === 'long') {
      pushLong(e, plan, i, ts, site, asset);
    } else {
      for (let k = 0; k < plan.signals.length; k++) {
        const s = plan.signals[k];
        const v = s.cell(i);
        if (v !== v || !Number.isFinite(v)) cellReject(e, line, s.name, v, !s.vector.isValid(i));
        else builder.push(line, ts, site, asset, sigIds[k], v, 0);
      }
    }
    if (builder.capacity - builder.length < nPer) {
      const b = builder.takeEncoded(opts.source);
      if (b) yield { batch: b, dict: builder.dict.values };
    }
  }
  const last = builder.takeEncoded(opts.source);
  if (last) yield { batch: last, dict: builder.dict.values };
}

interface ColumnReader {
  name: string;
  vector: Vector;
  cell: Cell;
}

interface Plan {
  site: string;
  asset?: string;
  assetColumn?: { name: string; vector: Vector };
  ts: ColumnReader & { problem: () => string };
  signals: ColumnReader[];
  long?: { signal: { name: string; vector: Vector }; value: ColumnReader; quality?: ColumnReader; site?: { name: string; vector: Vector } };
}

function requireSite(opts: ReadOptions): string {
  if (opts.site === undefined) throw new MillwrightError('BAD_INPUT', `${opts.source}: no site column and no default site (pass --site NAME)`);
  const p = new NameChecker('site').problem(opts.site);
  if (p) throw new MillwrightError('BAD_INPUT', `--site: ${p}`);
  return opts.site;
}

function planWide({ table, fields, int96 }: Decoded, local: LocalTimeZone | undefined, opts: ReadOptions): Plan {
  const schema = table.schema.fields;
  const p = planWideColumns(schema.map((f) => f.name), opts.source, opts.wide ?? {});
  const col = (i: number) => table.getChildAt(i)!;
  const tf = schema[p.ts];
  const ts = { name: tf.name, vector: col(p.ts), ...timeCell(col(p.ts), tf, fields[p.ts], local, opts.source, int96.get(tf.name)) };
  const leftOut: LeftOut[] = [...p.leftOut];
  const signals: ColumnReader[] = [];
  for (const i of p.signals) {
    const f = schema[i];
    const t = f.type;
    if (isNumeric(t)) signals.push({ name: f.name, vector: col(i), cell: numericCell(col(i), t) });
    else if (isNested(t)) leftOut.push({ column: f.name, reason: `nested type ${typeName(f)}: only flat columns become signals` });
    else if (DataType.isUtf8(t) || DataType.isLargeUtf8(t) || DataType.isBinary(t) || DataType.isLargeBinary(t) || DataType.isFixedSizeBinary(t)) {
      leftOut.push({ column: f.name, reason: `text column (${typeName(f)})` });
    } else leftOut.push({ column: f.name, reason: `type ${typeName(f)} is not a number or a boolean` });
  }
  checkStrict(opts.source, leftOut, opts.wide?.strict);
  opts.onColumns?.({ timestamp: tf.name, signals: signals.map((s) => s.name), leftOut });
  let assetColumn: Plan['assetColumn'];
  if (p.asset >= 0) {
    const af = schema[p.asset];
    if (!DataType.isUtf8(af.type) && !DataType.isLargeUtf8(af.type)) throw new MillwrightError('BAD_INPUT', `${opts.source}: asset column ${JSON.stringify(af.name)} has type ${typeName(af)}; expected text`);
    assetColumn = { name: af.name, vector: col(p.asset) };
  }
  return { site: requireSite(opts), asset: opts.wide?.asset, assetColumn, ts, signals };
}

function planLong({ table, fields, int96 }: Decoded, local: LocalTimeZone | undefined, opts: ReadOptions): Plan {
  const schema = table.schema.fields;
  const byName = new Map<string, number>();
  schema.forEach((f, i) => {
    const n = f.name.trim().toLowerCase();
    if (byName.has(n)) throw new MillwrightError('BAD_INPUT', `${opts.source}: column "${n}" appears twice`);
    byName.set(n, i);
  });
  const expected = 'expected columns ts, asset, signal, value and optionally site and quality (or --format wide-parquet for one column per signal)';
  const need = (n: string) => {
    const i = byName.get(n);
    if (i === undefined) throw new MillwrightError('BAD_INPUT', `${opts.source}: no "${n}" column; ${expected}`);
    return i;
  };
  const text = (i: number, what: string) => {
    const f = schema[i];
    if (!DataType.isUtf8(f.type) && !DataType.isLargeUtf8(f.type)) throw new MillwrightError('BAD_INPUT', `${opts.source}: ${what} column has type ${typeName(f)}; expected text`);
    return { name: f.name, vector: table.getChildAt(i)! };
  };
  const num = (i: number, what: string): ColumnReader => {
    const f = schema[i];
    if (!isNumeric(f.type)) throw new MillwrightError('BAD_INPUT', `${opts.source}: ${what} column has type ${typeName(f)}; expected a number`);
    return { name: f.name, vector: table.getChildAt(i)!, cell: numericCell(table.getChildAt(i)!, f.type) };
  };
  const ti = need('ts');
  const ts = { name: schema[ti].name, vector: table.getChildAt(ti)!, ...timeCell(table.getChildAt(ti)!, schema[ti], fields[ti], local, opts.source, int96.get(schema[ti].name)) };
  const siteIdx = byName.get('site');
  const qIdx = byName.get('quality');
  const long = {
    signal: text(need('signal'), 'signal'),
    value: num(need('value'), 'value'),
    quality: qIdx === undefined ? undefined : num(qIdx, 'quality'),
    site: siteIdx === undefined ? undefined : text(siteIdx, 'site'),
  };
  return {
    site: long.site ? (opts.site ?? '') : requireSite(opts),
    assetColumn: text(need('asset'), 'asset'),
    ts,
    signals: [long.value],
    long,
  };
}

const signalChecker = new NameChecker('signal');
const siteChecker = new NameChecker('site');

function pushLong(e: Emit, plan: Plan, i: number, ts: number, defaultSite: number, asset: number): void {
  const l = plan.long!;
  const line = i + 1;
  const reject = (column: string, reason: string, raw: unknown) => e.onReject({ source: e.source, line, column, reason, raw: String(raw) });
  let site = defaultSite;
  if (l.site) {
    const s = l.site.vector.get(i) as string | null;
    const p = s === null ? 'null site cell' : siteChecker.problem(s);
    if (p) return reject(l.site.name, p, s);
    site = e.builder.dict.id(s!);
  }
  const g = l.signal.vector.get(i) as string | null;
  const gp = g === null ? 'null signal cell' : signalChecker.problem(g);
  if (gp) return reject(l.signal.name, gp, g);
  const v = l.value.cell(i);
  if (!Number.isFinite(v)) return cellReject(e, line, l.value.name, v, !l.value.vector.isValid(i));
  let q = 0;
  if (l.quality && l.quality.vector.isValid(i)) {
    q = l.quality.cell(i);
    if (!(Number.isInteger(q) && q >= 0 && q <= 255)) return reject(l.quality.name, `quality ${q} is not an integer 0-255`, q);
    if (q !== 0) e.builder.hasQuality = true;
  }
  e.builder.push(line, ts, site, asset, e.builder.dict.id(g!), v, q);
}

/** One column of a Parquet file as {@link inspectParquet} reads it. */
export interface ParquetColumn {
  name: string;
  /** The Arrow type parquet-wasm decoded it to, e.g. `Timestamp<NANOSECOND>`, `Decimal[4e+2]`. */
  type: string;
  /** What ingest would make of it in a wide file. */
  kind: 'number' | 'time' | 'text' | 'nested' | 'other';
  /** Cell `i`: a number (NaN kept) for numbers and booleans, epoch ms for times (wall clock when naive), text, or null. */
  value(i: number): number | string | null;
}

/**
 * Decodes a Parquet file the way ingest does (page CRCs, the decoder, the dictionary check) and
 * returns its columns without writing anything: to see what a file from another tool holds.
 *
 * @example
 * import { inspectParquet } from 'millwright';
 * const { rows, columns } = await inspectParquet('export.parquet');
 * console.log(rows, columns.map((c) => `${c.name}: ${c.kind}`));
 */
export async function inspectParquet(path: string, source = path): Promise<{ rows: number; columns: ParquetColumn[] }> {
  const { table, int96 } = await decodeFile(path, source);
  const columns = table.schema.fields.map((f, idx): ParquetColumn => {
    const v = table.getChildAt(idx)!;
    const t = f.type;
    const base = { name: f.name, type: typeName(f) };
    const i96 = int96.get(f.name);
    if (i96) return { ...base, type: 'INT96', kind: 'time', value: (i) => (Number.isNaN(i96[i]) ? null : Math.floor(i96[i])) };
    if (isNumeric(t)) {
      const cell = numericCell(v, t);
      return { ...base, kind: 'number', value: (i) => (v.isValid(i) ? cell(i) : null) };
    }
    if (DataType.isTimestamp(t) || DataType.isDate(t)) return { ...base, kind: 'time', value: (i) => (v.isValid(i) ? Math.floor(Number(v.get(i))) : null) };
    if (DataType.isUtf8(t) || DataType.isLargeUtf8(t)) return { ...base, kind: 'text', value: (i) => v.get(i) as string | null };
    if (DataType.isBinary(t) || DataType.isLargeBinary(t) || DataType.isFixedSizeBinary(t)) {
      return { ...base, kind: 'text', value: (i) => (v.isValid(i) ? Buffer.from(v.get(i) as Uint8Array).toString('utf8') : null) };
    }
    return { ...base, kind: isNested(t) ? 'nested' : 'other', value: (i) => (v.isValid(i) ? JSON.stringify(v.get(i)) : null) };
  });
  return { rows: table.numRows, columns };
}
