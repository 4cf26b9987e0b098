import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { storeRoot } from '../../lib/config/index.ts';
import type { Command, CliIO } from '../command.ts';
import { numberFlag, parseCommandArgs, usageError } from '../command.ts';
import type { ModelManifest } from '../../lib/model/contract.ts';
import { readManifest } from '../../lib/model/artifact.ts';
import { computeBaseline } from '../../reports/monitor-baseline.ts';
import { loadSource, readBaselineDir } from '../../reports/load.ts';
import { addPredictions } from '../../reports/predict.ts';
import { qualityReport, driftReport, driftReportFromFeatureSummary, modelReport, energyReport } from '../../reports/presets.ts';
import { joinGroundTruth } from '../../reports/metrics/model-quality.ts';
import type { DriftTest } from '../../reports/metrics/drift.ts';
import type { ReportKind, ReportResult } from '../../reports/engine.ts';
import type { Frame } from '../../reports/data.ts';
import { ENERGY_PERFORMANCE_USAGE, runEnergyPerformance } from './energy-performance.ts';
import { ALARMS_REPORT_USAGE, runAlarmsReport } from './alarms-report.ts';
import { finishReport } from './report-output.ts';
import { GROUP_BY_OPTIONS, groupsFlag } from './group-by-flag.ts';
import type { SensorFaultsOptions } from '../../reports/metrics/sensor-faults.ts';

function list(s: string | undefined): string[] | undefined {
  return s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean);
}


function src(io: CliIO, s: string): string {
  return s.startsWith('sql:') ? s : resolve(io.cwd, s);
}

/** The quality report's sensor-fault options: --no-faults, --stuck, --gap-factor, --group-by [--asset-model]. */
async function faultsOptions(values: Record<string, string | boolean | undefined>, root: string, io: CliIO): Promise<SensorFaultsOptions | false | undefined> {
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const groupBy = await groupsFlag(str('group-by'), str('asset-model'), root, io);
  if (groupBy && values['no-faults']) throw usageError('--group-by groups the sensor-fault counts: it cannot go with --no-faults');
  if (values['no-faults']) return false;
  const tuned = str('stuck') || str('gap-factor') ? { stuckMinReadings: numberFlag('stuck', str('stuck')), gapFactor: numberFlag('gap-factor', str('gap-factor')) } : undefined;
  return tuned || groupBy ? { ...tuned, ...(groupBy ? { groupBy } : {}) } : undefined;
}

const baselineCommand: Command = {
  name: 'baseline',
  summary: 'Compute statistics.json + constraints.json (SageMaker Model Monitor layout) from training data',
  usage: `millwright baseline <data> --out DIR [options]

  <data>             a .csv or .parquet file, or sql:<query> over the store's readings view
  --out DIR          directory for statistics.json and constraints.json (required)
  --exclude a,b      columns to leave out (e.g. ts,id)
  --max-domain N     string columns with more distinct values get no domain constraint (default 100)
  --threshold X      distribution comparison_threshold (default 0.1)
  --store ROOT       store root for sql: sources (default MILLWRIGHT_STORE or ./.millwright/store)

Example:
  millwright baseline train.parquet --out baseline/ --exclude ts`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      allowPositionals: true,
      options: { out: { type: 'string' }, exclude: { type: 'string' }, 'max-domain': { type: 'string' }, threshold: { type: 'string' }, store: { type: 'string' } },
    });
    if (positionals.length !== 1) throw usageError('expected exactly one data source');
    if (!values.out) throw usageError('--out DIR is required');
    const frame = await loadSource(src(io, positionals[0]!), { storeRoot: storeRoot(values.store, io.env, io.cwd) });
    const { statistics, constraints } = computeBaseline(frame, {
      exclude: list(values.exclude),
      maxDomain: numberFlag('max-domain', values['max-domain']),
      comparisonThreshold: numberFlag('threshold', values.threshold),
    });
    const out = resolve(io.cwd, values.out);
    await mkdir(out, { recursive: true });
    for (const [name, doc] of [['statistics.json', statistics], ['constraints.json', constraints]] as const) {
      const tmp = join(out, `.${name}.tmp-${process.pid}`);
      await writeFile(tmp, `${JSON.stringify(doc, null, 2)}\n`);
      await rename(tmp, join(out, name));
    }
    io.out(`baseline of ${statistics.dataset.item_count} rows, ${statistics.features.length} features\n  ${join(out, 'statistics.json')}\n  ${join(out, 'constraints.json')}\n`);
    return 0;
  },
};

const REPORT_USAGE = `millwright report quality|drift|model|energy <current> [options]
       millwright report energy-performance <data> [options]   (options below)
       millwright report alarms --from T --to T [options]      (options below)

  <current>              .csv/.parquet file, sql:<query> (store's readings view), or a serving
                         capture directory / .jsonl file (SageMaker data-capture JSON Lines)
  --out DIR              where report.html, report.json, report.csv go (default ./.millwright/reports/<kind>)
  --reference SRC        reference data (same kinds of source): drift, quality side-by-side, energy driver hints
  --model DIR            model dir: features for capture files, baseline for drift without --reference,
                         training metrics for model quality, predictions (expected/best) for energy
  --store ROOT           store root for sql: sources (default MILLWRIGHT_STORE or ./.millwright/store)
  --title TEXT           report title
  --fail-on warn|fail    exit 3 (check failed) when the report's status is at least this (default: exit 0 whatever it found)

quality:  --baseline DIR (statistics.json + constraints.json), --no-faults,
          --stuck N (readings, default 30), --gap-factor X (default 3),
          --group-by site|area|line|asset [--asset-model FILE]: sensor-fault counts per group of the asset model
          (the store's assets table, or the gateway's assets file)
drift:    --columns a,b  --exclude a,b (default ts)  --state COL (compare within operating states)
          --numeric-test auto|ks|wasserstein|psi|jensenshannon  --categorical-test auto|chisquare|ztest|jensenshannon|psi
          --threshold X (for the chosen tests)  --drift-share X (default 0.5)  --calibrate
model:    --task regression|classification  --target COL (default target)  --prediction COL (default prediction)
          --truth SRC --on COL [--tolerance-ms N]  (join ground truth that arrived later; also for energy)
energy:   --actual COL (default: the model's target, else actual)  --expected COL  --best COL (default expected/best,
          or prediction_expected/prediction_best from capture files; with --model and neither, the model predicts them)
          --threshold-pct X (default 25)  --min-excess-kwh X  --price X --currency EUR  --co2 KG_PER_KWH
          --drivers a,b  --utc-offset MINUTES  --interval-end (timestamps close their interval)

Examples:
  millwright report drift oct.parquet --reference train.parquet --state Load_Type --out reports/drift
  millwright report quality /opt/ml/capture --model /opt/ml/model --baseline baseline/
  millwright report energy oct.csv --model registry/steel/3 --actual usage_kwh --price 0.12 --co2 0.45

${ENERGY_PERFORMANCE_USAGE}

${ALARMS_REPORT_USAGE}`;

const reportCommand: Command = {
  name: 'report',
  summary: 'Write a data-quality, drift, model-quality, hourly energy or energy-performance report (HTML, JSON, CSV)',
  usage: REPORT_USAGE,
  async run(args, io) {
    // Its own flags (periods, drivers, adjustments): parsed by its own module.
    if (args[0] === 'energy-performance') return runEnergyPerformance(args.slice(1), io);
    if (args[0] === 'alarms') return runAlarmsReport(args.slice(1), io);
    const { values, positionals } = parseCommandArgs(args, {
      allowPositionals: true,
      options: {
        out: { type: 'string' }, reference: { type: 'string' }, model: { type: 'string' }, store: { type: 'string' }, title: { type: 'string' }, 'fail-on': { type: 'string' },
        baseline: { type: 'string' }, 'no-faults': { type: 'boolean' }, stuck: { type: 'string' }, 'gap-factor': { type: 'string' }, ...GROUP_BY_OPTIONS,
        columns: { type: 'string' }, exclude: { type: 'string' }, state: { type: 'string' }, 'numeric-test': { type: 'string' }, 'categorical-test': { type: 'string' },
        threshold: { type: 'string' }, 'drift-share': { type: 'string' }, calibrate: { type: 'boolean' },
        task: { type: 'string' }, target: { type: 'string' }, prediction: { type: 'string' }, truth: { type: 'string' }, on: { type: 'string' }, 'tolerance-ms': { type: 'string' },
        actual: { type: 'string' }, expected: { type: 'string' }, best: { type: 'string' }, 'threshold-pct': { type: 'string' }, 'min-excess-kwh': { type: 'string' },
        price: { type: 'string' }, currency: { type: 'string' }, co2: { type: 'string' }, drivers: { type: 'string' }, 'utc-offset': { type: 'string' }, 'interval-end': { type: 'boolean' },
      },
    });
    const [kind, source, ...extra] = positionals;
    if (!kind || !['quality', 'drift', 'model', 'energy'].includes(kind)) throw usageError('expected a report kind: quality, drift, model, energy or energy-performance');
    if (!source) throw usageError(`expected the current data source after "${kind}"`);
    if (extra.length) throw usageError(`unexpected argument "${extra[0]}"`);
    const failOn = values['fail-on'];
    if (failOn !== undefined && failOn !== 'warn' && failOn !== 'fail') throw usageError(`--fail-on must be warn or fail, got "${failOn}"`);
    const root = storeRoot(values.store, io.env, io.cwd);
    const manifest: ModelManifest | undefined = values.model ? await readManifest(resolve(io.cwd, values.model)) : undefined;
    const load = (s: string) => loadSource(src(io, s), { storeRoot: root, manifest });
    let current: Frame = await load(source);
    const reference = values.reference ? await load(values.reference) : undefined;
    const common = { title: values.title, source, referenceSource: values.reference };
    let report: ReportResult;
    const tests = new Set(['ks', 'wasserstein', 'psi', 'jensenshannon', 'chisquare', 'ztest']);
    const testOpt = (name: string, v: string | undefined): DriftTest | 'auto' | undefined => {
      if (v === undefined || v === 'auto') return v as 'auto' | undefined;
      if (!tests.has(v)) throw usageError(`--${name} must be auto, ks, wasserstein, psi, jensenshannon, chisquare or ztest, got "${v}"`);
      return v as DriftTest;
    };
    switch (kind as Exclude<ReportKind, 'energy-performance' | 'alarms'>) {
      case 'quality': {
        const baseline = values.baseline ? await readBaselineDir(resolve(io.cwd, values.baseline)) : undefined;
        const faults = await faultsOptions(values, root, io);
        report = qualityReport(current, reference, { ...common, baseline, faults });
        break;
      }
      case 'drift': {
        const threshold = numberFlag('threshold', values.threshold);
        const numericTest = testOpt('numeric-test', values['numeric-test']);
        const categoricalTest = testOpt('categorical-test', values['categorical-test']);
        const thresholds = threshold === undefined ? undefined : Object.fromEntries([...tests].map((t) => [t, threshold]));
        const opts = {
          ...common, columns: list(values.columns), exclude: list(values.exclude), state: values.state, numericTest, categoricalTest, thresholds,
          driftShare: numberFlag('drift-share', values['drift-share']), calibrate: values.calibrate,
        };
        if (reference) report = driftReport(current, reference, opts);
        else if (manifest?.baseline?.length) report = driftReportFromFeatureSummary(current, manifest.baseline, { ...opts, referenceSource: `baseline of model ${manifest.name} ${manifest.version}` });
        else throw usageError('drift needs --reference SRC or --model DIR (whose manifest holds the training baseline)');
        break;
      }
      case 'model': {
        if (values.truth) {
          if (!values.on) throw usageError('--truth needs --on COL (the join key: an id or ts)');
          current = joinGroundTruth(current, await load(values.truth), { on: values.on, toleranceMs: numberFlag('tolerance-ms', values['tolerance-ms']) });
        }
        if (values.model && !current.columns.has(values.prediction ?? 'prediction')) current = await addPredictions(current, resolve(io.cwd, values.model));
        const task = (values.task ?? (manifest?.task === 'classification' ? 'classification' : 'regression')) as 'regression' | 'classification';
        if (task !== 'regression' && task !== 'classification') throw usageError(`--task must be regression or classification, got "${task}"`);
        report = modelReport(current, {
          ...common, task, target: values.target ?? manifest?.target?.name ?? 'target', prediction: values.prediction ?? 'prediction',
          trainingMetrics: manifest?.metrics.holdout ?? manifest?.metrics.training,
        });
        break;
      }
      case 'energy': {
        if (values.truth) {
          if (!values.on) throw usageError('--truth needs --on COL (the join key, e.g. ts)');
          current = joinGroundTruth(current, await load(values.truth), { on: values.on, toleranceMs: numberFlag('tolerance-ms', values['tolerance-ms']) });
        }
        // Captured traffic already holds the served model's answers.
        const expected = values.expected ?? (current.columns.has('prediction_expected') ? 'prediction_expected' : 'expected');
        const best = values.best ?? (current.columns.has('prediction_best') ? 'prediction_best' : 'best');
        if (values.model && !current.columns.has(expected) && !current.columns.has(best)) current = await addPredictions(current, resolve(io.cwd, values.model));
        report = energyReport(current, reference, {
          ...common, actual: values.actual ?? manifest?.target?.name ?? 'actual', expected, best,
          thresholdPct: numberFlag('threshold-pct', values['threshold-pct']), minExcessKwh: numberFlag('min-excess-kwh', values['min-excess-kwh']),
          pricePerKwh: numberFlag('price', values.price), currency: values.currency, co2KgPerKwh: numberFlag('co2', values.co2),
          drivers: list(values.drivers), utcOffsetMinutes: numberFlag('utc-offset', values['utc-offset']), timestampsMarkIntervalEnd: values['interval-end'],
        });
        break;
      }
      default:
        throw usageError(`no "${kind}" report from the command line (expected quality, drift, model or energy)`);
    }
    return finishReport(report, kind, values.out, failOn, io);
  },
};

/** CLI subcommands of this module, registered by cli/main.ts. */
export const reportCommands: Command[] = [baselineCommand, reportCommand];
