import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';

/**
 * Summarises raw vibration (one value per sample) in consecutive windows of `size` samples:
 * rms, peak (max |x|) and kurtosis (Pearson, 3 for a Gaussian) per window; an incomplete
 * trailing window is dropped. This is what a PLC or edge gateway reports from an
 * accelerometer, and what fits a millisecond-resolution store.
 *
 * @example
 * rmsPeakKurtosis(Float64Array.from([1, -1, 1, -1]), 2); // { rms: [1, 1], peak: [1, 1], kurtosis: [1, 1] }
 */
export function rmsPeakKurtosis(x: ArrayLike<number>, size: number): { rms: Float64Array; peak: Float64Array; kurtosis: Float64Array } {
  if (!Number.isInteger(size) || size < 2) throw new MillwrightError('BAD_INPUT', `window size ${size} must be an integer >= 2`);
  const windows = Math.floor(x.length / size);
  const rms = new Float64Array(windows);
  const peak = new Float64Array(windows);
  const kurtosis = new Float64Array(windows);
  for (let w = 0; w < windows; w++) {
    let sum = 0;
    let sq = 0;
    let pk = 0;
    for (let i = w * size; i < (w + 1) * size; i++) {
      const v = x[i]!;
      sum += v;
      sq += v * v;
      pk = Math.max(pk, Math.abs(v));
    }
    const mean = sum / size;
    let m2 = 0;
    let m4 = 0;
    for (let i = w * size; i < (w + 1) * size; i++) {
      const d = x[i]! - mean;
      m2 += d * d;
      m4 += d * d * d * d;
    }
    m2 /= size;
    m4 /= size;
    rms[w] = Math.sqrt(sq / size);
    peak[w] = pk;
    kurtosis[w] = m2 > 0 ? m4 / (m2 * m2) : Number.NaN;
  }
  return { rms, peak, kurtosis };
}

/** Window features of several channels as one table: `window`, then `<channel>_{rms,peak,kurtosis}`. */
export function rmsPeakKurtosisTable(channels: Record<string, ArrayLike<number>>, size: number): ColumnTable {
  const cols: Record<string, Float64Array> = {};
  let windows = 0;
  for (const [name, x] of Object.entries(channels)) {
    const f = rmsPeakKurtosis(x, size);
    windows = f.rms.length;
    cols[`${name}_rms`] = f.rms;
    cols[`${name}_peak`] = f.peak;
    cols[`${name}_kurtosis`] = f.kurtosis;
  }
  return aq.table({ window: Float64Array.from({ length: windows }, (_, i) => i), ...cols });
}
