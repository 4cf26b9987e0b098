import type { Frame } from '../data.ts';
import { numericColumn } from '../data.ts';
import type { CheckResult, Metric, MetricResult } from '../engine.ts';
import { num } from '../engine.ts';
import { cvRmse, nmbe, meetsGuideline14Hourly } from '../../lib/algorithms/metrics.ts';
import { MillwrightError } from '../../lib/errors/index.ts';

const HOUR = 3_600_000;
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

export interface EnergyDeviationOptions {
  /** Timestamp column, epoch ms. Default `ts`. */
  ts?: string;
  /** Measured energy per row (kWh); rows are summed per hour. Default `actual`. */
  actual?: string;
  /** Expected energy per row from the load-curve model. Default `expected`. */
  expected?: string;
  /** Best-achievable energy per row. Default `best` (optional: without it hours are flagged against `expected`). */
  best?: string;
  /** An hour is flagged when actual exceeds the flag baseline (best, else expected) by more than this percent. Default 25. */
  thresholdPct?: number;
  /** ... and by at least this many kWh per hour, so small loads at night are not flagged for a few kWh. Default: 10% of the mean hourly actual energy of the period. */
  minExcessKwh?: number;
  /** Price per kWh for the cost of excess energy. Optional. */
  pricePerKwh?: number;
  /** Currency label for costs. Default `EUR`. */
  currency?: string;
  /** Emission factor, kg CO2 per kWh. Optional. */
  co2KgPerKwh?: number;
  /** Columns that drive consumption (averaged per hour) used to explain flagged hours. Default none. */
  drivers?: string[];
  /** Plant's offset from UTC in minutes, for hour-of-week labels. Default 0. */
  utcOffsetMinutes?: number;
  /** Timestamps mark the END of each interval (e.g. a 15-min meter reading stamped 10:15 covers 10:00-10:15). Default false. */
  timestampsMarkIntervalEnd?: boolean;
  /** Number of model parameters p for Guideline 14's n - p. Default 1. */
  parameters?: number;
}

export interface EnergyHour {
  /** Start of the hour, epoch ms UTC. */
  hour: number;
  /** Local hour-of-week label, e.g. "Mon 10:00". */
  slot: string;
  actual: number;
  expected: number | null;
  best: number | null;
  deviationKwh: number | null;
  deviationPct: number | null;
  excessOverBestKwh: number | null;
  excessOverBestPct: number | null;
  flagged: boolean;
  /** Cumulative (actual - expected) up to and including this hour. */
  cusumKwh: number | null;
  hints: string[];
}

export interface EnergyDeviationResult extends MetricResult {
  type: 'energy-deviation';
  hours: EnergyHour[];
  totals: {
    hours: number;
    actualKwh: number;
    expectedKwh: number | null;
    bestKwh: number | null;
    excessVsExpectedKwh: number | null;
    avoidableKwh: number | null;
    flaggedHours: number;
    flaggedExcessKwh: number;
    cost: number | null;
    co2Kg: number | null;
    currency: string;
  };
  guideline14: { cvRmsePct: number | null; nmbePct: number | null; meets: boolean | null; hours: number; statement: string };
  /** Mean excess over the flag baseline (%, and kWh counting only hours above it) and flagged share per local hour-of-week (7 x 24). */
  heatmap: { day: string; hour: number; meanExcessPct: number | null; meanExcessKwh: number | null; flaggedShare: number }[];
  topSlots: { slot: string; flaggedHours: number; hours: number; meanExcessKwh: number }[];
  driverCounts: { driver: string; hints: number }[];
  options: { thresholdPct: number; minExcessKwh: number; flagAgainst: 'best' | 'expected'; utcOffsetMinutes: number };
}

interface Hourly {
  hour: number[];
  sums: Map<string, number[]>;
  means: Map<string, number[]>;
}

function hourly(frame: Frame, ts: string, sumCols: string[], meanCols: string[], endStamped: boolean, what: string): Hourly {
  const t = numericColumn(frame, ts, what).values;
  const sumV = sumCols.map((c) => numericColumn(frame, c, what).values);
  const meanV = meanCols.map((c) => numericColumn(frame, c, what).values);
  const index = new Map<number, number>();
  const hour: number[] = [];
  const sums = sumCols.map(() => [] as number[]);
  const sumsN = sumCols.map(() => [] as number[]);
  const means = meanCols.map(() => [] as number[]);
  const meansN = meanCols.map(() => [] as number[]);
  for (let i = 0; i < frame.rows; i++) {
    const ti = t[i]!;
    if (!Number.isFinite(ti)) continue;
    const h = Math.floor((endStamped ? ti - 1 : ti) / HOUR) * HOUR;
    let k = index.get(h);
    if (k === undefined) {
      k = hour.length;
      index.set(h, k);
      hour.push(h);
      for (const s of sums) s.push(0);
      for (const s of sumsN) s.push(0);
      for (const m of means) m.push(0);
      for (const m of meansN) m.push(0);
    }
    for (let j = 0; j < sumV.length; j++) {
      const v = sumV[j]![i]!;
      if (Number.isFinite(v)) {
        sums[j]![k]! += v;
        sumsN[j]![k]!++;
      }
    }
    for (let j = 0; j < meanV.length; j++) {
      const v = meanV[j]![i]!;
      if (Number.isFinite(v)) {
        means[j]![k]! += v;
        meansN[j]![k]!++;
      }
    }
  }
  const order = hour.map((_, i) => i).sort((a, b) => hour[a]! - hour[b]!);
  const pick = (a: number[], n: number[], mean: boolean) => order.map((i) => (n[i]! === 0 ? Number.NaN : mean ? a[i]! / n[i]! : a[i]!));
  return {
    hour: order.map((i) => hour[i]!),
    sums: new Map(sumCols.map((c, j) => [c, pick(sums[j]!, sumsN[j]!, false)])),
    means: new Map(meanCols.map((c, j) => [c, pick(means[j]!, meansN[j]!, true)])),
  };
}

function hourOfWeek(hour: number, offsetMin: number): number {
  const local = hour + offsetMin * 60_000;
  const days = Math.floor(local / 86_400_000);
  const day = (((days + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday; Monday = 0
  const h = Math.floor((local - days * 86_400_000) / HOUR);
  return day * 24 + h;
}

function slotLabel(how: number): string {
  return `${DAYS[Math.floor(how / 24)]} ${String(how % 24).padStart(2, '0')}:00`;
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function fmtK(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2);
}

/** The column names in use and which of expected / best the frame has; at least one must be there. */
function energyColumns(o: EnergyDeviationOptions, current: Frame) {
  const ts = o.ts ?? 'ts';
  const actualC = o.actual ?? 'actual';
  const expectedC = o.expected ?? 'expected';
  const bestC = o.best ?? 'best';
  const hasExpected = current.columns.has(expectedC);
  const hasBest = current.columns.has(bestC);
  if (!hasExpected && !hasBest) {
    throw new MillwrightError('BAD_INPUT', `energy: needs an expected ("${expectedC}") or best-achievable ("${bestC}") column (from the energy-load-curve model's predictions)`);
  }
  return { ts, actualC, expectedC, bestC, hasExpected, hasBest };
}

/** Mean of the finite values (0 when there are none). */
function meanFinite(xs: number[]): number {
  let mean = 0;
  let n = 0;
  for (const a of xs) if (Number.isFinite(a)) {
    mean += a;
    n++;
  }
  return mean / Math.max(n, 1);
}

/** A driver's typical value and robust scale for each of the 168 hours of the week. */
interface Typical { med: number[]; scale: number[] }

/** Typical driver values per hour-of-week from the reference: median and a robust scale (MAD). */
function typicalDrivers(reference: Frame, ts: string, drivers: string[], endStamped: boolean, offset: number): Map<string, Typical> {
  const typical = new Map<string, Typical>();
  const present = drivers.filter((d) => reference.columns.has(d));
  const rh = hourly(reference, ts, [], present, endStamped, 'energy reference');
  for (const d of present) {
    const byHow: number[][] = Array.from({ length: 168 }, () => []);
    const vals = rh.means.get(d)!;
    rh.hour.forEach((hr, i) => byHow[hourOfWeek(hr, offset)]!.push(vals[i]!));
    const all = vals.filter(Number.isFinite);
    const allMed = median(all);
    const globalScale = 1.4826 * median(all.map((v) => Math.abs(v - allMed))) || 1e-9;
    const med = byHow.map((xs) => median(xs));
    // Floor the per-slot scale so a slot that never varied does not make every change look extreme.
    const scale = byHow.map((xs, i) => Math.max(1.4826 * median(xs.map((v) => Math.abs(v - med[i]!))), 0.25 * globalScale));
    typical.set(d, { med, scale });
  }
  return typical;
}

/** What the per-hour pass needs: the hourly sums and the flagging settings. */
interface HourRowsInput {
  h: Hourly;
  actual: number[];
  expected: number[] | null;
  best: number[] | null;
  offset: number;
  thresholdPct: number;
  minExcess: number;
  typical: Map<string, Typical>;
}

/** One sentence on how a flagged hour compares with expected and best-achievable. */
function deviationHint(slot: string, a: number, b: number, devPct: number, dev: number, hasBest: boolean, thresholdPct: number): string | null {
  if (hasBest && Number.isFinite(devPct) && Math.abs(devPct) < thresholdPct / 2) {
    return `Usage was close to expected for ${slot} (${devPct >= 0 ? '+' : ''}${devPct.toFixed(0)}%) but ${((100 * (a - b)) / Math.max(b, 1e-9)).toFixed(0)}% above best-achievable: a recurring pattern at this time of week, not a one-off incident.`;
  } else if (Number.isFinite(devPct) && devPct >= thresholdPct / 2) {
    return `Usage was ${devPct.toFixed(0)}% (${fmtK(dev)} kWh) above expected for ${slot}.`;
  } else if (Number.isFinite(devPct) && devPct <= -thresholdPct / 2) {
    return `Usage was below expected for ${slot} (${devPct.toFixed(0)}%) yet above best-achievable.`;
  }
  return null;
}

/** Hints naming the (at most two) drivers furthest from typical for hour i; counts them in driverHints. */
function driverHintsFor(x: HourRowsInput, i: number, how: number, slot: string, driverHints: Map<string, number>): string[] {
  const hints: string[] = [];
  const ranked: { d: string; z: number; v: number; t: number }[] = [];
  for (const [d, tp] of x.typical) {
    const v = x.h.means.get(d)![i]!;
    const t = tp.med[how]!;
    if (!Number.isFinite(v) || !Number.isFinite(t)) continue;
    ranked.push({ d, z: (v - t) / tp.scale[how]!, v, t });
  }
  ranked.sort((p, q) => Math.abs(q.z) - Math.abs(p.z));
  for (const r of ranked.slice(0, 2)) {
    if (Math.abs(r.z) < 2) break;
    hints.push(`${r.d} was ${fmtK(r.v)} vs typically ${fmtK(r.t)} at ${slot} (${Math.abs(r.z).toFixed(1)} robust SDs ${r.z > 0 ? 'higher' : 'lower'}).`);
    driverHints.set(r.d, (driverHints.get(r.d) ?? 0) + 1);
  }
  return hints;
}

/** The per-hour pass: deviation, flag, hints and running CUSUM; also the actual/expected pairs for Guideline 14. */
function hourRows(x: HourRowsInput) {
  const { h, actual, expected, best, offset, thresholdPct, minExcess } = x;
  const flagBase = best ?? expected!;
  const hours: EnergyHour[] = [];
  let cusum = 0;
  const driverHints = new Map<string, number>();
  const pairA: number[] = [];
  const pairE: number[] = [];
  for (let i = 0; i < h.hour.length; i++) {
    const a = actual[i]!;
    if (!Number.isFinite(a)) continue;
    const e = expected ? expected[i]! : Number.NaN;
    const b = best ? best[i]! : Number.NaN;
    const how = hourOfWeek(h.hour[i]!, offset);
    const dev = Number.isFinite(e) ? a - e : Number.NaN;
    if (Number.isFinite(dev)) {
      cusum += dev;
      pairA.push(a);
      pairE.push(e);
    }
    const fb = flagBase[i]!;
    const excessFlag = a - fb;
    const flagged = Number.isFinite(fb) && excessFlag >= minExcess && (fb <= 0 || (100 * excessFlag) / fb > thresholdPct);
    const hints: string[] = [];
    if (flagged) {
      const slot = slotLabel(how);
      const devPct = Number.isFinite(e) && e > 0 ? (100 * dev) / e : Number.NaN;
      const first = deviationHint(slot, a, b, devPct, dev, best !== null, thresholdPct);
      if (first !== null) hints.push(first);
      hints.push(...driverHintsFor(x, i, how, slot, driverHints));
    }
    hours.push({
      hour: h.hour[i]!,
      slot: slotLabel(how),
      actual: a,
      expected: num(e),
      best: num(b),
      deviationKwh: num(dev),
      deviationPct: num(Number.isFinite(e) && e !== 0 ? (100 * dev) / e : Number.NaN),
      excessOverBestKwh: num(a - b),
      excessOverBestPct: num(b > 0 ? (100 * (a - b)) / b : Number.NaN),
      flagged,
      cusumKwh: expected ? cusum : null,
      hints,
    });
  }
  return { hours, cusum, driverHints, pairA, pairE };
}

/** The model's accuracy against ASHRAE Guideline 14 (hourly), with a plain-language statement. */
function guideline14(pairA: number[], pairE: number[], p: number): EnergyDeviationResult['guideline14'] {
  if (pairA.length > 1) {
    const cv = cvRmse(pairA, pairE, { p });
    const nm = nmbe(pairA, pairE, { p });
    const meets = meetsGuideline14Hourly({ cvRmse: cv, nmbe: nm });
    return {
      cvRmsePct: cv, nmbePct: nm, meets, hours: pairA.length,
      statement: meets
        ? `The model meets ASHRAE Guideline 14 for hourly data over these ${pairA.length} hours: CV(RMSE) ${cv.toFixed(1)}% (limit 30%), NMBE ${nm.toFixed(1)}% (limit ±10%).`
        : `The model does NOT meet ASHRAE Guideline 14 for hourly data over these ${pairA.length} hours: CV(RMSE) ${cv.toFixed(1)}% (limit 30%)${cv > 30 ? ' exceeded' : ' met'}, NMBE ${nm.toFixed(1)}% (limit ±10%)${Math.abs(nm) > 10 ? ' exceeded' : ' met'}. Treat its expected values as indicative, not as a calibrated baseline.`,
    };
  }
  return { cvRmsePct: null, nmbePct: null, meets: null, hours: pairA.length, statement: 'Guideline 14 not assessed: no expected values to compare with.' };
}

/** Period totals: energy, excess, flagged hours, and cost and CO2 of the flagged excess when rates are set. */
function totalsOf(o: EnergyDeviationOptions, hours: EnergyHour[], cusum: number, hasExpected: boolean, hasBest: boolean, flagExcess: (x: EnergyHour) => number): EnergyDeviationResult['totals'] {
  const sum = (xs: (number | null)[]) => xs.reduce<number>((s, v) => s + (v ?? 0), 0);
  const flaggedHours = hours.filter((x) => x.flagged);
  const flaggedExcessKwh = sum(flaggedHours.map(flagExcess));
  const avoidable = hasBest ? sum(hours.map((x) => Math.max(0, x.excessOverBestKwh ?? 0))) : null;
  const costBasis = flaggedExcessKwh;
  return {
    hours: hours.length,
    actualKwh: sum(hours.map((x) => x.actual)),
    expectedKwh: hasExpected ? sum(hours.map((x) => x.expected)) : null,
    bestKwh: hasBest ? sum(hours.map((x) => x.best)) : null,
    excessVsExpectedKwh: hasExpected ? cusum : null,
    avoidableKwh: avoidable,
    flaggedHours: flaggedHours.length,
    flaggedExcessKwh,
    cost: o.pricePerKwh !== undefined ? costBasis * o.pricePerKwh : null,
    co2Kg: o.co2KgPerKwh !== undefined ? costBasis * o.co2KgPerKwh : null,
    currency: o.currency ?? 'EUR',
  };
}

/** Running sums for one hour-of-week slot. */
interface SlotStat { n: number; flagged: number; excessPct: number; excessPctN: number; excessKwh: number; positiveKwh: number; positiveN: number }

/** Excess and flag counts per local hour-of-week. */
function slotStats(hours: EnergyHour[], offset: number, flagAgainst: 'best' | 'expected', flagExcess: (x: EnergyHour) => number): Map<number, SlotStat> {
  const bySlot = new Map<number, SlotStat>();
  for (const x of hours) {
    const how = hourOfWeek(x.hour, offset);
    let s = bySlot.get(how);
    if (!s) bySlot.set(how, (s = { n: 0, flagged: 0, excessPct: 0, excessPctN: 0, excessKwh: 0, positiveKwh: 0, positiveN: 0 }));
    s.n++;
    if (x.flagged) {
      s.flagged++;
      s.excessKwh += flagExcess(x);
    }
    const base = flagAgainst === 'best' ? x.best : x.expected;
    if (base !== null && base > 0) {
      s.excessPct += (100 * (x.actual - base)) / base;
      s.excessPctN++;
    }
    if (base !== null) {
      s.positiveKwh += Math.max(0, x.actual - base);
      s.positiveN++;
    }
  }
  return bySlot;
}

/** The 7 x 24 heatmap cells, Monday 00:00 first. */
function heatmapOf(bySlot: Map<number, SlotStat>): EnergyDeviationResult['heatmap'] {
  const heatmap: EnergyDeviationResult['heatmap'] = [];
  for (let how = 0; how < 168; how++) {
    const s = bySlot.get(how);
    heatmap.push({ day: DAYS[Math.floor(how / 24)]!, hour: how % 24, meanExcessPct: s && s.excessPctN ? s.excessPct / s.excessPctN : null, meanExcessKwh: s && s.positiveN ? s.positiveKwh / s.positiveN : null, flaggedShare: s ? s.flagged / s.n : 0 });
  }
  return heatmap;
}

/** The ten slots with the most flagged excess energy. */
function topSlotsOf(bySlot: Map<number, SlotStat>): EnergyDeviationResult['topSlots'] {
  return [...bySlot].filter(([, s]) => s.flagged > 0).sort((a, b) => b[1].excessKwh - a[1].excessKwh).slice(0, 10)
    .map(([how, s]) => ({ slot: slotLabel(how), flaggedHours: s.flagged, hours: s.n, meanExcessKwh: s.excessKwh / s.flagged }));
}

/**
 * Hourly energy deviation for energy engineers: actual energy per hour against the load-curve
 * model's expected and best-achievable energy; deviation in kWh and %; hours above the threshold
 * flagged; cumulative excess (CUSUM) with cost and CO2 when rates are set; plain-language hints
 * that compare a flagged hour's drivers with their typical values for that hour of the week (from
 * the reference, e.g. the training period); and the model's accuracy against ASHRAE Guideline 14
 * (hourly CV(RMSE) <= 30 %, |NMBE| <= 10 %).
 *
 * @example
 * new EnergyDeviationMetric({ actual: 'Usage_kWh', expected: 'expected', best: 'best', pricePerKwh: 0.12, co2KgPerKwh: 0.45 })
 */
export class EnergyDeviationMetric implements Metric<EnergyDeviationResult> {
  readonly type = 'energy-deviation';
  constructor(readonly options: EnergyDeviationOptions = {}) {}

  compute(current: Frame, reference?: Frame): EnergyDeviationResult {
    const o = this.options;
    const { ts, actualC, expectedC, bestC, hasExpected, hasBest } = energyColumns(o, current);
    const drivers = (o.drivers ?? []).filter((d) => d !== actualC);
    const offset = o.utcOffsetMinutes ?? 0;
    const thresholdPct = o.thresholdPct ?? 25;
    const endStamped = o.timestampsMarkIntervalEnd ?? false;
    const sumCols = [actualC, ...(hasExpected ? [expectedC] : []), ...(hasBest ? [bestC] : [])];
    const h = hourly(current, ts, sumCols, drivers, endStamped, 'energy');
    if (h.hour.length === 0) throw new MillwrightError('BAD_INPUT', 'energy: no rows with a timestamp');
    const actual = h.sums.get(actualC)!;
    const expected = hasExpected ? h.sums.get(expectedC)! : null;
    const best = hasBest ? h.sums.get(bestC)! : null;
    const minExcess = o.minExcessKwh ?? 0.1 * meanFinite(actual);
    const flagAgainst = best ? 'best' : 'expected';
    const typical = reference && drivers.length && reference.columns.has(ts)
      ? typicalDrivers(reference, ts, drivers, endStamped, offset)
      : new Map<string, Typical>();

    const rows = hourRows({ h, actual, expected, best, offset, thresholdPct, minExcess, typical });
    const { hours, cusum, driverHints, pairA, pairE } = rows;

    const flagExcess = (x: EnergyHour) => x.actual - (flagAgainst === 'best' ? x.best! : x.expected!);
    const bySlot = slotStats(hours, offset, flagAgainst, flagExcess);
    return {
      type: 'energy-deviation',
      title: 'Energy deviation (hourly)',
      hours,
      totals: totalsOf(o, hours, cusum, expected !== null, best !== null, flagExcess),
      guideline14: guideline14(pairA, pairE, o.parameters ?? 1),
      heatmap: heatmapOf(bySlot),
      topSlots: topSlotsOf(bySlot),
      driverCounts: [...driverHints].sort((a, b) => b[1] - a[1]).map(([driver, hints]) => ({ driver, hints })),
      options: { thresholdPct, minExcessKwh: minExcess, flagAgainst, utcOffsetMinutes: offset },
    };
  }

  checks(r: EnergyDeviationResult): CheckResult[] {
    const t = r.totals;
    const share = t.hours ? t.flaggedHours / t.hours : 0;
    const money = t.cost !== null ? `, ${t.cost.toFixed(0)} ${t.currency}` : '';
    const co2 = t.co2Kg !== null ? `, ${(t.co2Kg / 1000).toFixed(2)} t CO2` : '';
    const checks: CheckResult[] = [{
      name: 'excess energy',
      status: share > 0.1 ? 'fail' : share > 0 ? 'warn' : 'pass',
      reason: `${t.flaggedHours} of ${t.hours} hours more than ${r.options.thresholdPct}% above ${r.options.flagAgainst === 'best' ? 'best-achievable' : 'expected'}: ${t.flaggedExcessKwh.toFixed(0)} kWh excess${money}${co2}${r.topSlots.length ? `; worst slots ${r.topSlots.slice(0, 3).map((s) => s.slot).join(', ')}` : ''}`,
    }];
    if (r.guideline14.meets !== null) {
      checks.push({ name: 'ASHRAE Guideline 14', status: r.guideline14.meets ? 'pass' : 'warn', reason: r.guideline14.statement });
    }
    return checks;
  }
}
