import { MillwrightError } from '../errors/index.ts';

/** Which readings to read. Every filter is optional; omitted means "all". */
export interface StoreFilter {
  /** Store root directory. */
  root: string;
  /** Sites to read (one name or a list). */
  sites?: string | readonly string[];
  /** Assets to read. */
  assets?: string | readonly string[];
  /** Signals to read. */
  signals?: string | readonly string[];
  /** Start, inclusive: epoch ms, a Date, or an ISO string (no zone = UTC). */
  from?: number | Date | string;
  /** End, exclusive: epoch ms, a Date, or an ISO string (no zone = UTC). */
  to?: number | Date | string;
}

/** {@link StoreFilter} normalised: lists as sets, times as epoch ms. */
export interface NormalFilter {
  root: string;
  sites?: Set<string>;
  assets?: Set<string>;
  signals?: Set<string>;
  from?: number;
  to?: number;
}

function toSet(name: string, v: string | readonly string[] | undefined): Set<string> | undefined {
  if (v === undefined) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
    throw new MillwrightError('BAD_INPUT', `${name} must be a string or a list of strings, got ${JSON.stringify(v)}`);
  }
  return new Set(list);
}

/** Epoch ms from a number, Date or ISO string; strings without a zone are taken as UTC. */
export function toEpochMs(name: string, v: number | Date | string): number {
  let t: number;
  if (typeof v === 'number') t = v;
  else if (v instanceof Date) t = v.getTime();
  else if (typeof v === 'string') {
    const s = v.trim();
    const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(s);
    t = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) || hasZone ? s : `${s}Z`);
  } else t = NaN;
  if (!Number.isFinite(t)) {
    throw new MillwrightError('BAD_INPUT', `${name} ${JSON.stringify(v)} is not a time (expected epoch ms, a Date or an ISO 8601 string)`);
  }
  return t;
}

/** Validates and normalises a filter. */
export function normalFilter(f: StoreFilter): NormalFilter {
  if (f === null || typeof f !== 'object' || typeof f.root !== 'string' || f.root === '') {
    throw new MillwrightError('BAD_INPUT', 'root must be the store directory (a non-empty string)');
  }
  const out: NormalFilter = {
    root: f.root,
    sites: toSet('sites', f.sites),
    assets: toSet('assets', f.assets),
    signals: toSet('signals', f.signals),
    from: f.from === undefined ? undefined : toEpochMs('from', f.from),
    to: f.to === undefined ? undefined : toEpochMs('to', f.to),
  };
  if (out.from !== undefined && out.to !== undefined && out.from > out.to) {
    throw new MillwrightError('BAD_INPUT', `from (${new Date(out.from).toISOString()}) is after to (${new Date(out.to).toISOString()})`);
  }
  return out;
}
