import { open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from '../store/duckdb.ts';
import { DAY_MS, dateOfDay, partitionDir } from '../store/partition.ts';
import { fsyncDir, mkdirDurable, uniqueId } from '../durable/index.ts';
import { MillwrightError } from '../errors/index.ts';
import { parseHeader, splitQuoted } from './csv.ts';
import { nameProblem } from './names.ts';
import { parseTimestamp } from './timestamp.ts';
import { STORE_ARROW_SCHEMA } from './store-arrow-schema.ts';

/** DuckDB's memory limit for one ingest: a 10M-reading sort spills rather than passing 512 MiB of RSS. */
const MEMORY_LIMIT = '256MB';

/** What the DuckDB path wrote, or why it handed the input back to the JS reader. */
export type DuckdbCsvOutcome = { files: string[]; rows: number } | { fallback: string };

const ROLE = { ts: 0, site: 1, asset: 2, signal: 3, value: 4, quality: 5 } as const;
// Marks the errors this module raises on purpose inside the query (a row it cannot vouch for).
const GIVE_UP = 'millwright-fast-path:';

// The timestamps DuckDB reads exactly as parseTimestamp does: ISO with seconds, at most 6 fraction
// digits (DuckDB keeps microseconds; 7-9 digits could round up across a millisecond), `Z` or ±HH:MM.
const TS_RE = '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})';

/**
 * Ingests one plain long-form CSV file with DuckDB's multi-threaded CSV reader, when every row
 * is one that the JS reader would accept and read to the same reading, and the file holds one
 * (site, date) partition: then the store gets one file sorted by (asset, signal, ts) with the
 * JS writer's schema and the input is done. Anything else (a row that would be a reject, a
 * quoted field spanning lines, a second partition, conflicting duplicates whose stored order
 * would depend on input order, a header to complain about) returns `{ fallback }` before
 * anything is renamed into the store, and the caller reads the file with the JS reader, which
 * then produces exactly today's rejects and files. The rows DuckDB cannot vouch for abort the
 * query at once (an `error()` in the projection), so a dirty file costs little extra.
 */
export async function ingestCsvWithDuckdb(path: string, root: string, opts: { source: string; site?: string }): Promise<DuckdbCsvOutcome> {
  const head = await firstLines(path);
  if (!head) return { fallback: 'no header and first row in the first 64 KiB' };
  const [headerLine, firstRow] = head;
  if (headerLine.includes('"') || headerLine.charCodeAt(0) === 0xfeff) return { fallback: 'quotes or BOM in the header' };
  let roles: number[];
  try {
    roles = parseHeader(headerLine, opts.source, opts.site);
  } catch {
    return { fallback: 'header refused (the JS reader reports it)' };
  }
  const col = new Array<number>(6).fill(-1);
  roles.forEach((role, idx) => (col[role] = idx));
  // The partition of the first row: every other row must share it (checked in the query).
  const fields = splitQuoted(firstRow);
  if (!Array.isArray(fields) || fields.length !== roles.length) return { fallback: 'first row not plain' };
  const site = col[ROLE.site] >= 0 ? fields[col[ROLE.site]] : opts.site;
  if (site === undefined || nameProblem('site', site) !== undefined) return { fallback: 'site of the first row' };
  const t0 = parseTimestamp(fields[col[ROLE.ts]]);
  if (t0 !== t0) return { fallback: 'timestamp of the first row' };
  const day = Math.floor(t0 / DAY_MS);
  const dir = partitionDir(root, site, dateOfDay(day));

  const c = (role: number) => `c${col[role]}`;
  const give = (why: string) => `error(${sqlString(`${GIVE_UP} ${why}`)})`;
  const columns = roles.map((_, i) => `'c${i}': 'VARCHAR'`).join(', ');
  const ts = c(ROLE.ts);
  // GLOB (no regex engine) for the two forms exports write most, the regex for the others; then
  // the ranges a pattern cannot say (DuckDB reads 24:00:00 as the next midnight, offsets up to 24h).
  const D = '[0-9]';
  const headGlob = `${D}${D}${D}${D}-${D}${D}-${D}${D}[T ][0-2]${D}:[0-5]${D}:[0-5]${D}`;
  const shapeOk = `(${ts} GLOB '${headGlob}.${D}${D}${D}Z' OR ${ts} GLOB '${headGlob}Z' OR regexp_full_match(${ts}, ${sqlString(TS_RE)}))`;
  const offsetOk = `(ends_with(${ts}, 'Z') OR (substr(${ts}, -5, 2) <= '23' AND right(${ts}, 2) <= '59'))`;
  const tsOk = `${shapeOk} AND substr(${ts}, 12, 2) <= '23' AND ${offsetOk}`;
  const us = `epoch_us(TRY_CAST(CASE WHEN ${tsOk} THEN ${ts} END AS TIMESTAMPTZ))`;
  const v = c(ROLE.value);
  // DuckDB's double cast also takes surrounding blanks and `1_000`: only plain number text goes in
  // (first character a digit, sign or dot, last a digit or dot; ASCII codes, as IN lists become joins).
  const first = `ascii(${v})`;
  const last = `ascii(right(${v}, 1))`;
  const value =
    `TRY_CAST(CASE WHEN strlen(${v}) <= 64 AND ((${first} BETWEEN 48 AND 57) OR ${first} = 45 OR ${first} = 43 OR ${first} = 46) ` +
    `AND ((${last} BETWEEN 48 AND 57) OR ${last} = 46) AND NOT contains(${v}, '_') AND NOT contains(${v}, ' ') THEN ${v} END AS DOUBLE)`;
  const q = col[ROLE.quality] >= 0 ? c(ROLE.quality) : undefined;
  const quality = q
    ? `CASE WHEN ${q} IS NULL THEN 0::UTINYINT WHEN regexp_full_match(${q}, '[0-9]{1,3}') AND ${q}::INTEGER <= 255 THEN ${q}::UTINYINT ELSE ${give('quality')} END`
    : '0::UTINYINT';
  const siteOk = col[ROLE.site] >= 0 ? `${c(ROLE.site)} = ${sqlString(site)}` : 'true';
  const from = day * DAY_MS;
  const select =
    `SELECT CASE WHEN ms >= ${from} AND ms < ${from + DAY_MS} AND ${siteOk} THEN epoch_ms(ms)::TIMESTAMP_MS ELSE ${give('timestamp or partition')} END AS ts, ` +
    `coalesce(${c(ROLE.asset)}, ${give('asset')}) AS asset, coalesce(${c(ROLE.signal)}, ${give('signal')}) AS signal, ` +
    `CASE WHEN isfinite(v) THEN v ELSE ${give('value')} END AS "value", ${quality} AS quality ` +
    `FROM (SELECT *, (us - ((us % 1000) + 1000) % 1000) // 1000 AS ms FROM (SELECT *, ${us} AS us, ${value} AS v FROM read_csv(${sqlString(path)}, ` +
    `header = false, skip = 1, auto_detect = false, delim = ',', quote = '"', escape = '"', strict_mode = true, ` +
    `store_rejects = true, rejects_table = 'mw_rejects', rejects_scan = 'mw_rejects_scan', columns = {${columns}})))`;

  await mkdirDurable(root);
  const tmp = join(root, `.ingest-${uniqueId()}.parquet.tmp`);
  // An instance of its own: a memory limit (the sort spills to a temp directory beside the store
  // instead of growing the process past it) without changing the process-wide instance's settings.
  const spill = join(root, `.ingest-spill-${uniqueId()}`);
  const db = await DuckDBInstance.create(':memory:', { memory_limit: MEMORY_LIMIT, temp_directory: spill });
  const conn = await db.connect();
  try {
    try {
      await conn.run(
        `COPY (${select} ORDER BY asset, signal, ts) TO ${sqlString(tmp)} ` +
          `(FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 3, ROW_GROUP_SIZE 65536, KV_METADATA {'ARROW:schema': ${sqlString(STORE_ARROW_SCHEMA)}})`,
      );
    } catch (err) {
      const msg = (err as Error).message;
      if (msg.includes(GIVE_UP)) return { fallback: msg.slice(msg.indexOf(GIVE_UP) + GIVE_UP.length).trim().split('\n')[0] };
      // A malformed line that DuckDB's parser cannot get past, a bad encoding, a quote spanning lines.
      if (/CSV|Invalid Input|Conversion|unicode|UTF-8/i.test(msg)) return { fallback: `DuckDB: ${msg.split('\n')[0]}` };
      throw err;
    }
    const rejected = Number((await conn.runAndReadAll('SELECT count(*) FROM mw_rejects')).getRows()[0][0]);
    if (rejected > 0) return { fallback: `${rejected} line(s) the CSV reader set aside` };
    // One pass over the sorted file in stored order: each distinct name appears where it starts,
    // and readings sharing (asset, signal, ts) are neighbours. Ties are stored in input order by
    // the JS writer (compact keeps the later one); DuckDB's sort is not stable, so tied readings
    // that differ (or any tie with a zero value, which might be -0) go the JS way.
    const f = `read_parquet(${sqlString(tmp)})`;
    const check = (
      await conn.runAndReadAll(
        `SELECT list(asset) FILTER (WHERE pa IS DISTINCT FROM asset), list(signal) FILTER (WHERE pa IS DISTINCT FROM asset OR ps IS DISTINCT FROM signal), ` +
          `count(*) FILTER (WHERE pts = ts AND pa = asset AND ps = signal AND (pv <> "value" OR pq <> quality OR "value" = 0)), count(*) ` +
          `FROM (SELECT asset, signal, ts, "value", quality, lag(asset) OVER () AS pa, lag(signal) OVER () AS ps, lag(ts) OVER () AS pts, ` +
          `lag("value") OVER () AS pv, lag(quality) OVER () AS pq FROM ${f})`,
      )
    ).getRows()[0];
    const assets = (check[0] as { items: string[] } | null)?.items ?? [];
    const signals = (check[1] as { items: string[] } | null)?.items ?? [];
    if (assets.some((a) => nameProblem('asset', a) !== undefined) || signals.some((s) => nameProblem('signal', s) !== undefined)) return { fallback: 'an asset or signal name the JS reader rejects' };
    // DuckDB sorts names by UTF-8 bytes, the store by UTF-16 code units: the same below U+D800.
    if ([...assets, ...signals].some((s) => /[\ud800-\uffff]/.test(s))) return { fallback: 'names whose UTF-8 and UTF-16 orders may differ' };
    if (Number(check[2]) > 0) return { fallback: 'readings sharing (asset, signal, ts) with different values' };
    const rows = Number(check[3]);
    if (rows === 0) return { files: [], rows: 0 };
    await markTsUtc(tmp);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await mkdirDurable(dir);
    const file = join(dir, `part-${uniqueId()}.parquet`);
    await rename(tmp, file);
    await fsyncDir(dir);
    return { files: [file], rows };
  } finally {
    conn.closeSync();
    db.closeSync();
    await rm(tmp, { force: true });
    await rm(spill, { recursive: true, force: true });
  }
}

/** The first two lines of a file (CR stripped), or undefined when they are not in its first 64 KiB. */
async function firstLines(path: string): Promise<[string, string] | undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(65536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    const a = text.indexOf('\n');
    const b = a < 0 ? -1 : text.indexOf('\n', a + 1);
    if (b < 0) return undefined;
    const strip = (s: string) => (s.endsWith('\r') ? s.slice(0, -1) : s);
    const header = strip(text.slice(0, a));
    const row = strip(text.slice(a + 1, b));
    if (header === '' || row === '') return undefined;
    return [header, row];
  } finally {
    await fh.close();
  }
}

/**
 * DuckDB writes TIMESTAMP_MS as `TIMESTAMP(MILLIS, isAdjustedToUTC = false)`; store files say
 * `true` (UTC instants, read back as TIMESTAMPTZ). In the footer's Thrift compact encoding that
 * flag is the type nibble of one field header (2 = false, 1 = true) right before the MILLIS unit,
 * so it is flipped in place: same length, no offset moves. Exactly one match, or the file is refused.
 */
async function markTsUtc(file: string): Promise<void> {
  const size = (await stat(file)).size;
  const fh = await open(file, 'r+');
  try {
    const tail = Buffer.alloc(8);
    await fh.read(tail, 0, 8, size - 8);
    if (tail.toString('latin1', 4) !== 'PAR1') throw new MillwrightError('INTERNAL', `${file}: not a Parquet file`);
    const len = tail.readInt32LE(0);
    const footer = Buffer.alloc(len);
    await fh.read(footer, 0, len, size - 8 - len);
    // TimestampType{1: isAdjustedToUTC bool false, 2: unit TimeUnit{1: MILLIS{}}}
    const pattern = Buffer.from([0x12, 0x1c, 0x1c, 0x00, 0x00, 0x00]);
    const at = footer.indexOf(pattern);
    if (at < 0 || footer.indexOf(pattern, at + 1) >= 0) throw new MillwrightError('INTERNAL', `${file}: cannot find the one ts logical type in DuckDB's footer`);
    await fh.write(Buffer.from([0x11]), 0, 1, size - 8 - len + at);
  } finally {
    await fh.close();
  }
}
