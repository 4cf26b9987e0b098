/**
 * Built-in `energy-load-curve`: expected consumption per interval (e.g. hourly kWh) from EXOGENOUS
 * drivers only — the local calendar (hour, weekday, holidays) and columns you name in `drivers`
 * (production volume, planned schedule, shift pattern, outdoor temperature). Never other registers
 * of the same meter (reactive energy, power factor, CO2 derived from kWh): they move with the
 * consumption itself and would make the curve circular. The model cannot tell where a column comes
 * from; it logs a warning for drivers that correlate |r| >= 0.98 with the target and records every
 * driver's correlation in the training metrics (`r_<driver>`).
 *
 * Also learns the best-achievable curve: each tree leaf stores the `best_quantile` (default 0.1) of
 * the consumption seen under its conditions, and the forest averages them (a leaf-quantile forest).
 * predict returns `{expected, best}` per row.
 *
 * @example
 * // hyperparameters.json
 * { "target": "kwh", "timezone": "Asia/Seoul", "drivers": "[\"production_t\", \"week_status\"]",
 *   "holidays": "[\"2018-10-03\", \"2018-10-09\"]" }
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import { MillwrightError } from '../../errors/index.ts';
import type { HyperparameterSchema, Metrics, TrainFn, TrainOutput } from '../../model/contract.ts';
import { compileForest, predictCompiled, type CompiledForest } from '../forest/compiled-forest.ts';
import { fitForest, predictForest, resolveMaxFeatures, type Forest } from '../forest/forest.ts';
import { saveForest } from '../forest/io.ts';
import { forestCover, saveForestCover } from '../forest/tree-cover.ts';
import { loadChannel, nameList, resolveHyperparameters } from '../hyperparameters.ts';
import { cvRmse, meetsGuideline14Hourly, nmbe, r2, rmse } from '../metrics.ts';
import { columnType, numericColumn, requireColumns } from '../table.ts';
import { CALENDAR_FEATURES, holidaySet, type CalendarFeature } from './calendar.ts';
import { energyMatrix, type EnergyModelMeta } from './model.ts';

export interface EnergyHyperparameters {
  target: string;
  unit: string;
  ts: string;
  timezone: string;
  holidays: string[];
  calendar: CalendarFeature[];
  drivers?: string[] | string;
  best_quantile: number;
  n_estimators: number;
  min_samples_leaf: number;
  max_depth: number;
  max_features: string;
  seed: number;
  holdout_fraction: number;
}

export const hyperparameters: HyperparameterSchema = {
  target: { type: 'string', required: true, description: 'Consumption column per interval (e.g. hourly kWh).' },
  unit: { type: 'string', default: 'kWh', description: 'Unit of the target (for the manifest).' },
  ts: { type: 'string', default: 'ts', description: 'Interval START timestamp column (epoch ms UTC).' },
  timezone: { type: 'string', default: 'UTC', description: 'IANA time zone of the plant (calendar features are local).' },
  holidays: { type: 'json', default: [], description: 'Public holidays / plant shutdown days as local dates "YYYY-MM-DD".' },
  calendar: {
    type: 'json',
    default: ['hour', 'weekday', 'holiday'],
    description: `Calendar features (subset of ${CALENDAR_FEATURES.join(', ')}). Add 'month' only when training covers every month.`,
  },
  drivers: { type: 'json', description: 'Exogenous driver columns (numbers, or text categories such as a planned load type).' },
  best_quantile: { type: 'number', default: 0.1, min: 0.01, max: 0.5, description: 'Quantile of consumption under the same conditions taken as best achievable.' },
  n_estimators: { type: 'integer', default: 200, min: 1, max: 5000, description: 'Number of trees.' },
  min_samples_leaf: { type: 'integer', default: 10, min: 1, description: 'Rows per leaf; also the sample each leaf quantile is taken from.' },
  max_depth: { type: 'integer', default: 0, min: 0, description: 'Maximum tree depth; 0 = unlimited.' },
  max_features: { type: 'string', default: 'all', description: "Features tried per split ('all', 'sqrt', a fraction or a count)." },
  seed: { type: 'integer', default: 42, min: 0, description: 'Random seed.' },
  holdout_fraction: {
    type: 'number',
    default: 0.2,
    min: 0,
    max: 0.9,
    description: 'Without a `validation` channel: the LAST share of the rows (by time) held out for holdout metrics; 0 = none.',
  },
};

function pearson(a: Float64Array, b: Float64Array): number {
  let n = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!) || !Number.isFinite(b[i]!)) continue;
    n++;
    sa += a[i]!;
    sb += b[i]!;
  }
  const ma = sa / n;
  const mb = sb / n;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!) || !Number.isFinite(b[i]!)) continue;
    cov += (a[i]! - ma) * (b[i]! - mb);
    va += (a[i]! - ma) ** 2;
    vb += (b[i]! - mb) ** 2;
  }
  return va === 0 || vb === 0 ? 0 : cov / Math.sqrt(va * vb);
}

function rowsOf(table: ColumnTable, rows: Int32Array | number[]): ColumnTable {
  const cols: Record<string, unknown[]> = {};
  for (const name of table.columnNames()) {
    const c = table.array(name) as ArrayLike<unknown>;
    cols[name] = Array.from(rows, (i) => c[i]);
  }
  return aq.table(cols);
}

/** Expected and best per row, best clamped to at most expected. */
export function energyPredictions(meta: EnergyModelMeta, forest: Forest | CompiledForest, table: ColumnTable, what: string): { expected: Float64Array; best: Float64Array } {
  const n = table.numRows();
  const X = energyMatrix(meta, table, what);
  const out = 'layout' in forest ? predictCompiled(forest, X, n) : predictForest(forest, X, n);
  const expected = new Float64Array(n);
  const best = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    expected[r] = out[r * 2]!;
    best[r] = Math.min(out[r * 2 + 1]!, out[r * 2]!);
  }
  return { expected, best };
}

function curveMetrics(meta: EnergyModelMeta, forest: Forest | CompiledForest, table: ColumnTable): Metrics {
  const { expected, best } = energyPredictions(meta, forest, table, 'energy metrics');
  const actual = numericColumn(table, meta.target);
  const cv = cvRmse(actual, expected);
  const bias = nmbe(actual, expected);
  let below = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i]! < best[i]!) below++;
  return {
    rows: table.numRows(),
    cv_rmse: cv,
    nmbe: bias,
    rmse: rmse(actual, expected),
    r2: r2(actual, expected),
    guideline14: meetsGuideline14Hourly({ cvRmse: cv, nmbe: bias }) ? 1 : 0,
    below_best_rate: below / Math.max(1, actual.length),
  };
}

export const train: TrainFn<EnergyHyperparameters> = async (ctx): Promise<TrainOutput> => {
  const hp = resolveHyperparameters<EnergyHyperparameters>(hyperparameters, ctx.hyperparameters as unknown as Record<string, unknown>);
  const holidays = [...holidaySet(hp.holidays)].sort();
  if (!Array.isArray(hp.calendar) || !hp.calendar.every((c) => CALENDAR_FEATURES.includes(c))) {
    throw new MillwrightError('BAD_INPUT', `hyperparameter "calendar": ${JSON.stringify(hp.calendar)} is not valid (expected a list of ${CALENDAR_FEATURES.join(', ')})`);
  }
  const drivers = nameList(hp.drivers, 'drivers') ?? [];
  if (drivers.includes(hp.target)) throw new MillwrightError('BAD_INPUT', `drivers: the target ${JSON.stringify(hp.target)} cannot be its own driver`);
  if (hp.calendar.length + drivers.length === 0) throw new MillwrightError('BAD_INPUT', 'energy-load-curve: no calendar feature and no driver: nothing to learn from');

  const raw = await loadChannel(ctx as never, 'train');
  requireColumns(raw, [hp.ts, hp.target, ...drivers], 'energy-load-curve training data');
  const target = numericColumn(raw, hp.target);
  const labelled: number[] = [];
  for (let i = 0; i < target.length; i++) if (Number.isFinite(target[i]!)) labelled.push(i);
  if (labelled.length === 0) throw new MillwrightError('BAD_INPUT', `target ${JSON.stringify(hp.target)} has no numeric values`);
  if (labelled.length < target.length) ctx.log.warn('dropping rows without a target value', { dropped: target.length - labelled.length });
  // chronological order, so the holdout is the most recent period
  const tsAll = numericColumn(raw, hp.ts);
  labelled.sort((a, b) => tsAll[a]! - tsAll[b]!);
  const table = rowsOf(raw, labelled);

  const categories: Record<string, string[]> = {};
  const collinearity: Record<string, number> = {};
  for (const d of drivers) {
    if (columnType(table, d) === 'string') {
      categories[d] = [...new Set(Array.from(table.array(d) as ArrayLike<unknown>, (v) => String(v)))].sort();
      continue;
    }
    const col = numericColumn(table, d);
    if (!col.some((v) => Number.isFinite(v))) throw new MillwrightError('BAD_INPUT', `driver ${JSON.stringify(d)} has no numeric values`);
    const r = pearson(col, numericColumn(table, hp.target));
    if (Math.abs(r) >= 0.98) {
      // A warning, not a refusal: a real production driver can correlate this strongly with energy
      // in an energy-intensive plant, so correlation cannot prove a column comes from the meter.
      ctx.log.warn(
        `driver ${JSON.stringify(d)} correlates r=${r.toFixed(3)} with the target ${JSON.stringify(hp.target)}: if it is a register of the same meter ` +
          '(reactive energy, power factor, CO2 computed from kWh) the load curve is circular; use exogenous drivers only (production, schedule, weather)',
        { driver: d, r },
      );
    }
    collinearity[d] = r;
  }
  const meta: EnergyModelMeta = {
    format: 'millwright-energy-load-curve',
    version: 1,
    target: hp.target,
    unit: hp.unit,
    ts: hp.ts,
    timezone: hp.timezone,
    holidays,
    calendar: hp.calendar,
    drivers,
    categories,
    bestQuantile: hp.best_quantile,
    inputs: [...hp.calendar, ...drivers],
  };

  let trainTable = table;
  let holdoutTable: ColumnTable | undefined;
  if (ctx.channels.validation !== undefined) holdoutTable = await loadChannel(ctx as never, 'validation');
  else if (hp.holdout_fraction > 0 && table.numRows() >= 20) {
    const cut = Math.floor(table.numRows() * (1 - hp.holdout_fraction));
    trainTable = table.slice(0, cut).reify();
    holdoutTable = table.slice(cut).reify();
  }

  const n = trainTable.numRows();
  const F = meta.inputs.length;
  const rowMajor = energyMatrix(meta, trainTable, 'energy-load-curve training data');
  const X = new Float32Array(n * F);
  for (let r = 0; r < n; r++) for (let f = 0; f < F; f++) X[f * n + r] = rowMajor[r * F + f]!;
  const t0 = performance.now();
  const forest = fitForest(X, n, F, { kind: 'regression', y: numericColumn(trainTable, hp.target) }, {
    nEstimators: hp.n_estimators,
    maxDepth: hp.max_depth,
    minSamplesLeaf: hp.min_samples_leaf,
    maxFeatures: resolveMaxFeatures(hp.max_features, F),
    maxSamples: 1,
    bins: 255,
    seed: hp.seed,
    leafQuantiles: [hp.best_quantile],
    onTree: (done, total) => ctx.log.progress(done, total, 'trees'),
  });
  await saveForest(forest, ctx.modelDir);
  await saveForestCover(forestCover(forest, X, n, { seed: hp.seed, maxSamples: 1 }), ctx.modelDir);
  await writeFile(join(ctx.modelDir, 'energy.json'), JSON.stringify(meta, null, 2) + '\n');

  const compiled = compileForest(forest);
  const training: Metrics = { ...curveMetrics(meta, compiled, trainTable), train_seconds: (performance.now() - t0) / 1000 };
  for (const [d, r] of Object.entries(collinearity)) training[`r_${d}`] = r;
  const holdout = holdoutTable !== undefined ? curveMetrics(meta, compiled, holdoutTable) : undefined;
  ctx.log.info('energy load curve trained', { training, holdout });
  const tsCol = numericColumn(trainTable, hp.ts);
  return {
    task: 'energy',
    features: [
      { name: hp.ts, type: 'number', unit: 'epoch ms', description: 'interval start' },
      ...drivers.map((d) => ({ name: d, type: categories[d] !== undefined ? ('string' as const) : ('number' as const) })),
    ],
    target: { name: hp.target, type: 'number', unit: hp.unit },
    metrics: { training, ...(holdout ? { holdout } : {}) },
    trainingTable: trainTable.select([hp.ts, ...drivers, hp.target]),
    trainingData: { rows: n, from: new Date(tsCol[0]!).toISOString(), to: new Date(tsCol[n - 1]!).toISOString() },
  };
};
