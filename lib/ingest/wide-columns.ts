import { MillwrightError } from '../errors/index.ts';
import { nameProblem } from './names.ts';

/** How a wide input (one row per time, one column per signal) maps onto readings. */
export interface WideOptions {
  /** The time column (default: the first named ts, timestamp, time or datetime, any case). */
  timestampColumn?: string;
  /** The asset every reading of the file belongs to. Give this or {@link assetColumn}. */
  asset?: string;
  /** A column holding each row's asset. */
  assetColumn?: string;
  /** Columns that are neither time, asset nor signal (an index column, a comment). */
  skipColumns?: string[];
  /** Refuse the file when a column has to be left out (text, nested, unnamed) instead of reporting it. */
  strict?: boolean;
  /** CSV field separator (default: `,`, or `;` / tab when the header has those and no comma). */
  delimiter?: string;
}

/** A column that did not become a signal, and why. */
export interface LeftOut {
  column: string;
  reason: string;
}

/** How an input's columns were read (reported in the ingest summary). */
export interface ColumnsInfo {
  timestamp: string;
  signals: string[];
  leftOut: LeftOut[];
}

/** Names that mark the time column when none is given (case-insensitive, first wins). */
export const TIMESTAMP_NAMES = ['ts', 'timestamp', 'time', 'datetime'] as const;

/** The resolved column roles of a wide header. */
export interface WidePlan {
  names: string[];
  ts: number;
  /** Index of the asset column, or -1 when the asset is fixed. */
  asset: number;
  /** Candidate signal columns (indexes into names), before text columns are left out. */
  signals: number[];
  leftOut: LeftOut[];
}

/**
 * Assigns the roles of a wide header: time column, asset column, skipped columns and signal
 * columns. A duplicated name refuses the file (two columns claiming one signal cannot both be
 * right, and renaming one would invent a signal nobody asked for); so does a named column that is
 * not there. A column without a name, or whose name is not a valid signal name, is left out.
 */
export function planWideColumns(header: string[], source: string, opts: WideOptions): WidePlan {
  const names = header.map((h) => h.trim());
  const seen = new Map<string, number>();
  names.forEach((n, i) => {
    if (n === '') return;
    const first = seen.get(n);
    if (first !== undefined) {
      throw new MillwrightError(
        'BAD_INPUT',
        `${source}: column ${JSON.stringify(n)} appears twice in the header (columns ${first + 1} and ${i + 1}); rename one of them, or skip it with --skip-columns (which skips both)`,
      );
    }
    seen.set(n, i);
  });
  const list = `the columns are ${names.map((n) => JSON.stringify(n)).join(', ')}`;
  const find = (name: string, flag: string) => {
    const i = seen.get(name.trim());
    if (i === undefined) throw new MillwrightError('BAD_INPUT', `${source}: ${flag} ${JSON.stringify(name)} is not a column; ${list}`);
    return i;
  };
  let ts: number;
  if (opts.timestampColumn !== undefined) ts = find(opts.timestampColumn, '--timestamp-column');
  else {
    ts = names.findIndex((n) => (TIMESTAMP_NAMES as readonly string[]).includes(n.toLowerCase()));
    if (ts < 0) throw new MillwrightError('BAD_INPUT', `${source}: no time column (expected one named ts, timestamp, time or datetime, or pass --timestamp-column NAME); ${list}`);
  }
  if ((opts.asset === undefined) === (opts.assetColumn === undefined)) {
    throw new MillwrightError('USAGE', 'a wide input needs exactly one of --asset NAME (every row) and --asset-column NAME (per row)');
  }
  if (opts.asset !== undefined) {
    const p = nameProblem('asset', opts.asset);
    if (p) throw new MillwrightError('USAGE', `--asset: ${p}`);
  }
  const asset = opts.assetColumn !== undefined ? find(opts.assetColumn, '--asset-column') : -1;
  const skip = new Set((opts.skipColumns ?? []).map((c) => find(c, '--skip-columns names')));
  const signals: number[] = [];
  const leftOut: LeftOut[] = [];
  names.forEach((n, i) => {
    if (i === ts || i === asset || skip.has(i)) return;
    if (n === '') leftOut.push({ column: `#${i + 1}`, reason: `column ${i + 1} has no name in the header` });
    else {
      const p = nameProblem('signal', n);
      if (p) leftOut.push({ column: n, reason: p });
      else signals.push(i);
    }
  });
  return { names, ts, asset, signals, leftOut };
}

/** Throws (for `strict`) when columns were left out; otherwise does nothing. */
export function checkStrict(source: string, leftOut: readonly LeftOut[], strict: boolean | undefined): void {
  if (!strict || leftOut.length === 0) return;
  const what = leftOut.map((l) => `${JSON.stringify(l.column)} (${l.reason})`).join('; ');
  throw new MillwrightError('BAD_INPUT', `${source}: --strict: ${leftOut.length} column(s) cannot be read as signals: ${what}; skip them with --skip-columns or drop --strict`);
}
