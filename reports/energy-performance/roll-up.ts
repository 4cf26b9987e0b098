/**
 * Monthly and weekly tables of an energy-performance result: the complete periods of each
 * calendar month or ISO week (plant time), baseline and reporting kept apart.
 */
import type { EnergyPerformancePeriod } from '../metrics/energy-performance.ts';

const DAY = 86_400_000;

export interface RollUpRow {
  /** Start of the month or week, epoch ms UTC. */
  start: number;
  /** `2018-10` or `2018-W41`. */
  label: string;
  period: 'baseline' | 'reporting';
  periods: number;
  actual: number;
  modelled: number;
  /** modelled − actual (for the baseline: the model's residual, not a saving). */
  savings: number;
  cumulativeSavings: number | null;
  /** actual / modelled. */
  enpi: number | null;
  production: number | null;
  /** actual / production. */
  sec: number | null;
}

function isoWeekLabel(localDay: number): string {
  const d = new Date(localDay);
  const thursday = new Date(localDay + (3 - ((d.getUTCDay() + 6) % 7)) * DAY);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/**
 * Groups complete periods by local month or ISO week.
 *
 * @example
 * rollUp(result.periods, 'month', 60); // [{ label: '2018-01', period: 'baseline', ... }, ...]
 */
export function rollUp(periods: EnergyPerformancePeriod[], by: 'month' | 'week', utcOffsetMinutes: number): RollUpRow[] {
  const offset = utcOffsetMinutes * 60_000;
  const groups = new Map<string, RollUpRow>();
  for (const p of periods) {
    if (!p.complete || p.modelled === null) continue;
    const local = p.start + offset;
    const day = Math.floor(local / DAY) * DAY;
    const d = new Date(day);
    const start = by === 'month' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) : day - ((d.getUTCDay() + 6) % 7) * DAY;
    const label = by === 'month' ? new Date(start).toISOString().slice(0, 7) : isoWeekLabel(start);
    const key = `${p.period}|${label}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { start: start - offset, label, period: p.period, periods: 0, actual: 0, modelled: 0, savings: 0, cumulativeSavings: null, enpi: null, production: null, sec: null }));
    g.periods++;
    g.actual += p.actual;
    g.modelled += p.modelled;
    if (p.production !== null) g.production = (g.production ?? 0) + p.production;
  }
  const rows = [...groups.values()].sort((a, b) => a.start - b.start || (a.period === 'baseline' ? -1 : 1));
  let cumulative = 0;
  for (const r of rows) {
    r.savings = r.modelled - r.actual;
    r.enpi = r.modelled > 0 ? r.actual / r.modelled : null;
    r.sec = r.production !== null && r.production > 0 ? r.actual / r.production : null;
    if (r.period === 'reporting') {
      cumulative += r.savings;
      r.cumulativeSavings = cumulative;
    }
  }
  return rows;
}
