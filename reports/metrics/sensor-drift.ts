/**
 * Drift for sensor series: consecutive readings are not independent samples, so a plain KS test
 * on a 1 Hz (or 5-minute) signal calls almost any two windows different. This compares the current
 * data chunk by chunk (fixed length, shift or day) with the reference and judges each chunk three
 * ways:
 * - KS with effective sample sizes: n / tau, tau the integrated autocorrelation time measured on
 *   the reference (1 + 2 Σ ρ_k; for AR(1) this is the lag-1 formula n (1 - r) / (1 + r)), p-value
 *   from scipy's `kstwo` at round(n_eff1 n_eff2 / (n_eff1 + n_eff2)), drift when p < alpha;
 * - the chunk mean against a band learnt from the reference's own chunks (mean ± 3 sigma of the
 *   reference chunk means), beside the fixed p-value threshold;
 * - Page's two-sided CUSUM on the chunk mean standardised by the reference chunks, which
 *   accumulates a slow drift no single chunk shows and reports the chunk where it started.
 */
import { MillwrightError } from '../../lib/errors/index.ts';
import { ksStatistic } from '../stats/ks.ts';
import { kstwoSf } from '../stats/kstwo.ts';
import { lag1Autocorrelation } from '../stats/autocorrelation.ts';

/** How to cut a series into chunks: a fixed length in ms, 8-hour shifts or UTC days. */
export type ChunkSpec = number | 'shift' | 'day';

export interface SensorDriftOptions {
  chunk: ChunkSpec;
  /** Chunks with fewer readings are skipped. Default 30. */
  minChunkRows?: number;
  /** p-value threshold of the autocorrelation-aware KS test (drift when p < alpha). Default 0.05. */
  alpha?: number;
  /** Reference-chunk band width in standard deviations. Default 3. */
  sigmas?: number;
  /** CUSUM slack k and decision level h, in reference standard deviations. Default 1 and 5: a slack of one reference std, because real sensor levels wander about half a std between stable weeks (NAB). */
  cusum?: { k?: number; h?: number };
}

export interface ChunkDrift {
  start: number;
  end: number;
  rows: number;
  /** KS statistic against the whole reference. */
  statistic: number;
  /** Chunk mean: the statistic the band and the CUSUM watch. */
  mean: number;
  /** p-value with effective sample sizes, and the naive one (independent readings) for comparison. */
  pValue: number;
  naivePValue: number;
  nEffective: number;
  /** Autocorrelation-aware test: p < alpha. */
  drifted: boolean;
  /** Chunk mean outside the reference chunk means' mean ± sigmas x std. */
  outsideBand: boolean;
  cusum: number;
}

export interface SensorDriftResult {
  chunks: ChunkDrift[];
  band: { mean: number; std: number; lower: number; upper: number; referenceChunks: number };
  referenceEffectiveRows: number;
  /** First CUSUM alarm: the chunk it fired in and the chunk the accumulation started. */
  sequential: { alarmAt: number; startedAt: number } | null;
}

const HOUR = 3_600_000;

function chunkKey(t: number, spec: ChunkSpec): number {
  const len = spec === 'day' ? 24 * HOUR : spec === 'shift' ? 8 * HOUR : spec;
  return Math.floor(t / len) * len;
}


/**
 * Effective sample size of an autocorrelated series, n (1 - r) / (1 + r) with r its lag-1
 * autocorrelation (negative r is not allowed to inflate n); at least 1.
 *
 * @example
 * effectiveSampleSize(temperatureEvery5Min); // e.g. 8640 readings -> 31
 */
export function effectiveSampleSize(x: ArrayLike<number>): number {
  const r = Math.max(0, Math.min(lag1Autocorrelation(x), 0.999999));
  return Math.max(1, (x.length * (1 - r)) / (1 + r));
}

/**
 * Effective sample size from the integrated autocorrelation time, n / (1 + 2 Σ_k ρ_k), summing
 * lags while ρ_k stays above 0.05 (at most n / 4 lags). For an AR(1) series this is the lag-1
 * formula; for slowly wandering sensor signals (long memory) the lag-1 formula still counts far
 * too many independent readings, which is why the chunk tests use this one.
 *
 * @example
 * integratedEffectiveSize(temperatureEvery5Min); // 8640 readings -> ~3
 */
export function integratedEffectiveSize(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 3) return Math.max(1, n);
  let m = 0;
  for (let i = 0; i < n; i++) m += x[i]!;
  m /= n;
  let c0 = 0;
  for (let i = 0; i < n; i++) c0 += (x[i]! - m) ** 2;
  if (c0 === 0) return n;
  let tau = 1;
  const maxLag = Math.floor(n / 4);
  for (let k = 1; k <= maxLag; k++) {
    let c = 0;
    for (let i = k; i < n; i++) c += (x[i]! - m) * (x[i - k]! - m);
    const rho = c / c0;
    if (rho < 0.05) break;
    tau += 2 * rho;
  }
  return Math.max(1, n / tau);
}

function sorted(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x).sort();
}

function pKs(d: number, n1: number, n2: number): number {
  const en = (n1 * n2) / (n1 + n2);
  return kstwoSf(d, Math.max(1, Math.round(en)));
}

function groups(ts: ArrayLike<number>, spec: ChunkSpec): { key: number; idx: number[] }[] {
  const map = new Map<number, number[]>();
  for (let i = 0; i < ts.length; i++) {
    if (!Number.isFinite(ts[i]!)) throw new MillwrightError('BAD_INPUT', `sensor drift: timestamp at row ${i} is not a number (expected epoch ms)`);
    const k = chunkKey(ts[i]!, spec);
    let g = map.get(k);
    if (g === undefined) map.set(k, (g = []));
    g.push(i);
  }
  return [...map.entries()].sort((a, b) => a[0] - b[0]).map(([key, idx]) => ({ key, idx }));
}

/** Mean ± sigmas x std of the reference chunks' means (chunks with fewer than `minRows` readings skipped). */
function referenceBand(reference: { ts: ArrayLike<number>; value: ArrayLike<number> }, chunk: ChunkSpec, minRows: number, sigmas: number): SensorDriftResult['band'] {
  const refMeans: number[] = [];
  for (const g of groups(reference.ts, chunk)) {
    const vals = g.idx.map((i) => reference.value[i]!).filter(Number.isFinite);
    if (vals.length >= minRows) refMeans.push(vals.reduce((s, v) => s + v, 0) / vals.length);
  }
  if (refMeans.length < 2) throw new MillwrightError('BAD_INPUT', `sensor drift: the reference spans ${refMeans.length} usable chunk(s) (expected at least 2 to learn a band)`);
  const mean = refMeans.reduce((s, v) => s + v, 0) / refMeans.length;
  const std = Math.sqrt(refMeans.reduce((s, v) => s + (v - mean) ** 2, 0) / (refMeans.length - 1)) || 1e-12;
  return { mean, std, lower: mean - sigmas * std, upper: mean + sigmas * std, referenceChunks: refMeans.length };
}

/**
 * Chunked, autocorrelation-aware drift of one sensor column against its reference.
 *
 * @example
 * import { sensorDrift } from 'millwright/reports';
 * const r = sensorDrift({ ts: refTs, value: refTemp }, { ts: curTs, value: curTemp }, { chunk: 'day' });
 * r.sequential; // { alarmAt, startedAt } when a slow drift accumulated, else null
 */
export function sensorDrift(
  reference: { ts: ArrayLike<number>; value: ArrayLike<number> },
  current: { ts: ArrayLike<number>; value: ArrayLike<number> },
  options: SensorDriftOptions,
): SensorDriftResult {
  const minRows = options.minChunkRows ?? 30;
  const alpha = options.alpha ?? 0.05;
  const sigmas = options.sigmas ?? 3;
  const k = options.cusum?.k ?? 1;
  const h = options.cusum?.h ?? 5;
  const finite = (v: ArrayLike<number>, idx: number[]) => idx.map((i) => v[i]!).filter(Number.isFinite);
  const refAll = Array.from(reference.value).filter(Number.isFinite);
  if (refAll.length < 2 * minRows) throw new MillwrightError('BAD_INPUT', `sensor drift: the reference has ${refAll.length} finite readings (expected at least ${2 * minRows})`);
  const refSorted = sorted(refAll);
  const refEff = integratedEffectiveSize(refAll);

  // Readings closer than the reference's autocorrelation time are not independent: a chunk of
  // `rows` readings counts rows / tau effective ones, tau measured on the (longer) reference.
  const tau = refAll.length / refEff;

  const band = referenceBand(reference, options.chunk, minRows, sigmas);
  const { mean, std } = band;

  const chunks: ChunkDrift[] = [];
  let up = 0;
  let down = 0;
  let upStart = -1;
  let downStart = -1;
  let sequential: SensorDriftResult['sequential'] = null;
  for (const g of groups(current.ts, options.chunk)) {
    const vals = finite(current.value, g.idx);
    if (vals.length < minRows) continue;
    const d = ksStatistic(refSorted, sorted(vals));
    const nEff = Math.max(1, vals.length / tau);
    const m = vals.reduce((s, v) => s + v, 0) / vals.length;
    const z = (m - mean) / std;
    // Page's two-sided CUSUM; the start is the chunk where the alarming side last left zero
    if (up === 0 && z - k > 0) upStart = g.key;
    if (down === 0 && -z - k > 0) downStart = g.key;
    up = Math.max(0, up + z - k);
    down = Math.max(0, down - z - k);
    if (sequential === null && (up > h || down > h)) sequential = { alarmAt: g.key, startedAt: up > h ? upStart : downStart };
    const p = pKs(d, refEff, nEff);
    chunks.push({
      start: g.key,
      end: current.ts[g.idx[g.idx.length - 1]!]!,
      rows: vals.length,
      statistic: d,
      mean: m,
      pValue: p,
      naivePValue: pKs(d, refAll.length, vals.length),
      nEffective: nEff,
      drifted: p < alpha,
      outsideBand: m > band.upper || m < band.lower,
      cusum: Math.max(up, down),
    });
  }
  return { chunks, band, referenceEffectiveRows: refEff, sequential };
}

export { lag1Autocorrelation };
