import { MillwrightError } from '../errors/index.ts';

/** Time-domain condition indicators of one vibration window (one axis). */
export interface TimeDomainFeatures {
  /** Number of samples. */
  n: number;
  /** Arithmetic mean (the DC offset). */
  mean: number;
  /** Mean absolute value (after DC removal when `removeDc`). */
  meanAbs: number;
  /** Root mean square (after DC removal when `removeDc`, i.e. the population standard deviation). */
  rms: number;
  /** Largest absolute value (after DC removal when `removeDc`). */
  peak: number;
  /** max - min (DC does not matter). */
  peakToPeak: number;
  /** peak / rms. */
  crestFactor: number;
  /** Pearson kurtosis m4 / m2^2 (3 for a Gaussian; not the excess kurtosis). Central moments, so DC does not matter. */
  kurtosis: number;
  /** Skewness m3 / m2^1.5 (population, biased, like scipy.stats.skew). */
  skewness: number;
  /** rms / meanAbs. */
  shapeFactor: number;
  /** peak / meanAbs. */
  impulseFactor: number;
}

/** Options of {@link timeDomainFeatures}. */
export interface TimeDomainOptions {
  /**
   * Subtract the mean before rms, peak and meanAbs (default true): accelerometers carry a DC
   * offset that says nothing about the machine. Set false to get the raw-signal figures
   * (the IMS reference table uses raw rms/peak/mean_abs).
   */
  removeDc?: boolean;
  /** First sample (inclusive, default 0). */
  start?: number;
  /** Last sample (exclusive, default x.length). */
  end?: number;
}

/**
 * Time-domain vibration features of one window of one axis: RMS, peak, peak-to-peak, crest
 * factor, kurtosis, skewness, shape and impulse factors. Two tight passes over the samples
 * (mean/min/max, then central moments), no allocation: this runs at hundreds of millions of
 * samples per second.
 *
 * @example
 * const f = timeDomainFeatures(new Float64Array([0.1, -0.2, 0.3, -0.1]));
 * f.rms; f.kurtosis; f.crestFactor;
 */
export function timeDomainFeatures(x: ArrayLike<number>, options: TimeDomainOptions = {}): TimeDomainFeatures {
  const removeDc = options.removeDc ?? true;
  const start = options.start ?? 0;
  const end = options.end ?? x.length;
  if (!(start >= 0 && end <= x.length && end > start)) {
    throw new MillwrightError('BAD_INPUT', `timeDomainFeatures: empty or out-of-range window [${start}, ${end}) of ${x.length} samples (expected 0 <= start < end <= length)`);
  }
  const n = end - start;
  let s = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = start; i < end; i++) {
    const v = x[i]!;
    s += v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(s)) {
    throw new MillwrightError('BAD_INPUT', 'timeDomainFeatures: window contains NaN or infinite samples (expected finite numbers; drop or interpolate them first)');
  }
  const mean = s / n;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  let abs = 0;
  for (let i = start; i < end; i++) {
    const d = x[i]! - mean;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
    abs += d < 0 ? -d : d;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  let rms: number;
  let meanAbs: number;
  let peak: number;
  if (removeDc) {
    rms = Math.sqrt(m2);
    meanAbs = abs / n;
    peak = Math.max(hi - mean, mean - lo);
  } else {
    rms = Math.sqrt(m2 + mean * mean);
    let a = 0;
    for (let i = start; i < end; i++) {
      const v = x[i]!;
      a += v < 0 ? -v : v;
    }
    meanAbs = a / n;
    peak = Math.max(Math.abs(hi), Math.abs(lo));
  }
  return {
    n,
    mean,
    meanAbs,
    rms,
    peak,
    peakToPeak: hi - lo,
    crestFactor: peak / rms,
    kurtosis: m4 / (m2 * m2),
    skewness: m3 / Math.pow(m2, 1.5),
    shapeFactor: rms / meanAbs,
    impulseFactor: peak / meanAbs,
  };
}

/** The feature names of {@link TimeDomainFeatures}, in column order. */
export const TIME_DOMAIN_FEATURES = [
  'mean', 'meanAbs', 'rms', 'peak', 'peakToPeak', 'crestFactor', 'kurtosis', 'skewness', 'shapeFactor', 'impulseFactor',
] as const;

/** Options of {@link vibrationWindows}. */
export interface VibrationWindowOptions extends Omit<TimeDomainOptions, 'start' | 'end'> {
  /** Samples per window (default: the whole signal, one window). */
  windowSize?: number;
  /** Samples between window starts (default windowSize: no overlap). A trailing partial window is dropped. */
  hop?: number;
}

/**
 * Splits one axis into fixed-size windows and computes {@link timeDomainFeatures} for each.
 * Returns columns (one Float64Array per feature, plus `start` = first sample index), ready for
 * `aq.table(...)`.
 *
 * @example
 * const cols = vibrationWindows(samples, { windowSize: 2048 });
 * aq.table(cols).print();
 */
export function vibrationWindows(x: ArrayLike<number>, options: VibrationWindowOptions = {}): Record<'start' | (typeof TIME_DOMAIN_FEATURES)[number], Float64Array> {
  const size = options.windowSize ?? x.length;
  const hop = options.hop ?? size;
  if (!(Number.isInteger(size) && size > 1 && Number.isInteger(hop) && hop > 0)) {
    throw new MillwrightError('BAD_INPUT', `vibrationWindows: windowSize ${size} / hop ${hop} invalid (expected integers, windowSize >= 2, hop >= 1)`);
  }
  const count = x.length >= size ? Math.floor((x.length - size) / hop) + 1 : 0;
  const out = { start: new Float64Array(count) } as Record<'start' | (typeof TIME_DOMAIN_FEATURES)[number], Float64Array>;
  for (const k of TIME_DOMAIN_FEATURES) out[k] = new Float64Array(count);
  for (let w = 0; w < count; w++) {
    const start = w * hop;
    const f = timeDomainFeatures(x, { removeDc: options.removeDc, start, end: start + size });
    out.start[w] = start;
    for (const k of TIME_DOMAIN_FEATURES) out[k][w] = f[k];
  }
  return out;
}
