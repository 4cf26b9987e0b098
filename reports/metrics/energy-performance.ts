/**
 * ISO 50006-style energy performance: an energy baseline fitted on a baseline period, energy
 * performance indicators, and savings over a reporting period with CUSUM and ASHRAE Guideline 14
 * uncertainty, with baseline adjustments for static factors that changed (a new line, a rebuilt
 * furnace). `reference` is the baseline period, `current` the reporting period.
 */
import type { Frame } from '../data.ts';
import type { CheckResult, Metric, MetricResult } from '../engine.ts';
import { num } from '../engine.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { periodAdjective, toPeriods, type Granularity, type Period, type PeriodColumns } from '../energy-performance/periods.ts';
import { regressorsFor, selectBaselineModel, type BalancePoints, type BaselineSpec, type Shift } from '../energy-performance/baseline-model.ts';
import { predictOls } from '../energy-performance/ols.ts';
import { lag1Autocorrelation, savingsUncertainty } from '../energy-performance/savings.ts';
import { guideline14Verdict, type Guideline14Verdict } from '../energy-performance/guideline14.ts';
import { rollUp, type RollUpRow } from '../energy-performance/roll-up.ts';

/**
 * A static-factor change recorded during the reporting period (ISO 50015's non-routine
 * adjustment): from `from` on, the adjusted baseline is `baseline × factor + perDay × days`.
 */
export interface StaticFactorAdjustment {
  /** When the change took effect (epoch ms or an ISO date). */
  from: number | string;
  /** When it ended, if it did. */
  to?: number | string;
  /** Multiplies the modelled baseline (e.g. 1.08 for a line that adds 8 %). Default 1. */
  factor?: number;
  /** Energy added per day (e.g. a new compressor's 1,200 kWh/day). Default 0. */
  perDay?: number;
  description: string;
}

export interface EnergyPerformanceOptions {
  /** Timestamp column, epoch ms. Default `ts`. */
  ts?: string;
  /** Energy consumed per row. Default `energy`. */
  energy?: string;
  /** Production volume per row (summed per period): enables specific energy consumption. */
  production?: string;
  /** Outdoor temperature per row (averaged per day): enables degree-days. */
  temperature?: string;
  /** Unit of `temperature` (sets the balance-point grids). Default `C`. */
  temperatureUnit?: 'C' | 'F';
  /** Other numeric relevant variables (averaged per period). */
  drivers?: string[];
  /** Categorical relevant variables (e.g. a load type): their share of each period enters the model. */
  categorical?: string[];
  /** Period the baseline is fitted on. Default `day` (CalTRACK's daily method). */
  granularity?: Granularity;
  /** Saturday/Sunday terms (and hour-of-day or shift terms for hourly periods). Default true. */
  calendar?: boolean;
  /** Shifts for hourly models, by local hour (default: one term per hour of day). */
  shifts?: Shift[];
  /** Plant's offset from UTC in minutes (periods and weekdays are plant time). Default 0. */
  utcOffsetMinutes?: number;
  /** Timestamps mark the END of each interval (a 15-min reading stamped 10:15 covers 10:00-10:15). Default false. */
  timestampsMarkIntervalEnd?: boolean;
  /** Periods with less of their usual data than this are left out of fit and savings. Default 0.9. */
  minCoverage?: number;
  adjustments?: StaticFactorAdjustment[];
  /** Energy unit label. Default `kWh`. */
  unit?: string;
  /** Production unit label (for SEC). Default `unit`. */
  productionUnit?: string;
}

export interface EnergyPerformancePeriod {
  start: number;
  period: 'baseline' | 'reporting';
  complete: boolean;
  actual: number;
  /** Fitted value (baseline) or adjusted baseline (reporting). */
  modelled: number | null;
  /** Adjustment included in `modelled` (reporting). */
  adjustment: number;
  /** modelled − actual. */
  savings: number | null;
  cumulativeSavings: number | null;
  /** Cumulative actual − modelled over the reporting period (ISO 50006's CUSUM; negative = saving). */
  cusum: number | null;
  production: number | null;
}

export interface EnergyPerformanceResult extends MetricResult {
  type: 'energy-performance';
  granularity: Granularity;
  unit: string;
  baseline: { from: number; to: number; periods: number; used: number; days: number };
  reporting: { from: number; to: number; periods: number; used: number; days: number };
  model: {
    terms: { name: string; coefficient: number; standardError: number | null; pValue: number | null }[];
    dropped: string[];
    balance: BalancePoints;
    temperatureUnit: 'C' | 'F';
    selection: string;
    candidates: number;
    n: number;
    p: number;
    r2: number | null;
    adjustedR2: number | null;
    cvRmsePct: number | null;
    nmbePct: number | null;
    residualAutocorrelation: number;
    guideline14: Guideline14Verdict;
  };
  relevantVariables: { name: string; used: boolean; note: string }[];
  savings: {
    actual: number;
    adjustedBaseline: number;
    savings: number;
    fractionPct: number | null;
    cusumEnd: number;
    uncertainty: { confidence: number; t: number; effectiveN: number; fractionalPct: number | null; absolute: number; low: number; high: number }[];
    significant: boolean | null;
    statement: string;
  };
  enpi: {
    /** Actual over adjusted baseline in the reporting period (< 1: better than the baseline). */
    modelNormalised: number | null;
    improvementPct: number | null;
    sec: { baseline: number; reporting: number; improvementPct: number; unit: string } | null;
    statement: string;
  };
  adjustments: { description: string; from: number; to: number | null; factor: number; perDay: number; effect: number }[];
  periods: EnergyPerformancePeriod[];
  monthly: RollUpRow[];
  weekly: RollUpRow[];
}

const DAY = 86_400_000;

function toMs(x: number | string, what: string): number {
  const t = typeof x === 'number' ? x : Date.parse(x);
  if (!Number.isFinite(t)) throw new MillwrightError('BAD_INPUT', `energy-performance: ${what} "${x}" is not a date (expected epoch ms or an ISO date such as 2018-10-01)`);
  return t;
}

function grid(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let x = lo; x <= hi + 1e-9; x += step) out.push(Math.round(x * 10) / 10);
  return out;
}

/** Metric: see the module doc. */
export class EnergyPerformanceMetric implements Metric<EnergyPerformanceResult> {
  type = 'energy-performance';
  constructor(private readonly options: EnergyPerformanceOptions = {}) {}

  compute(current: Frame, reference?: Frame): EnergyPerformanceResult {
    if (!reference) throw new MillwrightError('BAD_INPUT', 'energy-performance: needs a baseline period (reference) and a reporting period (current)');
    const o = this.options;
    const g = o.granularity ?? 'day';
    const cols: PeriodColumns = { ts: o.ts ?? 'ts', energy: o.energy ?? 'energy', production: o.production, temperature: o.temperature, drivers: o.drivers ?? [], categorical: o.categorical ?? [] };
    const offset = o.utcOffsetMinutes ?? 0;
    const minCoverage = o.minCoverage ?? 0.9;
    const basePeriods = toPeriods(reference, cols, g, offset, o.timestampsMarkIntervalEnd);
    const repPeriods = toPeriods(current, cols, g, offset, o.timestampsMarkIntervalEnd);
    const baseUsed = basePeriods.filter((p) => p.coverage >= minCoverage);
    const repUsed = repPeriods.filter((p) => p.coverage >= minCoverage);
    if (baseUsed.length < 3) throw new MillwrightError('BAD_INPUT', `energy-performance: the baseline period has ${baseUsed.length} complete ${g}s; at least 3 are needed to fit a baseline (and a year is recommended)`);
    if (repUsed.length < 1) throw new MillwrightError('BAD_INPUT', `energy-performance: the reporting period has no complete ${g}`);
    const spec = this.spec(g, baseUsed, cols);
    const model = selectBaselineModel(baseUsed, spec);
    const fit = model.fit;
    const unit = o.unit ?? 'kWh';
    const cvRmsePct = fitCvRmse(baseUsed, fit.residuals, fit.p);
    const nmbePct = fitNmbe(baseUsed, fit.residuals, fit.p);
    const rho = lag1Autocorrelation(fit.residuals);
    const adjustments = (o.adjustments ?? []).map((a) => ({ description: a.description, from: toMs(a.from, 'adjustment from'), to: a.to === undefined ? null : toMs(a.to, 'adjustment to'), factor: a.factor ?? 1, perDay: a.perDay ?? 0, effect: 0 }));
    const periods = this.periodRows(basePeriods, repPeriods, minCoverage, spec, model.balance, fit, adjustments);
    const used = periods.filter((p) => p.period === 'reporting' && p.complete);
    const actual = used.reduce((s, p) => s + p.actual, 0);
    const adjustedBaseline = used.reduce((s, p) => s + p.modelled!, 0);
    const savings = adjustedBaseline - actual;
    const uncertainty = [0.68, 0.9].map((c) => {
      const u = savingsUncertainty({ cv: (cvRmsePct ?? Number.NaN) / 100, n: fit.n, p: fit.p, rho, m: used.length, savings, adjustedBaseline }, c);
      return { confidence: c, t: u.t, effectiveN: u.effectiveN, fractionalPct: u.fractional === null ? null : 100 * u.fractional, absolute: u.absolute, low: savings - u.absolute, high: savings + u.absolute };
    });
    const u68 = uncertainty[0]!;
    const significant = u68.fractionalPct === null ? null : u68.fractionalPct < 50;
    const monthly = rollUp(periods, 'month', offset);
    const weekly = rollUp(periods, 'week', offset);
    return {
      type: 'energy-performance',
      title: 'Energy performance (ISO 50006)',
      granularity: g,
      unit,
      baseline: span(basePeriods, baseUsed),
      reporting: span(repPeriods, repUsed),
      model: {
        terms: fit.terms.map((name, j) => ({ name, coefficient: fit.coefficients[j]!, standardError: num(fit.standardErrors[j]!), pValue: num(fit.pValues[j]!) })),
        dropped: fit.dropped,
        balance: model.balance,
        temperatureUnit: o.temperatureUnit ?? 'C',
        selection: model.selection,
        candidates: model.candidates,
        n: fit.n,
        p: fit.p,
        r2: num(fit.r2),
        adjustedR2: num(fit.adjustedR2),
        cvRmsePct,
        nmbePct,
        residualAutocorrelation: rho,
        guideline14: guideline14Verdict(g, cvRmsePct, nmbePct),
      },
      relevantVariables: relevantVariables(o, fit.terms, model.balance),
      savings: { actual, adjustedBaseline, savings, fractionPct: adjustedBaseline > 0 ? (100 * savings) / adjustedBaseline : null, cusumEnd: actual - adjustedBaseline, uncertainty, significant, statement: savingsStatement(savings, unit, u68, uncertainty[1]!, g) },
      enpi: enpi(baseUsed, repUsed, actual, adjustedBaseline, o),
      adjustments,
      periods,
      monthly,
      weekly,
    };
  }

  private spec(g: Granularity, baseUsed: Period[], cols: PeriodColumns): BaselineSpec {
    const o = this.options;
    const f = o.temperatureUnit === 'F';
    const levels: Record<string, string[]> = {};
    for (const c of cols.categorical) {
      const totals = new Map<string, number>();
      for (const p of baseUsed) for (const [level, share] of Object.entries(p.shares[c] ?? {})) totals.set(level, (totals.get(level) ?? 0) + share);
      // The most frequent level is the reference (absorbed by the intercept).
      const sorted = [...totals].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([l]) => l);
      levels[c] = sorted.slice(1);
    }
    return {
      granularity: g,
      production: cols.production !== undefined,
      temperature: cols.temperature !== undefined,
      calendar: o.calendar ?? true,
      shifts: o.shifts,
      drivers: cols.drivers,
      levels,
      // CalTRACK's 40-80 °F (heating) and 50-90 °F (cooling) search ranges, in the data's unit.
      heatingGrid: f ? grid(40, 80, 1) : grid(4.5, 26.5, 0.5),
      coolingGrid: f ? grid(50, 90, 1) : grid(10, 32, 0.5),
      pMax: 0.1,
    };
  }

  private periodRows(base: Period[], rep: Period[], minCoverage: number, spec: BaselineSpec, balance: BalancePoints, fit: ReturnType<typeof selectBaselineModel>['fit'], adjustments: EnergyPerformanceResult['adjustments']): EnergyPerformancePeriod[] {
    const baseModelled = predictOls(fit, regressorsFor(base, spec, balance), base.length);
    const repModelled = predictOls(fit, regressorsFor(rep, spec, balance), rep.length);
    const rows: EnergyPerformancePeriod[] = base.map((p, i) => ({
      start: p.start, period: 'baseline', complete: p.coverage >= minCoverage, actual: p.energy, modelled: num(baseModelled[i]!), adjustment: 0,
      savings: num(baseModelled[i]! - p.energy), cumulativeSavings: null, cusum: null, production: p.production,
    }));
    let cumulative = 0;
    let cusum = 0;
    rep.forEach((p, i) => {
      const complete = p.coverage >= minCoverage;
      let modelled = repModelled[i]!;
      let adjustment = 0;
      for (const a of adjustments) {
        if (p.start < a.from || (a.to !== null && p.start >= a.to)) continue;
        const delta = modelled * (a.factor - 1) + a.perDay * p.days;
        modelled += delta;
        adjustment += delta;
        if (complete) a.effect += delta;
      }
      if (complete) {
        cumulative += modelled - p.energy;
        cusum += p.energy - modelled;
      }
      rows.push({
        start: p.start, period: 'reporting', complete, actual: p.energy, modelled: num(modelled), adjustment,
        savings: complete ? num(modelled - p.energy) : null, cumulativeSavings: complete ? cumulative : null, cusum: complete ? cusum : null, production: p.production,
      });
    });
    return rows;
  }

  checks(r: EnergyPerformanceResult): CheckResult[] {
    const g = r.model.guideline14;
    const out: CheckResult[] = [
      { name: 'energy baseline fit (ASHRAE Guideline 14)', status: g.meets === null ? 'warn' : g.meets ? 'pass' : 'warn', reason: g.statement },
      { name: 'savings uncertainty (68 %)', status: r.savings.significant ? 'pass' : 'warn', reason: r.savings.statement },
    ];
    if (r.baseline.days < 365) out.push({ name: 'baseline period length', status: 'warn', reason: `the baseline period covers ${Math.round(r.baseline.days)} days; ISO 50006 and CalTRACK ask for a full year so that every season and production pattern is in the baseline` });
    const excluded = r.baseline.periods - r.baseline.used + (r.reporting.periods - r.reporting.used);
    if (excluded > 0) out.push({ name: 'data coverage', status: 'warn', reason: `${excluded} ${r.granularity}(s) with less than 90 % of their usual data were left out of the fit and the savings` });
    return out;
  }
}

function span(all: Period[], used: Period[]): EnergyPerformanceResult['baseline'] {
  const last = all[all.length - 1]!;
  return { from: all[0]!.start, to: last.start + last.days * DAY, periods: all.length, used: used.length, days: used.reduce((s, p) => s + p.days, 0) };
}

function meanEnergy(periods: Period[]): number {
  return periods.reduce((s, p) => s + p.energy, 0) / periods.length;
}

/** Guideline 14's CV(RMSE) of the fit: 100 · sqrt(SSE / (n − p)) / mean. */
function fitCvRmse(periods: Period[], residuals: Float64Array, p: number): number | null {
  const sse = residuals.reduce((s, r) => s + r * r, 0);
  return num((100 * Math.sqrt(sse / Math.max(1, periods.length - p))) / meanEnergy(periods));
}

/** Guideline 14's NMBE of the fit: 100 · Σ(y − ŷ) / ((n − p) · mean). */
function fitNmbe(periods: Period[], residuals: Float64Array, p: number): number | null {
  const bias = residuals.reduce((s, r) => s + r, 0);
  return num((100 * bias) / (Math.max(1, periods.length - p) * meanEnergy(periods)));
}

function relevantVariables(o: EnergyPerformanceOptions, terms: string[], balance: BalancePoints): EnergyPerformanceResult['relevantVariables'] {
  const out: EnergyPerformanceResult['relevantVariables'] = [];
  out.push(o.production
    ? { name: `production (${o.production})`, used: terms.includes('production'), note: terms.includes('production') ? 'summed per period' : 'given but collinear or constant in the baseline: left out' }
    : { name: 'production volume', used: false, note: 'not given: the baseline cannot normalise for output and no specific energy consumption is computed; savings include any change in production' });
  const unit = o.temperatureUnit === 'F' ? '°F' : '°C';
  out.push(o.temperature
    ? { name: `temperature (${o.temperature})`, used: balance.heating !== undefined || balance.cooling !== undefined, note: balance.heating !== undefined || balance.cooling !== undefined ? `degree-days at ${[balance.heating !== undefined ? `heating ${balance.heating} ${unit}` : '', balance.cooling !== undefined ? `cooling ${balance.cooling} ${unit}` : ''].filter(Boolean).join(', ')}` : 'given, but no degree-day term was significant' }
    : { name: 'weather (degree-days)', used: false, note: 'no temperature given: the baseline is not weather-normalised' });
  if (o.calendar ?? true) out.push({ name: 'calendar', used: true, note: (o.granularity ?? 'day') === 'hour' ? `day type and ${o.shifts?.length ? 'shift' : 'hour-of-day'} terms` : (o.granularity ?? 'day') === 'day' ? 'Saturday and Sunday terms' : 'none at this period length' });
  for (const c of o.categorical ?? []) out.push({ name: c, used: terms.some((t) => t.startsWith(`${c}=`)), note: 'share of each level per period (most frequent level is the reference)' });
  for (const d of o.drivers ?? []) out.push({ name: d, used: terms.includes(d), note: 'mean per period' });
  return out;
}

function savingsStatement(savings: number, unit: string, u68: EnergyPerformanceResult['savings']['uncertainty'][number], u90: EnergyPerformanceResult['savings']['uncertainty'][number], g: Granularity): string {
  const fmt = (x: number) => Math.round(x).toLocaleString('en');
  const range = `${fmt(savings)} ${unit} ± ${fmt(u68.absolute)} (68 %), ± ${fmt(u90.absolute)} (90 %)`;
  const monthlyNote = g === 'month' ? '' : ` Guideline 14's 1.26 factor was derived for monthly models; it is applied to ${periodAdjective(g)} periods as printed.`;
  if (savings <= 0) return `No savings: the reporting period used ${fmt(-savings)} ${unit} more than the adjusted baseline (${range}).${monthlyNote}`;
  const verdict = u68.fractionalPct! < 50 ? 'the savings are larger than their uncertainty as Guideline 14 requires (under 50 % at 68 % confidence)' : 'the uncertainty is 50 % of the savings or more at 68 % confidence: Guideline 14 does not consider them demonstrated';
  return `Savings ${range}; fractional uncertainty ${u68.fractionalPct!.toFixed(1)} % at 68 % and ${u90.fractionalPct!.toFixed(1)} % at 90 %: ${verdict}.${monthlyNote}`;
}

function enpi(base: Period[], rep: Period[], actual: number, adjustedBaseline: number, o: EnergyPerformanceOptions): EnergyPerformanceResult['enpi'] {
  const ratio = adjustedBaseline > 0 ? actual / adjustedBaseline : null;
  const improvementPct = ratio === null ? null : 100 * (1 - ratio);
  let sec: EnergyPerformanceResult['enpi']['sec'] = null;
  if (o.production) {
    const sum = (ps: Period[], f: (p: Period) => number) => ps.reduce((s, p) => s + f(p), 0);
    const bp = sum(base, (p) => p.production ?? 0);
    const rp = sum(rep, (p) => p.production ?? 0);
    if (bp > 0 && rp > 0) {
      const b = sum(base, (p) => p.energy) / bp;
      const r = sum(rep, (p) => p.energy) / rp;
      sec = { baseline: b, reporting: r, improvementPct: 100 * (1 - r / b), unit: `${o.unit ?? 'kWh'}/${o.productionUnit ?? 'unit'}` };
    }
  }
  const statement = sec
    ? `Specific energy consumption ${sec.baseline.toPrecision(4)} -> ${sec.reporting.toPrecision(4)} ${sec.unit} (${sec.improvementPct.toFixed(1)} % better; not normalised for weather or product mix); model-normalised EnPI ${ratio?.toFixed(3)}.`
    : `Model-normalised EnPI (actual / adjusted baseline) ${ratio === null ? 'n/a' : ratio.toFixed(3)}${improvementPct === null ? '' : ` (${improvementPct.toFixed(1)} % ${improvementPct >= 0 ? 'better' : 'worse'} than the baseline)`}. No specific energy consumption: no production volume was given.`;
  return { modelNormalised: ratio, improvementPct, sec, statement };
}
