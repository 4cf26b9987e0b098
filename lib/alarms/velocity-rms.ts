import FFT from 'fft.js';
import { MillwrightError } from '../errors/index.ts';

const G = 9.80665;
const plans = new Map<number, { fft: FFT; buf: Float64Array; out: Float64Array }>();

/**
 * Broadband velocity r.m.s. (mm/s) over a frequency band from acceleration samples in g: the
 * spectrum of the (mean-removed) acceleration is integrated in the frequency domain (divide each
 * bin by 2*pi*f) and summed over the band (Parseval), which is how ISO 20816 severity is
 * measured (10-1000 Hz). The window is zero-padded to a power of two; no taper, so a whole
 * number of shaft turns per window gives the exact r.m.s.
 *
 * @example
 * import { velocityRms } from 'millwright';
 * const mmPerS = velocityRms(samplesInG, 5120);
 */
export function velocityRms(accelG: ArrayLike<number>, sampleRate: number, band: readonly [number, number] = [10, 1000]): number {
  const n = accelG.length;
  if (n < 4 || !(sampleRate > 0)) throw new MillwrightError('BAD_INPUT', `velocityRms: need at least 4 samples and a sample rate > 0 (got ${n} samples at ${sampleRate} Hz)`);
  let size = 4;
  while (size < n) size *= 2;
  let p = plans.get(size);
  if (!p) {
    p = { fft: new FFT(size), buf: new Float64Array(size), out: new Float64Array(2 * size) };
    plans.set(size, p);
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += accelG[i]!;
  mean /= n;
  p.buf.fill(0);
  for (let i = 0; i < n; i++) p.buf[i] = (accelG[i]! - mean) * G * 1000; // mm/s^2
  p.fft.realTransform(p.out, p.buf);
  const df = sampleRate / size;
  let sum = 0;
  for (let k = 1; k < size / 2; k++) {
    const f = k * df;
    if (f < band[0] || f > band[1]) continue;
    const re = p.out[2 * k]!;
    const im = p.out[2 * k + 1]!;
    const w = 2 * Math.PI * f;
    sum += (re * re + im * im) / (w * w);
  }
  // One-sided spectrum of n real samples: mean square = 2 * sum |X_k|^2 / n^2 (zero padding keeps the sum, the length is n).
  return Math.sqrt((2 * sum) / (n * size));
}
