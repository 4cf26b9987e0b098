import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../lib/errors/index.ts';
import type { ReadingBatch } from '../lib/readings/index.ts';
import { loadAi4i } from './ai4i.ts';
import { CMAPSS_COLUMNS, loadCmapss } from './cmapss.ts';
import { loadCwru } from './cwru.ts';
import { loadImsFeatures } from './ims.ts';
import { loadNab } from './nab.ts';
import { loadSkab, SKAB_SIGNALS } from './skab.ts';
import { loadSteel } from './steel.ts';
import { concatBatches } from './table-to-readings.ts';
import { cwruToReadings, imsToReadings, nabToReadings, notATimeSeries, skabToReadings, steelToReadings } from './to-readings.ts';

/** One column of a dataset's loaded (wide) table. */
export interface ColumnInfo {
  name: string;
  type: 'number' | 'string';
  /** Physical unit, or '' when dimensionless or a label. */
  unit: string;
  description: string;
}

/** A catalogue entry: what the dataset is, where it comes from, and how millwright reads it. */
export interface DatasetInfo {
  /** Folder name under the data directory, and the CLI name. */
  name: string;
  title: string;
  /** Original publisher's page. */
  source: string;
  licence: string;
  /** Files (relative to `<dataDir>/<name>/`) the loader reads. */
  files: string[];
  /** `time-series` has a `ts` column (epoch ms UTC) and a long form; `table` does not. */
  kind: 'time-series' | 'table';
  sampling: string;
  /** Rows of the loaded table with the data shipped in ../shared/datasets. */
  rows: number;
  /** Labels or targets, for model training. */
  targets: string;
  schema: ColumnInfo[];
  /** Parsing quirks of the published files and how the loader handles them. */
  quirks: string[];
  /** How the long form names things (site/asset/signal), or why there is none. */
  readings: string;
  /** Loads the wide table (the catalogue default options). */
  load(dir?: string): ColumnTable;
  /** Loads the long form; throws BAD_INPUT for datasets that are not time series. */
  toReadings(dir?: string): ReadingBatch;
}

const n = (name: string, unit: string, description: string): ColumnInfo => ({ name, type: 'number', unit, description });
const s = (name: string, description: string): ColumnInfo => ({ name, type: 'string', unit: '', description });
const TS = n('ts', 'epoch ms UTC', 'time of the reading');

/** The real datasets millwright knows, in the order `millwright datasets list` prints them. */
export const catalogue: DatasetInfo[] = [
  {
    name: 'steel-industry-energy',
    title: 'Steel industry energy consumption (DAEWOO Steel, Gwangyang, Korea, 2018)',
    source: 'https://archive.ics.uci.edu/dataset/851/steel+industry+energy+consumption',
    licence: 'CC BY 4.0',
    files: ['Steel_industry_data.csv'],
    kind: 'time-series',
    sampling: '15 min, 2018-01-01 00:15 .. 2019-01-01 00:00 Asia/Seoul (2017-12-31T15:15Z .. 2018-12-31T15:00Z)',
    rows: 35_040,
    targets: 'usage_kwh (regression: energy per 15 min), load_type (Light_Load / Medium_Load / Maximum_Load)',
    schema: [
      TS,
      n('usage_kwh', 'kWh', 'active energy used in the 15 min ending at ts'),
      n('lagging_reactive_kvarh', 'kVArh', 'lagging current reactive energy'),
      n('leading_reactive_kvarh', 'kVArh', 'leading current reactive energy'),
      n('co2_tco2', 'tCO2', 'CO2 emitted (as published, mostly 0 at this resolution)'),
      n('lagging_pf', '%', 'lagging current power factor'),
      n('leading_pf', '%', 'leading current power factor'),
      n('nsm', 's', 'seconds since local midnight of the labelled date (0 = midnight)'),
      s('week_status', 'Weekday / Weekend, of the labelled date'),
      s('day_of_week', 'Monday..Sunday, of the labelled date'),
      s('load_type', 'Light_Load / Medium_Load / Maximum_Load'),
    ],
    quirks: [
      'UTF-8 BOM before the header: stripped.',
      'Dates are d/m/yyyy H:MM with or without zero padding ("1/1/2018 0:15", "31/12/2018 00:00"): parsed by a tolerant pattern and checked against NSM.',
      "Each day's midnight row carries that day's date but comes last in the day (1/1/2018 0:00 follows 1/1/2018 23:45): rows with NSM == 0 are moved to date + 1 day, so ts is strictly increasing in 15-min steps.",
      'Local plant time Asia/Seoul (UTC+9, no DST): converted to UTC.',
      'week_status/day_of_week of a midnight row describe the labelled (previous) day, as published.',
      'Columns renamed to snake_case (Usage_kWh -> usage_kwh, Lagging_Current_Reactive.Power_kVarh -> lagging_reactive_kvarh, ...).',
    ],
    readings: 'site daewoo-steel, asset plant, signals usage_kwh, lagging_reactive_kvarh, leading_reactive_kvarh, co2_tco2, lagging_pf, leading_pf (210,240 readings)',
    load: (dir) => loadSteel(dir),
    toReadings: (dir) => steelToReadings(loadSteel(dir)),
  },
  {
    name: 'nab-machine-temperature',
    title: 'NAB machine temperature system failure (plus office ambient temperature)',
    source: 'https://github.com/numenta/NAB',
    licence: 'MIT (LICENSE.txt in the folder)',
    files: ['machine_temperature_system_failure.csv', 'ambient_temperature_system_failure.csv', 'combined_windows.json'],
    kind: 'time-series',
    sampling: '5 min, 2013-12-02 21:15 .. 2014-02-19 15:25 (zone-less, read as UTC); ambient series hourly with gaps',
    rows: 22_695,
    targets: 'anomaly (1 inside one of the 4 labelled windows of combined_windows.json); the machine fails at the end',
    schema: [TS, n('value', 'unknown (as published)', 'temperature of an internal component of a large industrial machine'), n('anomaly', '', '1 inside a labelled anomaly window, else 0')],
    quirks: [
      'Timestamps have no zone: read as UTC (loadNab option utcOffsetMinutes to change).',
      'The hour 2014-01-07 02:00..02:55 appears twice with different values (12 repeated timestamps): kept as published; loadNab(dir, { dropDuplicateTimes: true }) keeps the first occurrence (22,683 rows, strictly increasing).',
      'Anomaly windows live in combined_windows.json under realKnownCause/<series>_system_failure.csv; windows are inclusive at both ends.',
      'loadNab(dir, { series: "ambient_temperature" }) loads the office series (7,267 hourly rows, with gaps).',
    ],
    readings: 'site nab, asset machine (machine temperature) and office (ambient), signal temperature; repeated timestamps dropped (first kept)',
    load: (dir) => loadNab(dir),
    toReadings: (dir) =>
      concatBatches([
        nabToReadings(loadNab(dir, { dropDuplicateTimes: true }), 'machine_temperature'),
        nabToReadings(loadNab(dir, { series: 'ambient_temperature', dropDuplicateTimes: true }), 'ambient_temperature'),
      ]),
  },
  {
    name: 'skab',
    title: 'SKAB: Skoltech Anomaly Benchmark (water-pump testbed)',
    source: 'https://github.com/waico/SKAB',
    licence: 'GPL-3.0 (LICENSE in the folder)',
    files: ['data/anomaly-free/anomaly-free.csv', 'data/valve1/*.csv', 'data/valve2/*.csv', 'data/other/*.csv'],
    kind: 'time-series',
    sampling: '1 s (with occasional 2-5 s steps), 34 experiments of ~20 min plus a 2.8 h anomaly-free run (35 files), Feb-Mar 2020',
    rows: 46_806,
    targets: 'anomaly (0/1), changepoint (0/1); the anomaly-free run has neither (0)',
    schema: [
      TS,
      s('experiment', 'group/file, e.g. valve1/3 or anomaly-free/anomaly-free'),
      s('group', 'anomaly-free, valve1 (inlet valve closing), valve2 (outlet valve closing), other (leaks, imbalance, cavitation, ...)'),
      n('accelerometer1_rms', 'g', 'vibration RMS, accelerometer 1'),
      n('accelerometer2_rms', 'g', 'vibration RMS, accelerometer 2'),
      n('current', 'A', 'motor current'),
      n('pressure', 'bar', 'pressure in the loop after the pump'),
      n('temperature', '°C', 'engine temperature'),
      n('thermocouple', '°C', 'fluid temperature in the circulation loop'),
      n('voltage', 'V', 'motor voltage'),
      n('volume_flow_rate_rms', 'l/min', 'circulation flow rate'),
      n('anomaly', '', '1 during an anomaly'),
      n('changepoint', '', '1 at a change point'),
    ],
    quirks: [
      '`;` separator; some files have CRLF line ends.',
      'Timestamps have no zone. ASSUMPTION: read as UTC so they print as in the files; the testbed is in Moscow (UTC+3): pass loadSkab(dir, { utcOffsetMinutes: 180 }) for true UTC.',
      'Experiments overlap in time (e.g. other/12 and other/13), so the key is (experiment, ts).',
      'anomaly-free.csv has no anomaly/changepoint columns: filled with 0.',
      `Columns renamed: ${Object.entries(SKAB_SIGNALS)
        .map(([a, b]) => `${a} -> ${b}`)
        .join(', ')}.`,
    ],
    readings: 'site skab, asset = experiment with / as - (valve1-3, other-12, anomaly-free), the 8 sensor signals by snake_case name',
    load: (dir) => loadSkab(dir),
    toReadings: (dir) => skabToReadings(loadSkab(dir)),
  },
  {
    name: 'cwru-bearing',
    title: 'Case Western Reserve University bearing data: drive-end faults at 1797 rpm, 12 kHz',
    source: 'https://engineering.case.edu/bearingdatacenter',
    licence: 'no stated licence (publicly downloadable; cite the CWRU Bearing Data Center)',
    files: ['1797_Normal.csv.gz', '1797_IR_7_DE12.csv.gz', '1797_B_7_DE12.csv.gz', '1797_ORat6_7_DE12.csv.gz'],
    kind: 'time-series',
    sampling: '12 kHz raw acceleration (CWRU_SAMPLE_RATE), 10-20 s per recording, no wall clock',
    rows: 609_765,
    targets: 'fault: normal, inner_race, ball, outer_race (0.007 in faults, outer race at 6 o\'clock)',
    schema: [
      s('fault', 'normal / inner_race / ball / outer_race (from the file name)'),
      n('sample', '', 'sample index within the recording'),
      n('time_s', 's', 'sample / 12000'),
      n('de_g', 'g', 'drive-end accelerometer'),
      n('fe_g', 'g', 'fan-end accelerometer'),
      n('ba_g', 'g', 'base accelerometer (NaN for the normal recording, which has none)'),
    ],
    quirks: [
      'gzip-compressed CSV: decompressed in memory.',
      'No timestamps: sample index and time_s = sample / 12 kHz; the long form places 100-ms feature windows on a timeline starting 2000-01-01T00:00Z (cwruToReadings option start).',
      'The normal recording has no BA_g column: ba_g is NaN there and skipped in the long form.',
    ],
    readings: 'site cwru, asset bearing-<fault>, signals {de,fe,ba}_{rms,peak,kurtosis} per 1200-sample (100 ms) window',
    load: (dir) => loadCwru(dir),
    toReadings: (dir) => cwruToReadings(loadCwru(dir)),
  },
  {
    name: 'nasa-ims-bearing',
    title: 'IMS bearing run-to-failure, test 2 (NASA PCoE / University of Cincinnati)',
    source: 'https://www.nasa.gov/intelligent-systems-division/discovery-and-systems-health/pcoe/pcoe-data-set-repository/',
    licence: 'public NASA PCoE data (no explicit licence; cite Qiu et al., IMS, Univ. of Cincinnati)',
    files: ['ims_2nd_test_features_per_file.csv', 'raw_2nd_test/YYYY.MM.DD.HH.MM.SS'],
    kind: 'time-series',
    sampling: 'features: one row per 10-min snapshot, 2004-02-12 10:32:39 .. 2004-02-19 06:22:39 (984 rows); raw: 20 kHz, 20,480 x 4 per snapshot (loadImsRaw)',
    rows: 984,
    targets: 'ttf_hours (time to failure: hours until the last snapshot, when bearing 1 fails with an outer-race defect)',
    schema: [
      TS,
      n('n_samples', '', 'samples per channel in the snapshot (20480)'),
      ...[1, 2, 3, 4].flatMap((b) => [
        n(`b${b}_mean_abs`, 'g', `bearing ${b} mean |acceleration|`),
        n(`b${b}_rms`, 'g', `bearing ${b} RMS acceleration`),
        n(`b${b}_peak`, 'g', `bearing ${b} peak |acceleration|`),
        n(`b${b}_kurtosis`, '', `bearing ${b} kurtosis`),
      ]),
      n('ttf_hours', 'h', 'hours until the end of the test (failure)'),
    ],
    quirks: [
      'Raw files: tab-separated, no header, CRLF, 4 channels; the file name YYYY.MM.DD.HH.MM.SS is the snapshot time (zone-less, read as UTC).',
      'loadImsRaw gives snapshot, sample, ts = snapshot + sample / 20 kHz (fractional ms), b1..b4; only the snapshots present in raw_2nd_test are read.',
      'The catalogue loader (datasets load) returns the features table, which covers the whole run.',
    ],
    readings: 'site ims, assets bearing1..bearing4, signals mean_abs, rms, peak, kurtosis (from the features file)',
    load: (dir) => loadImsFeatures(dir),
    toReadings: (dir) => imsToReadings(loadImsFeatures(dir)),
  },
  {
    name: 'ai4i2020',
    title: 'AI4I 2020 predictive maintenance dataset (SYNTHETIC milling machine)',
    source: 'https://archive.ics.uci.edu/dataset/601/ai4i+2020+predictive+maintenance+dataset',
    licence: 'CC BY 4.0',
    files: ['ai4i2020.csv'],
    kind: 'table',
    sampling: 'not a time series: 10,000 independent rows',
    rows: 10_000,
    targets: 'machine_failure (339 positives); modes twf, hdf, pwf, osf, rnf',
    schema: [
      n('udi', '', 'row id'),
      s('product_id', 'product serial, prefixed by quality variant'),
      s('type', 'quality variant L / M / H'),
      n('air_temperature_k', 'K', 'air temperature'),
      n('process_temperature_k', 'K', 'process temperature'),
      n('rotational_speed_rpm', 'rpm', 'spindle speed'),
      n('torque_nm', 'Nm', 'torque'),
      n('tool_wear_min', 'min', 'tool wear'),
      n('machine_failure', '', '1 when any failure mode occurred'),
      n('twf', '', 'tool wear failure'),
      n('hdf', '', 'heat dissipation failure'),
      n('pwf', '', 'power failure'),
      n('osf', '', 'overstrain failure'),
      n('rnf', '', 'random failure'),
    ],
    quirks: ['UTF-8 BOM before the header: stripped.', 'Column names with units in brackets renamed to snake_case with the unit as suffix.', 'Synthetic per its authors: no timeline, no long form.'],
    readings: 'none: not a time series',
    load: (dir) => loadAi4i(dir),
    toReadings: () => {
      throw notATimeSeries('ai4i2020');
    },
  },
  {
    name: 'nasa-cmapss',
    title: 'C-MAPSS turbofan engine degradation, FD001 (SIMULATED)',
    source: 'https://www.nasa.gov/intelligent-systems-division/discovery-and-systems-health/pcoe/pcoe-data-set-repository/',
    licence: 'public NASA PCoE data (no explicit licence; cite Saxena et al., PHM08)',
    files: ['train_FD001.txt', 'test_FD001.txt', 'RUL_FD001.txt'],
    kind: 'table',
    sampling: 'one row per engine cycle; train 100 units run to failure (20,631 rows), test 100 units cut short (13,096 rows)',
    rows: 20_631,
    targets: 'rul (remaining useful life, cycles): last cycle - cycle for train; RUL_FD001.txt + (last cycle - cycle) for test',
    schema: [
      ...CMAPSS_COLUMNS.map((c) =>
        c === 'unit' ? n(c, '', 'engine id') : c === 'cycle' ? n(c, 'cycles', 'operating cycle') : c.startsWith('setting') ? n(c, '', 'operational setting') : n(c, '', `sensor ${c.slice(1)} (unit not published)`),
      ),
      n('rul', 'cycles', 'remaining useful life'),
    ],
    quirks: [
      'Space-separated, no header, trailing spaces on every line (also in RUL_FD001.txt): split on runs of blanks, 26 columns checked per line.',
      'loadCmapss(dir, { split: "test" }) loads the test split with RUL from RUL_FD001.txt; the catalogue loader gives train.',
      'Cycles are not wall-clock time: no long form.',
    ],
    readings: 'none: cycles, not time',
    load: (dir) => loadCmapss(dir),
    toReadings: () => {
      throw notATimeSeries('nasa-cmapss');
    },
  },
];

/**
 * The catalogue entry of a dataset by name; BAD_INPUT listing the known names otherwise.
 *
 * @example
 * getDataset('steel-industry-energy').load().numRows(); // 35040
 */
export function getDataset(name: string): DatasetInfo {
  const found = catalogue.find((d) => d.name === name);
  if (!found) throw new MillwrightError('BAD_INPUT', `unknown dataset "${name}" (expected one of ${catalogue.map((d) => d.name).join(', ')})`);
  return found;
}

/**
 * Long-form readings of a time-series dataset by name (site/asset/signal naming in each entry's
 * `readings`); BAD_INPUT for AI4I and C-MAPSS, which are not time series.
 *
 * @example
 * await writeReadings(root, toReadings('steel-industry-energy'));
 */
export function toReadings(name: string, dir?: string): ReadingBatch {
  return getDataset(name).toReadings(dir);
}
