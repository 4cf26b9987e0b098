import type { SourceReading } from './source.ts';
import { closestName } from './assets.ts';

/** What {@link screenReadings} checks against. */
export interface ScreenRules {
  /** Gateway clock, epoch ms. */
  now: number;
  /** Readings stamped more than this ahead of `now` are refused (clock skew). */
  maxFutureSkew: number;
  /** When given, the only asset names accepted. */
  knownAssets?: ReadonlySet<string>;
}

/** Refused readings of one asset, signal and reason. */
export interface RejectGroup {
  asset?: string;
  signal?: string;
  why: string;
  n: number;
}

const MIN_TS = Date.UTC(1900, 0, 1);

const name = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Why a reading cannot be stored, or undefined when it can. */
export function rejectReason(r: SourceReading, rules: ScreenRules): string | undefined {
  if (!name(r.asset) || !name(r.signal)) return 'asset and signal must be non-empty names';
  if (typeof r.value !== 'number' || !Number.isFinite(r.value)) return `value ${String(r.value)} is not a finite number`;
  if (typeof r.ts !== 'number' || !Number.isFinite(r.ts) || r.ts < MIN_TS) return `time stamp ${String(r.ts)} is not epoch milliseconds after 1900`;
  if (r.ts > rules.now + rules.maxFutureSkew) return `time stamp ${new Date(r.ts).toISOString()} is more than ${rules.maxFutureSkew} ms ahead of the gateway clock (clock skew)`;
  if (rules.knownAssets && !rules.knownAssets.has(r.asset)) {
    const hint = closestName(r.asset, rules.knownAssets);
    return `asset "${r.asset}" is not in the asset model${hint ? ` (did you mean ${hint}?)` : ''}`;
  }
  return undefined;
}

/**
 * Splits readings into those the store may take and groups of refused ones (one group per asset,
 * signal and kind of reason, so a flood of NaN becomes one event with a count, not one per value).
 */
export function screenReadings(readings: SourceReading[], rules: ScreenRules): { good: SourceReading[]; rejects: RejectGroup[] } {
  const good: SourceReading[] = [];
  const groups = new Map<string, RejectGroup>();
  for (const r of readings) {
    const why = rejectReason(r, rules);
    if (why === undefined) {
      good.push(r);
      continue;
    }
    // Numbers and time stamps vary per reading; the kind of reason does not.
    const key = `${String(r.asset)}\u0000${String(r.signal)}\u0000${why.replace(/[-\d.:TZ]+/g, '#')}`;
    const g = groups.get(key);
    if (g) g.n++;
    else groups.set(key, { asset: name(r.asset), signal: name(r.signal), why, n: 1 });
  }
  return { good, rejects: [...groups.values()] };
}
