/**
 * The energy baseline (ISO 50006's EnB): energy per period as a linear function of its relevant
 * variables, with the degree-day balance points searched the way CalTRACK does it: every
 * candidate balance point on a grid, a degree-day term kept only when its coefficient is positive
 * and significant (p < 0.1) with enough periods behind it (at least 10 with non-zero degree-days,
 * 20 degree-days in all), and the candidate with the best adjusted R² chosen.
 */
import { degreeDays, type Granularity, type Period } from './periods.ts';
import { ols, type OlsFit, type Regressor } from './ols.ts';

/** A shift of the day, by local hours [from, to) (to < from wraps past midnight). */
export interface Shift {
  name: string;
  from: number;
  to: number;
}

/** What the baseline model may use. Fixed from the baseline period, then applied to the reporting period. */
export interface BaselineSpec {
  granularity: Granularity;
  production: boolean;
  temperature: boolean;
  /** Day-type (Saturday, Sunday) terms, and hour-of-day or shift terms for hourly periods. */
  calendar: boolean;
  shifts?: Shift[];
  drivers: string[];
  /** Non-reference levels per categorical driver (the most frequent baseline level is the reference). */
  levels: Record<string, string[]>;
  /** Balance-point grids (in the temperature's unit). */
  heatingGrid: number[];
  coolingGrid: number[];
  /** A degree-day term must have p below this to be kept (CalTRACK: 0.1). */
  pMax: number;
}

/** Balance points of the chosen model (absent: that term is not in the model). */
export interface BalancePoints {
  heating?: number;
  cooling?: number;
}

/** The chosen baseline model and how it was chosen. */
export interface BaselineModel {
  fit: OlsFit;
  balance: BalancePoints;
  candidates: number;
  qualifying: number;
  selection: string;
}

function shiftOf(hour: number, shifts: Shift[]): string | undefined {
  return shifts.find((s) => (s.from <= s.to ? hour >= s.from && hour < s.to : hour >= s.from || hour < s.to))?.name;
}

/** The regressor columns of `periods` under `spec` and balance points `balance`. */
export function regressorsFor(periods: Period[], spec: BaselineSpec, balance: BalancePoints): Regressor[] {
  const n = periods.length;
  const col = (name: string, f: (p: Period) => number): Regressor => ({ name, values: Float64Array.from(periods, f) });
  const out: Regressor[] = [];
  if (spec.production) out.push(col('production', (p) => p.production ?? Number.NaN));
  if (balance.heating !== undefined) out.push(col('hdd', (p) => degreeDays(p, balance.heating!, 'heating')));
  if (balance.cooling !== undefined) out.push(col('cdd', (p) => degreeDays(p, balance.cooling!, 'cooling')));
  if (spec.calendar && (spec.granularity === 'day' || spec.granularity === 'hour')) {
    out.push(col('saturday', (p) => (p.weekday === 5 ? 1 : 0)), col('sunday', (p) => (p.weekday === 6 ? 1 : 0)));
    if (spec.granularity === 'hour') {
      if (spec.shifts?.length) {
        for (const s of spec.shifts.slice(1)) out.push(col(`shift:${s.name}`, (p) => (shiftOf(p.hour, spec.shifts!) === s.name ? 1 : 0)));
      } else {
        for (let h = 1; h < 24; h++) out.push(col(`hour:${String(h).padStart(2, '0')}`, (p) => (p.hour === h ? 1 : 0)));
      }
    }
  }
  for (const [c, levels] of Object.entries(spec.levels)) for (const level of levels) out.push(col(`${c}=${level}`, (p) => p.shares[c]?.[level] ?? 0));
  for (const d of spec.drivers) out.push(col(d, (p) => p.drivers[d] ?? Number.NaN));
  if (out.some((r) => r.values.length !== n)) throw new Error('regressorsFor: length mismatch');
  return out;
}

/**
 * CalTRACK's sufficiency rule for a degree-day term: at least 10 periods with non-zero degree-days
 * and at least 20 degree-days in all, so a balance point at the edge of the data (a handful of hot
 * days) cannot fit noise with a steep slope.
 */
const MIN_NONZERO_PERIODS = 10;
const MIN_TOTAL_DEGREE_DAYS = 20;

function sufficient(regressors: Regressor[], term: string): boolean {
  const values = regressors.find((r) => r.name === term)?.values ?? new Float64Array();
  let nonzero = 0;
  let total = 0;
  for (const v of values) {
    if (v > 0) nonzero++;
    total += v;
  }
  return nonzero >= MIN_NONZERO_PERIODS && total >= MIN_TOTAL_DEGREE_DAYS;
}

function qualifies(fit: OlsFit, regressors: Regressor[], terms: string[], pMax: number): boolean {
  return terms.every((t) => {
    const j = fit.terms.indexOf(t);
    return j >= 0 && fit.coefficients[j]! > 0 && fit.pValues[j]! < pMax && sufficient(regressors, t);
  });
}

/**
 * Fits every candidate (no degree-days; heating only, cooling only, both with heating ≤ cooling
 * balance point, over the grids) on the baseline periods and keeps the qualifying one with the
 * highest adjusted R². Without a temperature the model has no degree-day terms.
 *
 * @example
 * const model = selectBaselineModel(baselineDays, spec);
 * model.balance; // { heating: 15.5 }
 */
export function selectBaselineModel(periods: Period[], spec: BaselineSpec): BaselineModel {
  const y = Float64Array.from(periods, (p) => p.energy);
  const candidates: BalancePoints[] = [{}];
  if (spec.temperature) {
    for (const h of spec.heatingGrid) candidates.push({ heating: h });
    for (const c of spec.coolingGrid) candidates.push({ cooling: c });
    for (const h of spec.heatingGrid) for (const c of spec.coolingGrid) if (h <= c) candidates.push({ heating: h, cooling: c });
  }
  let best: { fit: OlsFit; balance: BalancePoints } | undefined;
  let qualifying = 0;
  for (const balance of candidates) {
    const regressors = regressorsFor(periods, spec, balance);
    const dd = [...(balance.heating !== undefined ? ['hdd'] : []), ...(balance.cooling !== undefined ? ['cdd'] : [])];
    if (dd.length && !dd.every((t) => sufficient(regressors, t))) continue;
    const fit = ols(regressors, y);
    if (dd.length && !qualifies(fit, regressors, dd, spec.pMax)) continue;
    qualifying++;
    if (!best || fit.adjustedR2 > best.fit.adjustedR2) best = { fit, balance };
  }
  // The candidate without degree-days always qualifies, so best is set.
  const chosen = best!;
  const selection = !spec.temperature
    ? 'no temperature given: no degree-day terms'
    : chosen.balance.heating === undefined && chosen.balance.cooling === undefined
      ? `no degree-day term was positive and significant (p < ${spec.pMax}) at any balance point: none used`
      : `best adjusted R² among ${qualifying} qualifying candidates (degree-day coefficients positive, p < ${spec.pMax}, at least ${MIN_NONZERO_PERIODS} periods and ${MIN_TOTAL_DEGREE_DAYS} degree-days behind each)`;
  return { ...chosen, candidates: candidates.length, qualifying, selection };
}
