/**
 * SageMaker's training-input conventions, read by the runner before `train` sees anything:
 * `inputdataconfig.json` (per-channel `ContentType`), `resourceconfig.json` (hosts), channel name
 * aliases (`training` for `train`), and the built-in algorithms' CSV convention (no header row,
 * label in the first column), selected explicitly or recognised from the file itself.
 */
import { open, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { MillwrightError } from '../errors/index.ts';
import type { Channel, HyperparameterSchema, Logger } from './contract.ts';

/** How a channel's CSV files are laid out. */
export interface CsvLayout {
  /** `false`: the first line is data (SageMaker's built-in convention). */
  header: boolean;
  /** Headerless files: 0-based column of the label, or `undefined` for no label column. */
  labelColumn?: number;
}

/** Column name given to the label of a headerless CSV; features become `f0`, `f1`, ... (as SageMaker's XGBoost names them). */
export const HEADERLESS_LABEL = 'label';

/** Hyperparameters the runner itself reads (unless a package declares them itself). */
export const RUNNER_HYPERPARAMETERS: HyperparameterSchema = {
  content_type: {
    type: 'string',
    description: "Layout of the CSV channels: 'text/csv' (SageMaker: no header, label first; 'label_size=0' for no label) or 'text/csv;header=present'.",
  },
  label_column: { type: 'integer', min: 0, description: 'Column (0-based) that holds the label; the target column of a headerless CSV, or the header name at that position.' },
};

/** Keys SageMaker adds to every job's hyperparameters (framework and tuning settings), not meant for the algorithm. */
export function isSageMakerReserved(key: string): boolean {
  return key.startsWith('sagemaker_') || key.startsWith('_tuning_objective_metric') || key === '_kubeflow_';
}

/** Other names a declared channel is found under: SageMaker's own examples call it `training`. */
const CHANNEL_ALIASES: Record<string, string[]> = { train: ['training'], training: ['train'], validation: ['validate'] };

/**
 * Registers each channel a package declares under its declared name when the data came under an
 * alias (`training` for `train` and back): the package reads the name it declared.
 *
 * @example
 * aliasChannels({ training: ch }, ['train']); // => { training: ch, train: ch }
 */
export function aliasChannels(channels: Record<string, Channel>, declared: readonly string[]): Record<string, Channel> {
  const out = { ...channels };
  for (const want of new Set([...declared, 'validation'])) {
    if (out[want]) continue;
    const alias = (CHANNEL_ALIASES[want] ?? []).find((a) => channels[a]);
    if (alias) out[want] = { ...channels[alias]!, name: want };
  }
  return out;
}

/** One channel's entry in `inputdataconfig.json` (only the fields millwright reads). */
export interface InputDataChannel {
  ContentType?: string;
  TrainingInputMode?: string;
}

async function readJsonIfPresent(path: string, expected: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `${path} is not valid JSON (${(err as Error).message}); expected ${expected}`);
  }
}

/**
 * Reads `<base>/input/config/inputdataconfig.json` when present: channel name -> its settings.
 * `TrainingInputMode` `Pipe` is refused (millwright reads files).
 *
 * @example
 * import { readInputDataConfig } from 'millwright';
 * await readInputDataConfig('/opt/ml'); // => { training: { ContentType: 'text/csv' } }
 */
export async function readInputDataConfig(base: string): Promise<Record<string, InputDataChannel>> {
  const path = join(base, 'input', 'config', 'inputdataconfig.json');
  const doc = await readJsonIfPresent(path, 'an object of channel name -> {"ContentType": ...}');
  if (doc === undefined) return {};
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new MillwrightError('BAD_INPUT', `${path} must hold a JSON object of channel name -> settings`);
  const out: Record<string, InputDataChannel> = {};
  for (const [name, v] of Object.entries(doc as Record<string, unknown>)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new MillwrightError('BAD_INPUT', `${path}: channel "${name}" must be an object, got ${JSON.stringify(v)}`);
    const ch = v as Record<string, unknown>;
    if (ch.ContentType !== undefined && typeof ch.ContentType !== 'string') throw new MillwrightError('BAD_INPUT', `${path}: channel "${name}" ContentType must be a string`);
    if (ch.TrainingInputMode !== undefined && ch.TrainingInputMode !== 'File' && ch.TrainingInputMode !== 'FastFile') {
      throw new MillwrightError('BAD_INPUT', `${path}: channel "${name}" TrainingInputMode ${JSON.stringify(ch.TrainingInputMode)} is not supported (expected File or FastFile)`);
    }
    out[name] = { ContentType: ch.ContentType as string | undefined, TrainingInputMode: ch.TrainingInputMode as string | undefined };
  }
  return out;
}

/** `resourceconfig.json`: which host this is. */
export interface ResourceConfig {
  current_host: string;
  hosts: string[];
}

/**
 * Reads `<base>/input/config/resourceconfig.json` when present. Training runs on one host, so a
 * job spread over several hosts is refused (each would train the full model on its own).
 *
 * @example
 * import { readResourceConfig } from 'millwright';
 * await readResourceConfig('/opt/ml'); // => { current_host: 'algo-1', hosts: ['algo-1'] }
 */
export async function readResourceConfig(base: string): Promise<ResourceConfig | undefined> {
  const path = join(base, 'input', 'config', 'resourceconfig.json');
  const doc = await readJsonIfPresent(path, '{"current_host": "algo-1", "hosts": ["algo-1"]}');
  if (doc === undefined) return undefined;
  const r = doc as Partial<ResourceConfig> | null;
  if (!r || typeof r !== 'object' || typeof r.current_host !== 'string' || !Array.isArray(r.hosts) || !r.hosts.every((h) => typeof h === 'string')) {
    throw new MillwrightError('BAD_INPUT', `${path} must be {"current_host": string, "hosts": [string, ...]}`);
  }
  if (r.hosts.length > 1) {
    throw new MillwrightError('BAD_INPUT', `${path} lists ${r.hosts.length} hosts (${r.hosts.join(', ')}); millwright trains on one host: use an instance count of 1`);
  }
  return { current_host: r.current_host, hosts: r.hosts };
}

/**
 * The layout a content type names: `text/csv` is SageMaker's headerless, label-first CSV
 * (`label_size=0` for no label column, `header=present` for a header row). Undefined for other types.
 *
 * @example
 * import { csvLayoutOf } from 'millwright';
 * csvLayoutOf('text/csv;label_size=1'); // => { header: false, labelColumn: 0 }
 */
export function csvLayoutOf(contentType: string, labelColumn?: number): CsvLayout | undefined {
  const [base, ...params] = contentType.split(';').map((s) => s.trim().toLowerCase());
  if (base !== 'text/csv' && base !== 'csv' && base !== 'application/csv') return undefined;
  const p = Object.fromEntries(params.map((kv) => kv.split('=').map((s) => s.trim()) as [string, string]));
  if (p.header === 'present') return { header: true };
  if (p.header !== undefined && p.header !== 'absent') throw new MillwrightError('BAD_INPUT', `content type "${contentType}": header must be "present" or "absent"`);
  if (p.label_size !== undefined && p.label_size !== '0' && p.label_size !== '1') {
    throw new MillwrightError('BAD_INPUT', `content type "${contentType}": label_size must be 0 or 1 (one label column)`);
  }
  return { header: false, ...(p.label_size === '0' ? {} : { labelColumn: labelColumn ?? 0 }) };
}

/** First line of the first CSV file of a channel, split on commas (undefined when it has no CSV). */
export async function firstCsvLine(channel: Channel): Promise<string[] | undefined> {
  const file = channel.files.find((f) => extname(f).toLowerCase() === '.csv');
  if (!file) return undefined;
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
    const line = text.split(/\r?\n/).find((l) => l.trim() !== '');
    return line === undefined ? undefined : line.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  } finally {
    await fh.close();
  }
}

/**
 * A first line is data, not a header, when any of its cells is a number: header names are text.
 * (A headerless file of text-only columns needs `content_type=text/csv` to be read as data.)
 */
export function looksLikeData(cells: string[]): boolean {
  return cells.some((c) => c !== '' && Number.isFinite(Number(c)));
}

/** What the runner decided for one training run's input. */
export interface InputPlan {
  /** Layout per channel name. */
  layouts: Record<string, CsvLayout>;
  /** Hyperparameters for the package's schema (runner keys and SageMaker's reserved keys removed; `target` filled for a headerless label). */
  raw: Record<string, unknown>;
  /** The runner keys that were given, recorded in the manifest. */
  runner: Record<string, unknown>;
}

/**
 * Decides each channel's CSV layout and the hyperparameters the package sees. Precedence: the
 * `content_type` hyperparameter, then the channel's `ContentType` in inputdataconfig.json, then
 * the file itself (a first line with a number in it is data). For a headerless file with a label,
 * a schema with a `target` key gets `target=label` unless one was given.
 */
export async function planInput(
  channels: Record<string, Channel>,
  raw: Record<string, unknown>,
  schema: HyperparameterSchema,
  dataConfig: Record<string, InputDataChannel>,
  log: Logger,
): Promise<InputPlan> {
  const { rest, runner } = splitRunnerKeys(raw, schema, log);
  const labelColumn = runner.label_column === undefined ? undefined : parseLabelColumn(runner.label_column);
  if (runner.content_type !== undefined && typeof runner.content_type !== 'string') {
    throw new MillwrightError('BAD_INPUT', `invalid hyperparameters: hyperparameter "content_type": got ${JSON.stringify(runner.content_type)}, expected a string such as "text/csv"`);
  }
  const layouts: Record<string, CsvLayout> = {};
  const headers: Record<string, string[] | undefined> = {};
  for (const [name, ch] of Object.entries(channels)) {
    const declared = (runner.content_type as string | undefined) ?? dataConfig[name]?.ContentType ?? aliasConfig(name, dataConfig);
    headers[name] = await firstCsvLine(ch);
    layouts[name] = channelLayout(name, declared, headers[name], labelColumn);
  }
  const train = channels.train ? 'train' : channels.training ? 'training' : Object.keys(channels)[0];
  if (Object.hasOwn(schema, 'target') && rest.target === undefined && train !== undefined) {
    const target = defaultTarget(train, layouts[train]!, headers[train], labelColumn);
    if (target !== undefined) rest.target = target;
  }
  return { layouts, raw: rest, runner };
}

/** Separates the runner's own keys and SageMaker's reserved ones from the package's hyperparameters. */
function splitRunnerKeys(raw: Record<string, unknown>, schema: HyperparameterSchema, log: Logger): { rest: Record<string, unknown>; runner: Record<string, unknown> } {
  const rest: Record<string, unknown> = {};
  const runner: Record<string, unknown> = {};
  const reserved: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (Object.hasOwn(schema, k)) rest[k] = v;
    else if (Object.hasOwn(RUNNER_HYPERPARAMETERS, k)) runner[k] = v;
    else if (isSageMakerReserved(k)) reserved.push(k);
    else rest[k] = v;
  }
  if (reserved.length > 0) log.info('ignoring SageMaker job settings passed as hyperparameters', { keys: reserved });
  return { rest, runner };
}

/** The declared layout, else the file's own (a first line with a number in it is data). */
function channelLayout(name: string, declared: string | undefined, first: string[] | undefined, labelColumn: number | undefined): CsvLayout {
  let layout = declared !== undefined ? csvLayoutOf(declared, labelColumn) : undefined;
  if (layout === undefined) layout = first !== undefined && looksLikeData(first) ? { header: false, labelColumn: labelColumn ?? 0 } : { header: true };
  if (!layout.header && first !== undefined && layout.labelColumn !== undefined && layout.labelColumn >= first.length) {
    throw new MillwrightError('BAD_INPUT', `channel "${name}": label column ${layout.labelColumn} does not exist (the first row has ${first.length} columns)`);
  }
  return layout;
}

/** `label` for a headerless file with a label; the header name at `label_column` otherwise. */
function defaultTarget(train: string, layout: CsvLayout, header: string[] | undefined, labelColumn: number | undefined): string | undefined {
  if (!layout.header) return layout.labelColumn !== undefined ? HEADERLESS_LABEL : undefined;
  if (labelColumn === undefined) return undefined;
  const name = header?.[labelColumn];
  if (name === undefined) throw new MillwrightError('BAD_INPUT', `label_column ${labelColumn}: channel "${train}" has no such column`);
  return name;
}

function aliasConfig(name: string, dataConfig: Record<string, InputDataChannel>): string | undefined {
  for (const alias of CHANNEL_ALIASES[name] ?? []) if (dataConfig[alias]?.ContentType !== undefined) return dataConfig[alias]!.ContentType;
  return undefined;
}

function parseLabelColumn(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 0) throw new MillwrightError('BAD_INPUT', `invalid hyperparameters: hyperparameter "label_column": got ${JSON.stringify(v)}, expected an integer >= 0 (0 = first column)`);
  return n;
}

/** Column names for a headerless file of `width` columns: `label` at the label column, `f0..` for the rest. */
export function headerlessNames(width: number, layout: CsvLayout): string[] {
  const names: string[] = [];
  let f = 0;
  for (let i = 0; i < width; i++) names.push(i === layout.labelColumn ? HEADERLESS_LABEL : `f${f++}`);
  return names;
}
