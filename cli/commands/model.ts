import type { Command, CliIO } from '../command.ts';
import { parseCommandArgs, usageError } from '../command.ts';
import type { Metrics } from '../../lib/model/contract.ts';
import { initModel } from '../../lib/model/init-model.ts';
import { cliLogger } from '../logger.ts';
import { runStageVerb, STAGE_USAGE } from './registry-stages.ts';
import { loadPlant, plantRetrainConfig } from '../../lib/plant/index.ts';
import { plantsDir } from '../../lib/config/index.ts';
import {
  approveVersion,
  getVersion,
  listGroups,
  listVersions,
  registerModel,
  rejectVersion,
  resolveRegistry,
  type MetricComparison,
  type ModelVersionRecord,
} from '../../lib/model/registry.ts';
import { nextRun, readRetrainConfig, retrainOnce, retrainOnSchedule } from '../../lib/model/retrain.ts';
import { trainPackage } from '../../lib/model/train-package.ts';
import { join, resolve } from 'node:path';
import { explainModel, globalAttribution, type Explanation } from '../../lib/algorithms/explain.ts';
import { readTableFile } from '../../lib/model/channels.ts';
import { loadModel } from '../../lib/model/load-model.ts';
import { writeFileAtomic } from '../../lib/durable/atomic-file.ts';

function keyValues(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list ?? []) {
    const i = item.indexOf('=');
    if (i <= 0) throw usageError(`${flag} expects key=value, got "${item}"`);
    out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

function fmt(n: number | undefined): string {
  if (n === undefined) return '-';
  if (!Number.isFinite(n)) return String(n);
  return Math.abs(n) >= 1e5 || (n !== 0 && Math.abs(n) < 1e-3) ? n.toExponential(3) : String(Number(n.toPrecision(5)));
}

function metricLine(m: Metrics | undefined): string {
  return m ? Object.entries(m).map(([k, v]) => `${k}=${fmt(v)}`).join(' ') : '-';
}

const trainCommand: Command = {
  name: 'train',
  summary: 'Train a model package in the SageMaker /opt/ml layout and write a checksummed artifact',
  usage: `millwright train <package-dir|builtin-name> [options]

Runs the package's train() in the SageMaker layout and writes <base>/model/ (model files +
model.json manifest with feature schema, metrics, baseline and SHA-256 of every file). On
failure the reason goes to <base>/output/failure, no model is written, exit status 1.

  --base DIR               SageMaker base (default: env SM_BASE, MILLWRIGHT_ML_BASE, else /opt/ml)
  --hp key=value           hyperparameter (repeatable); merged over <base>/input/config/hyperparameters.json
  --channel name=PATH      channel from a folder of CSV/Parquet files (repeatable;
                           default: every folder under <base>/input/data/)
  --channel name=store:SQL channel from a store query (the store exposes a "readings" view)
  --store DIR              store root for store: channels (default: env MILLWRIGHT_STORE or ./.millwright/store)
  --name NAME              model name (default: package folder or built-in name)
  --version V              model version (default: UTC timestamp + content hash)
  --json                   print the manifest instead of a summary

Built-in algorithms: random-forest-regression, random-forest-classification, threshold,
energy-load-curve, onnx. "millwright init-model DIR" writes a template package.

Example:
  millwright train ./my-model --base /tmp/ml --channel train=./my-model/sample --hp l2=0.1`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      options: {
        base: { type: 'string' },
        hp: { type: 'string', multiple: true },
        channel: { type: 'string', multiple: true },
        store: { type: 'string' },
        name: { type: 'string' },
        version: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      allowPositionals: true,
    });
    if (positionals.length !== 1) throw usageError('expected exactly one package folder or built-in algorithm name');
    const { modelDir, manifest } = await trainPackage({
      package: positionals[0]!,
      ...(values.base ? { base: values.base } : {}),
      ...(values.name ? { name: values.name } : {}),
      ...(values.version ? { version: values.version } : {}),
      ...(values.store ? { store: values.store } : {}),
      hyperparameters: keyValues(values.hp, '--hp'),
      channels: keyValues(values.channel, '--channel'),
      log: cliLogger(io, 'train'),
      env: io.env,
      cwd: io.cwd,
    });
    if (values.json) {
      io.out(`${JSON.stringify(manifest, null, 2)}\n`);
      return 0;
    }
    io.out(
      `model ${manifest.name} ${manifest.version} (${manifest.algorithm}, ${manifest.task}) written to ${modelDir}\n` +
        `  features: ${manifest.features.map((f) => f.name).join(', ')}${manifest.target ? `  target: ${manifest.target.name}` : ''}\n` +
        `  rows: ${manifest.trainingData.rows}  files: ${Object.keys(manifest.files).length}\n` +
        `  training: ${metricLine(manifest.metrics.training)}\n` +
        `  holdout:  ${metricLine(manifest.metrics.holdout)}\n`,
    );
    return 0;
  },
};

const initModelCommand: Command = {
  name: 'init-model',
  summary: 'Write a working model package template (train.ts, predict.ts, features.ts, sample data)',
  usage: `millwright init-model <dir> [--force]

Writes a model package you can train right away: a ridge linear regression with typed
hyperparameters, a copy of the contract types, a README and sample/train.csv.

  --force   overwrite template files in a non-empty folder

Then: millwright train <dir> --base /tmp/ml --channel train=<dir>/sample`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { options: { force: { type: 'boolean', default: false } }, allowPositionals: true });
    if (positionals.length !== 1) throw usageError('expected exactly one target folder');
    const { dir, files } = await initModel(resolve(io.cwd, positionals[0]!), { force: values.force });
    io.out(`model package written to ${dir}: ${files.join(', ')}\ntrain it: millwright train ${dir} --base /tmp/ml --channel train=${join(dir, 'sample')}\n`);
    return 0;
  },
};

function printComparison(io: CliIO, comparison: MetricComparison[], approved: ModelVersionRecord | undefined): void {
  if (!approved) {
    io.out('no approved version yet: nothing to compare against\n');
    return;
  }
  if (comparison.length === 0) {
    io.out(`no holdout metrics to compare with approved version ${approved.version}\n`);
    return;
  }
  io.out(`holdout metrics vs approved version ${approved.version}:\n`);
  const w = Math.max(6, ...comparison.map((c) => c.metric.length));
  io.out(`  ${'metric'.padEnd(w)}  ${'candidate'.padStart(11)}  ${'approved'.padStart(11)}  ${'delta'.padStart(11)}\n`);
  for (const c of comparison) {
    const verdict = c.better === undefined ? '' : c.better ? '  better' : '  worse';
    io.out(`  ${c.metric.padEnd(w)}  ${fmt(c.candidate).padStart(11)}  ${fmt(c.approved).padStart(11)}  ${(c.delta === undefined ? '-' : (c.delta > 0 ? '+' : '') + fmt(c.delta)).padStart(11)}${verdict}\n`);
  }
}

function recordLine(r: ModelVersionRecord): string {
  return `  ${String(r.version).padStart(3)}  ${r.status.padEnd(21)}  ${r.registeredAt}  ${r.modelName} ${r.modelVersion} (${r.algorithm})  holdout: ${metricLine(r.metrics.holdout)}\n`;
}

const registryCommand: Command = {
  name: 'registry',
  summary: 'Model registry: list, register, approve, reject, show versions; stages, promote, rollback, board',
  usage: `millwright registry <verb> [args] [--registry DIR] [--json]

  list                              groups with version counts and the approved version
  register <model-dir> --group G    copy a trained model in as a new PendingManualApproval version,
             [--note TEXT]          and show its holdout metrics against the approved version
  approve G VERSION [--note TEXT]   approve (only approved versions can be deployed)
  reject G VERSION [--note TEXT]    reject a pending version, or withdraw an approved one
  show G [VERSION]                  versions of a group, or one version's record and manifest
${STAGE_USAGE}

  --registry DIR   registry folder (default: env MILLWRIGHT_REGISTRY or ./.millwright/registry)
  --json           machine-readable output`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      options: {
        registry: { type: 'string' },
        group: { type: 'string' },
        note: { type: 'string' },
        json: { type: 'boolean', default: false },
        to: { type: 'string' },
        stage: { type: 'string' },
        out: { type: 'string' },
        reports: { type: 'string' },
      },
      allowPositionals: true,
    });
    const [verb, ...rest] = positionals;
    const staged = await runStageVerb(verb, rest, values, { ...(values.registry ? { registry: values.registry } : {}), env: io.env, cwd: io.cwd }, io);
    if (staged !== undefined) return staged;
    const opts = { ...(values.registry ? { registry: values.registry } : {}), env: io.env, cwd: io.cwd };
    const note = values.note ? { note: values.note } : {};
    const json = (v: unknown): number => {
      io.out(`${JSON.stringify(v, null, 2)}\n`);
      return 0;
    };
    switch (verb) {
      case 'list': {
        const groups = await listGroups(opts);
        if (values.json) return json(groups);
        if (groups.length === 0) io.out(`registry ${resolveRegistry(opts)} is empty\n`);
        for (const g of groups) {
          io.out(`${g.group}: ${g.versions} version${g.versions === 1 ? '' : 's'}, ${g.pending} pending, approved: ${g.latestApproved ?? 'none'}\n`);
        }
        return 0;
      }
      case 'register': {
        if (rest.length !== 1) throw usageError('register expects one model dir');
        if (!values.group) throw usageError('register needs --group G (e.g. a site or asset class)');
        const { record, comparison, approved } = await registerModel(rest[0]!, { ...opts, ...note, group: values.group });
        if (values.json) return json({ record, comparison });
        io.out(`registered ${record.group} version ${record.version} (${record.status}): ${record.modelName} ${record.modelVersion}\n`);
        printComparison(io, comparison, approved);
        return 0;
      }
      case 'approve':
      case 'reject': {
        if (rest.length !== 2) throw usageError(`${verb} expects GROUP VERSION`);
        const fn = verb === 'approve' ? approveVersion : rejectVersion;
        const record = await fn(rest[0]!, rest[1]!, { ...opts, ...note });
        if (values.json) return json(record);
        io.out(`${record.group} version ${record.version} is now ${record.status}\n`);
        return 0;
      }
      case 'show': {
        if (rest.length < 1 || rest.length > 2) throw usageError('show expects GROUP [VERSION]');
        if (rest.length === 1) {
          const records = await listVersions(rest[0]!, opts);
          if (values.json) return json(records);
          if (records.length === 0) io.out(`group ${rest[0]} has no versions\n`);
          else io.out(`${rest[0]}:\n${records.map(recordLine).join('')}`);
          return 0;
        }
        const v = await getVersion(rest[0]!, rest[1]!, opts);
        if (values.json) return json(v);
        const m = v.manifest;
        io.out(
          `${v.record.group} version ${v.record.version}: ${v.record.status}\n` +
            `  artifact:   ${v.dir}\n  model:      ${m.name} ${m.version} (${m.algorithm}, ${m.task})\n` +
            `  features:   ${m.features.map((f) => `${f.name}:${f.type}${f.unit ? ` [${f.unit}]` : ''}`).join(', ')}\n` +
            `  target:     ${m.target?.name ?? '-'}\n  data:       ${m.trainingData.rows} rows from ${m.trainingData.source ?? '?'}${m.trainingData.from ? ` (${m.trainingData.from} .. ${m.trainingData.to})` : ''}\n` +
            `  training:   ${metricLine(m.metrics.training)}\n  holdout:    ${metricLine(m.metrics.holdout)}\n` +
            `  created:    ${m.createdAt} by ${m.codeVersion}\n` +
            `  history:    ${v.record.statusHistory.map((h) => `${h.status} ${h.at}${h.note ? ` (${h.note})` : ''}`).join(' -> ')}\n`,
        );
        return 0;
      }
      case undefined:
        throw usageError('missing verb: list, register, approve, reject, show, promote, rollback, stages, payloads or board');
      default:
        throw usageError(`unknown verb "${verb}": expected list, register, approve, reject, show, promote, rollback, stages, payloads or board`);
    }
  },
};

const retrainCommand: Command = {
  name: 'retrain',
  summary: 'Retrain a model group on the latest store data (cron schedule) and register it as pending',
  usage: `millwright retrain --group G [--package P] [--schedule CRON] [--once] [options]
       millwright retrain --plant NAME [--once]     (group, config and schedule from the plant config)

Trains the group's package on channels from its retrain config (default
<registry>/<group>/retrain.json: {"package", "channels": {"train": "store:<sql>"}, "window",
"hyperparameters", "schedule"}) and registers the result as PendingManualApproval.
Without --once it runs on the cron schedule (UTC) until interrupted.

  --group G          model group (required unless --plant)
  --plant NAME       a plant config (<plants>/<NAME>/plant.yaml, or a path): its group, store query, package and schedule
  --plants DIR       plant configs (default: env MILLWRIGHT_PLANTS or ./plants)
  --package P        package folder or built-in name (default: "package" in the config)
  --schedule CRON    cron expression, e.g. "0 */2 * * *" (default: "schedule" in the config)
  --once             run one cycle now and exit
  --config FILE      retrain config (default: <registry>/<group>/retrain.json)
  --registry DIR     registry (default: env MILLWRIGHT_REGISTRY or ./.millwright/registry)
  --store DIR        store root (default: config "store", env MILLWRIGHT_STORE or ./.millwright/store)`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      options: {
        group: { type: 'string' },
        plant: { type: 'string' },
        plants: { type: 'string' },
        package: { type: 'string' },
        schedule: { type: 'string' },
        once: { type: 'boolean', default: false },
        config: { type: 'string' },
        registry: { type: 'string' },
        store: { type: 'string' },
      },
    });
    if (values.plant && (values.group || values.config)) throw usageError('--plant gives the group and the config: leave out --group and --config');
    const plant = values.plant ? await loadPlant(values.plant, { dir: plantsDir(values.plants, io.env, io.cwd) }) : undefined;
    const group = plant?.model.group ?? values.group;
    if (!group) throw usageError('--group (or --plant) is required');
    const retrainConfig = plant ? plantRetrainConfig(plant) : undefined;
    const opts = {
      group,
      ...(retrainConfig ? { retrainConfig } : {}),
      ...(values.package ? { package: values.package } : {}),
      ...(values.config ? { config: values.config } : {}),
      ...(values.registry ? { registry: values.registry } : {}),
      ...(values.store ? { store: values.store } : {}),
      env: io.env,
      cwd: io.cwd,
      log: cliLogger(io, 'retrain'),
    };
    const report = (r: Awaited<ReturnType<typeof retrainOnce>>) => {
      io.out(`registered ${r.record.group} version ${r.record.version} (${r.record.status}): ${r.manifest.name} ${r.manifest.version}, ${r.manifest.trainingData.rows} rows\n`);
      for (const c of r.comparison) {
        io.out(`  ${c.metric}: ${fmt(c.candidate)} vs approved ${fmt(c.approved)}${c.better === undefined ? '' : c.better ? ' (better)' : ' (worse)'}\n`);
      }
    };
    const schedule = values.schedule ?? (values.once ? undefined : (retrainConfig ?? (await readRetrainConfig(values.config ?? join(resolveRegistry(opts), group, 'retrain.json')))).schedule);
    if (schedule) nextRun(schedule); // a bad expression is an error even with --once
    if (values.once) {
      report(await retrainOnce(opts));
      return 0;
    }
    if (!schedule) throw usageError('no schedule: pass --schedule CRON, set "schedule" in the retrain config, or use --once');
    const abort = new AbortController();
    const stop = () => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    io.err(`[retrain] ${group}: schedule "${schedule}", next run ${nextRun(schedule).toISOString()}\n`);
    let failures = 0;
    try {
      await retrainOnSchedule({
        ...opts,
        schedule,
        signal: abort.signal,
        onCycle(r) {
          if (r instanceof Error) {
            failures++;
            io.err(`[retrain] cycle failed: ${r.message}\n`);
          } else report(r);
          if (!abort.signal.aborted) io.err(`[retrain] next run ${nextRun(schedule).toISOString()}\n`);
        },
      });
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return failures > 0 ? 1 : 0;
  },
};

/** CLI subcommands of this module, registered by cli/main.ts. */
function csvCell(v: string): string {
  return /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** One CSV line per row and output: row, output, base_value, then one attribution per feature. */
function explanationCsv(ex: Explanation): string {
  const F = ex.features.length;
  const K = ex.outputs.length;
  const lines = [['row', 'output', 'base_value', ...ex.features].map(csvCell).join(',')];
  for (let r = 0; r < ex.rows; r++) {
    for (let k = 0; k < K; k++) {
      const cells = [String(r), csvCell(ex.outputs[k]!), String(ex.baseValue[k])];
      for (let f = 0; f < F; f++) cells.push(String(ex.values[(r * F + f) * K + k]));
      lines.push(cells.join(','));
    }
  }
  return lines.join('\n') + '\n';
}

const explainCommand: Command = {
  name: 'explain',
  summary: 'Per-row TreeSHAP attributions of a model over a CSV/Parquet file, and their global ranking',
  usage: `millwright explain <model-dir> <data.csv|data.parquet> [--out FILE]

Exact path-dependent TreeSHAP for the built-in forests (random-forest-regression,
random-forest-classification: one set per class probability; energy-load-curve: its expected
curve, per model input such as hour, weekday and each driver). Each row's attributions sum to its
prediction minus base_value, the model's expected prediction over its training rows.

Writes CSV: row, output, base_value, then one column per feature. Without --out it goes to
stdout; with --out the file is written atomically and stdout gets the global ranking (mean
|attribution| per feature, largest first).

  --out FILE     write the attributions here instead of stdout

Example:
  millwright explain /tmp/ml/model data/week.csv --out attributions.csv`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { options: { out: { type: 'string' } }, allowPositionals: true });
    if (positionals.length !== 2) throw usageError('expected <model-dir> <data file>');
    const model = await loadModel(resolve(io.cwd, positionals[0]!), { env: io.env });
    const table = await readTableFile(resolve(io.cwd, positionals[1]!));
    const ex = await explainModel(model, table);
    const csv = explanationCsv(ex);
    if (values.out === undefined) {
      io.out(csv);
      return 0;
    }
    await writeFileAtomic(resolve(io.cwd, values.out), csv);
    const global = globalAttribution(ex);
    for (const [output, byFeature] of Object.entries(global)) {
      const ranked = Object.entries(byFeature).sort((a, b) => b[1] - a[1]);
      io.out(`${output} (base ${fmt(ex.baseValue[ex.outputs.indexOf(output)])}): ${ranked.map(([f, v]) => `${f}=${fmt(v)}`).join(' ')}\n`);
    }
    io.out(`wrote ${ex.rows} rows x ${ex.outputs.length} output(s) to ${values.out}\n`);
    return 0;
  },
};

export const modelCommands: Command[] = [trainCommand, initModelCommand, registryCommand, retrainCommand, explainCommand];
