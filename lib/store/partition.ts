import { join, relative, resolve, isAbsolute } from 'node:path';
import { MillwrightError } from '../errors/index.ts';

/** Milliseconds in one UTC day: partitions are cut on UTC midnight. */
export const DAY_MS = 86_400_000;

/** Kinds of Hive partition value in the store layout. */
export type PartitionKind = 'site' | 'date';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
// Control characters (C0, DEL, C1) and the characters that would change the meaning of a path
// or of a Hive `key=value` segment. `%` is refused because Hive-style readers (DuckDB, Spark)
// URL-decode partition values, so `a%2Fb` would be read back as a different site.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/;
const MAX_VALUE_LENGTH = 200;

/**
 * Checks one partition value (a site name or a `YYYY-MM-DD` date) before it becomes a directory
 * name, so that no input can write outside the store root. Refuses empty names, `.` and `..`,
 * `/`, `\`, control characters, `=` and `%` (ambiguous in Hive paths), and names longer than
 * 200 characters; dates must be real calendar dates in `YYYY-MM-DD` form.
 *
 * @throws MillwrightError('BAD_INPUT') saying what was wrong and what is expected.
 * @example
 * validatePartitionValue('site', 'plant-1'); // ok, returns 'plant-1'
 * validatePartitionValue('site', '../etc');  // throws BAD_INPUT
 */
export function validatePartitionValue(kind: PartitionKind, value: unknown): string {
  const expected =
    kind === 'date'
      ? 'expected a UTC date as YYYY-MM-DD'
      : 'expected a non-empty name without "/", "\\", "..", "=", "%" or control characters';
  const bad = (why: string): MillwrightError =>
    new MillwrightError('BAD_INPUT', `invalid ${kind} partition value ${JSON.stringify(value)}: ${why} (${expected})`, {
      details: { kind, value },
    });
  if (typeof value !== 'string') throw bad(`must be a string, got ${value === null ? 'null' : typeof value}`);
  if (value.length === 0) throw bad('it is empty');
  if (value.trim().length === 0) throw bad('it is only whitespace');
  if (value === '.' || value === '..') throw bad('it is a relative path segment');
  if (value.includes('..')) throw bad('it contains ".."');
  if (value.includes('/')) throw bad('it contains "/"');
  if (value.includes('\\')) throw bad('it contains "\\"');
  if (CONTROL_RE.test(value)) throw bad('it contains a control character');
  if (value.includes('=')) throw bad('it contains "="');
  if (value.includes('%')) throw bad('it contains "%"');
  if (value.length > MAX_VALUE_LENGTH) throw bad(`it is longer than ${MAX_VALUE_LENGTH} characters`);
  if (kind === 'date') {
    const m = DATE_RE.exec(value);
    if (!m) throw bad('it is not in YYYY-MM-DD form');
    const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    if (dateOfDay(Math.floor(t / DAY_MS)) !== value) throw bad('it is not a calendar date');
  }
  return value;
}

/** UTC day number (days since 1970-01-01) → `YYYY-MM-DD`. */
export function dateOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD` → UTC day number. */
export function dayOfDate(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

/**
 * Directory of one partition: `<root>/site=<site>/date=<YYYY-MM-DD>`. Both values are validated
 * and the result is checked to lie inside `root` (belt and braces against path tricks).
 */
export function partitionDir(root: string, site: string, date: string): string {
  validatePartitionValue('site', site);
  validatePartitionValue('date', date);
  const base = resolve(root);
  const dir = join(base, `site=${site}`, `date=${date}`);
  const rel = relative(base, dir);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw new MillwrightError('BAD_INPUT', `partition site=${site}/date=${date} would lie outside the store root ${base}`);
  }
  return dir;
}

/** True for a finished data file (`part-*.parquet`); temp files start with `.` and are ignored. */
export function isPartFile(name: string): boolean {
  return name.startsWith('part-') && name.endsWith('.parquet');
}
