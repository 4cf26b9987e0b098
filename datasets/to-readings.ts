import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';
import type { ReadingBatch } from '../lib/readings/index.ts';
import { CWRU_SAMPLE_RATE, type CwruFault } from './cwru.ts';
import { SKAB_SIGNALS } from './skab.ts';
import { concatBatches, tableToReadings } from './table-to-readings.ts';
import { rmsPeakKurtosisTable } from './window-features.ts';

/** Signals the steel plant's meter reports (asset `plant` at site `daewoo-steel`). */
export const STEEL_SIGNALS = ['usage_kwh', 'lagging_reactive_kvarh', 'leading_reactive_kvarh', 'co2_tco2', 'lagging_pf', 'leading_pf'];

/**
 * Steel table ({@link loadSteel}) → readings: site `daewoo-steel`, asset `plant`, one signal per
 * numeric column in {@link STEEL_SIGNALS}.
 */
export function steelToReadings(table: ColumnTable): ReadingBatch {
  return tableToReadings(table, { site: 'daewoo-steel', asset: 'plant', signals: STEEL_SIGNALS });
}

/**
 * NAB table ({@link loadNab}) → readings: site `nab`, asset `machine` (machine_temperature)
 * or `office` (ambient_temperature), signal `temperature`. Load with `dropDuplicateTimes` first
 * if the store should not hold two values for the repeated hour.
 */
export function nabToReadings(table: ColumnTable, series: 'machine_temperature' | 'ambient_temperature' = 'machine_temperature'): ReadingBatch {
  return tableToReadings(table, { site: 'nab', asset: series === 'machine_temperature' ? 'machine' : 'office', signals: { value: 'temperature' } });
}

/**
 * SKAB table ({@link loadSkab}) → readings: site `skab`, asset = experiment with `/` replaced
 * by `-` (`valve1-3`; the anomaly-free run is `anomaly-free`), the 8 sensor signals under their
 * snake_case names. Labels (`anomaly`, `changepoint`) stay in the wide table.
 */
export function skabToReadings(table: ColumnTable): ReadingBatch {
  const experiment = table.array('experiment') as string[];
  return tableToReadings(table, {
    site: 'skab',
    asset: (i) => (experiment[i] === 'anomaly-free/anomaly-free' ? 'anomaly-free' : experiment[i]!.replace('/', '-')),
    signals: Object.values(SKAB_SIGNALS),
  });
}

/** Options of {@link cwruToReadings}. */
export interface CwruReadingsOptions {
  /** Samples per window (default 1200 = 100 ms at 12 kHz). */
  windowSamples?: number;
  /** Epoch ms of each recording's first window; CWRU has no wall clock (default 2000-01-01T00:00Z). */
  start?: number;
}

/**
 * CWRU raw table ({@link loadCwru}) → readings of per-window vibration features, because raw
 * 12 kHz samples do not fit a millisecond timeline: site `cwru`, asset `bearing-<fault>`
 * (`bearing-normal`, `bearing-inner_race`, ...), signals `{de,fe,ba}_{rms,peak,kurtosis}` in g,
 * one reading per window at `start + window * windowSamples / 12 kHz`.
 */
export function cwruToReadings(table: ColumnTable, options: CwruReadingsOptions = {}): ReadingBatch {
  const size = options.windowSamples ?? 1200;
  const start = options.start ?? Date.UTC(2000, 0, 1);
  const windowMs = (size * 1000) / CWRU_SAMPLE_RATE;
  const faults = [...new Set(table.array('fault') as string[])] as CwruFault[];
  const faultCol = table.array('fault') as string[];
  const batches = faults.map((fault) => {
    const rows = Array.from(faultCol.keys()).filter((i) => faultCol[i] === fault);
    const pick = (c: string) => {
      const all = table.array(c) as Float64Array;
      return Float64Array.from(rows, (i) => all[i]!);
    };
    const channels: Record<string, Float64Array> = { de: pick('de_g'), fe: pick('fe_g') };
    const ba = pick('ba_g');
    if (!ba.every(Number.isNaN)) channels.ba = ba;
    const features = rmsPeakKurtosisTable(channels, size);
    const ts = Float64Array.from(features.array('window') as Float64Array, (w) => Math.round(start + w * windowMs));
    const withTs = features.assign({ ts });
    return tableToReadings(withTs, { site: 'cwru', asset: `bearing-${fault}`, signals: features.columnNames().filter((c) => c !== 'window') });
  });
  return concatBatches(batches);
}

/**
 * IMS features table ({@link loadImsFeatures}) → readings: site `ims`, assets `bearing1`..`bearing4`,
 * signals `mean_abs`, `rms`, `peak`, `kurtosis` (g), one reading per snapshot.
 */
export function imsToReadings(table: ColumnTable): ReadingBatch {
  const batches = [1, 2, 3, 4].map((b) =>
    tableToReadings(table, {
      site: 'ims',
      asset: `bearing${b}`,
      signals: { [`b${b}_mean_abs`]: 'mean_abs', [`b${b}_rms`]: 'rms', [`b${b}_peak`]: 'peak', [`b${b}_kurtosis`]: 'kurtosis' },
    }),
  );
  return concatBatches(batches);
}

/** Error for datasets that have no timeline (AI4I, C-MAPSS): they are tables, not readings. */
export function notATimeSeries(name: string): MillwrightError {
  return new MillwrightError('BAD_INPUT', `dataset ${name} is not a time series, so it has no long form (load it wide, without --long)`);
}
