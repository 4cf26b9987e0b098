import FFT from 'fft.js';
import { MillwrightError } from '../errors/index.ts';

/** Options of {@link welchPsd} and {@link spectrumFeatures}. */
export interface SpectrumOptions {
  /** Samples per second (required). */
  sampleRate: number;
  /**
   * Segment length for Welch averaging, a power of two (default 4096, or the largest power of
   * two <= the signal length when shorter). Longer = finer frequency resolution (sampleRate / segment).
   */
  segment?: number;
  /** Overlap between segments in samples (default segment / 2, as scipy.signal.welch). */
  overlap?: number;
}

/** One-sided power spectral density. */
export interface Psd {
  /** Bin frequencies in Hz (0 .. sampleRate/2). */
  freq: Float64Array;
  /** Power per Hz at each bin (units²/Hz). */
  psd: Float64Array;
  /** Bin width in Hz. */
  df: number;
  /** Number of averaged segments. */
  segments: number;
}

const ffts = new Map<number, { fft: FFT; window: Float64Array; winSq: number; buf: Float64Array; out: Float64Array }>();
function plan(size: number) {
  let p = ffts.get(size);
  if (!p) {
    const window = new Float64Array(size);
    let winSq = 0;
    // Periodic Hann, as scipy.signal.get_window('hann', n) uses for spectral analysis.
    for (let i = 0; i < size; i++) {
      window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size);
      winSq += window[i]! * window[i]!;
    }
    p = { fft: new FFT(size), window, winSq, buf: new Float64Array(size), out: new Float64Array(2 * size) };
    ffts.set(size, p);
  }
  return p;
}

/**
 * Welch power spectral density: Hann-windowed segments, mean removed per segment, averaged
 * periodograms, density scaling, one-sided. Matches `scipy.signal.welch(x, fs, nperseg=segment)`
 * (defaults: hann, 50 % overlap, detrend='constant', scaling='density').
 *
 * @example
 * const { freq, psd } = welchPsd(samples, { sampleRate: 12000, segment: 4096 });
 */
export function welchPsd(x: ArrayLike<number>, options: SpectrumOptions): Psd {
  const fs = options.sampleRate;
  if (!(fs > 0)) throw new MillwrightError('BAD_INPUT', `welchPsd: sampleRate ${fs} invalid (expected a positive number of samples per second)`);
  let size = options.segment ?? 4096;
  if (!options.segment && x.length < size) size = 2 ** Math.floor(Math.log2(Math.max(2, x.length)));
  if (!(Number.isInteger(Math.log2(size)) && size >= 4)) {
    throw new MillwrightError('BAD_INPUT', `welchPsd: segment ${size} is not a power of two >= 4 (the FFT needs one)`);
  }
  if (x.length < size) {
    throw new MillwrightError('BAD_INPUT', `welchPsd: ${x.length} samples is shorter than one segment of ${size} (expected at least ${size})`);
  }
  const overlap = options.overlap ?? size / 2;
  const step = size - overlap;
  if (!(Number.isInteger(overlap) && step > 0 && overlap >= 0)) {
    throw new MillwrightError('BAD_INPUT', `welchPsd: overlap ${overlap} invalid (expected an integer in [0, segment))`);
  }
  const { fft, window, winSq, buf, out } = plan(size);
  const half = size / 2;
  const acc = new Float64Array(half + 1);
  let segments = 0;
  for (let s = 0; s + size <= x.length; s += step) {
    let mean = 0;
    for (let i = 0; i < size; i++) mean += x[s + i]!;
    mean /= size;
    for (let i = 0; i < size; i++) buf[i] = (x[s + i]! - mean) * window[i]!;
    fft.realTransform(out, buf);
    for (let k = 0; k <= half; k++) {
      const re = out[2 * k]!;
      const im = out[2 * k + 1]!;
      acc[k] += re * re + im * im;
    }
    segments++;
  }
  const scale = 1 / (fs * winSq * segments);
  const psd = new Float64Array(half + 1);
  const freq = new Float64Array(half + 1);
  const df = fs / size;
  for (let k = 0; k <= half; k++) {
    psd[k] = acc[k]! * scale * (k === 0 || k === half ? 1 : 2);
    freq[k] = k * df;
  }
  return { freq, psd, df, segments };
}

/** Options of {@link spectrumFeatures}. */
export interface SpectrumFeatureOptions extends SpectrumOptions {
  /** Frequency bands [lo, hi) in Hz whose energy to report (default: none). */
  bands?: Array<[number, number]>;
  /** Shaft speed in Hz (rpm / 60); enables energy at 1x/2x/3x (default: none). */
  runningSpeedHz?: number;
  /** Half-width in Hz of the band summed around each harmonic (default 2 bins, 2 * sampleRate / segment). */
  harmonicTolerance?: number;
}

/** Spectral features of one window. */
export interface SpectrumFeatures {
  /** Total power (∫ psd df, ≈ variance). */
  totalEnergy: number;
  /** Power-weighted mean frequency, Hz. */
  centroid: number;
  /** Frequency of the largest PSD bin (DC excluded), Hz. */
  peakFrequency: number;
  /** Energy in each of `bands`, same order. */
  bandEnergies: number[];
  /** Energy within ±harmonicTolerance of 1x, 2x, 3x running speed (NaN without runningSpeedHz). */
  energy1x: number;
  energy2x: number;
  energy3x: number;
}

/**
 * Spectrum features from a Welch PSD: band energies, energy at 1x/2x/3x running speed,
 * spectral centroid and peak frequency. FFT by fft.js (radix-4).
 *
 * @example
 * const s = spectrumFeatures(samples, { sampleRate: 12000, runningSpeedHz: 1797 / 60, bands: [[0, 1000], [1000, 3000]] });
 * s.energy1x; s.bandEnergies[1]; s.peakFrequency;
 */
export function spectrumFeatures(x: ArrayLike<number>, options: SpectrumFeatureOptions): SpectrumFeatures {
  return featuresOfPsd(welchPsd(x, options), options);
}

/**
 * {@link spectrumFeatures} from an already computed PSD (compute the PSD once, ask several questions).
 *
 * @example
 * const psd = welchPsd(samples, { sampleRate: 20000 });
 * featuresOfPsd(psd, { runningSpeedHz: 33.3 }).energy1x;
 */
export function featuresOfPsd({ freq, psd, df }: Psd, options: Omit<SpectrumFeatureOptions, 'sampleRate'> = {}): SpectrumFeatures {
  let total = 0;
  let moment = 0;
  let peakK = 1;
  for (let k = 0; k < psd.length; k++) {
    total += psd[k]!;
    moment += psd[k]! * freq[k]!;
    if (k > 0 && psd[k]! > psd[peakK]!) peakK = k;
  }
  const bandSum = (lo: number, hi: number) => {
    let e = 0;
    const k0 = Math.max(0, Math.ceil(lo / df - 1e-9));
    for (let k = k0; k < psd.length && freq[k]! < hi; k++) e += psd[k]!;
    return e * df;
  };
  const tol = options.harmonicTolerance ?? 2 * df;
  const rs = options.runningSpeedHz;
  const harmonic = (h: number) => (rs === undefined ? NaN : bandSum(h * rs - tol, h * rs + tol + 1e-9 * df));
  return {
    totalEnergy: total * df,
    centroid: total > 0 ? moment / total : NaN,
    peakFrequency: freq[peakK] ?? NaN,
    bandEnergies: (options.bands ?? []).map(([lo, hi]) => bandSum(lo, hi)),
    energy1x: harmonic(1),
    energy2x: harmonic(2),
    energy3x: harmonic(3),
  };
}
