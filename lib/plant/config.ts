/**
 * A plant's config (`<plants>/<name>/plant.yaml`): site, time zone, which store signals play which
 * role, the model group and schedule, thresholds and notification targets. The retrain, serve and
 * report commands read it with `--plant NAME`, so onboarding a plant is writing this one file.
 */
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { MillwrightError } from '../errors/index.ts';
import { fsyncDir } from '../durable/index.ts';
import { parseDuration } from '../units/index.ts';
import { PLANT_TEMPLATES, templateDefaults, type PlantTemplate } from './templates.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
// Signal names go into SQL: only characters that need no quoting.
const SIGNAL = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$/;

const zone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'expected an IANA time zone such as Europe/Berlin');
const duration = z.string().refine((d) => {
  try {
    return parseDuration(d) > 0;
  } catch {
    return false;
  }
}, 'expected a duration such as 1h, 90d');

const schema = z.object({
  name: z.string().regex(NAME, 'expected letters, digits, ".", "_" or "-"'),
  site: z.string().regex(NAME, 'expected letters, digits, ".", "_" or "-"'),
  template: z.enum(PLANT_TEMPLATES),
  timezone: zone,
  asset: z.string().regex(NAME).optional(),
  signals: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/, 'a role is lower_snake_case'), z.string().regex(SIGNAL, 'expected a signal name of letters, digits and . _ : / -')),
  model: z.object({
    package: z.string().min(1),
    group: z.string().regex(NAME).optional(),
    window: duration,
    schedule: z.string().min(1),
    hyperparameters: z.record(z.string(), z.unknown()).default({}),
  }).strict(),
  serve: z.object({ stage: z.enum(['DEV', 'TEST', 'PROD']), port: z.number().int().min(0).max(65535) }).strict(),
  thresholds: z.object({ cvRmsePct: z.number().positive().optional(), driftShare: z.number().min(0).max(1).optional() }).strict(),
  reports: z.object({ every: duration, granularity: z.enum(['hour', 'day', 'week', 'month']) }).strict(),
  /** Alarm rule file (relative to the plant's folder), read by `millwright alarms run --plant`. */
  alarms: z.string().min(1).optional(),
  notifications: z.array(z.object({ type: z.enum(['email', 'webhook', 'mqtt']), to: z.string().min(1) }).strict()),
}).strict();

/** A validated plant config. */
export type PlantConfig = z.infer<typeof schema> & { model: { group: string } };

function issuesMessage(source: string, error: z.ZodError): string {
  const lines = error.issues.map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    return `${path || '(top level)'}: ${i.message}`;
  });
  return `${source}: ${lines.join('; ')}`;
}

/** Validates a plant config object (e.g. parsed from YAML); every problem is named by its key path. */
export function parsePlantConfig(value: unknown, source = 'plant config'): PlantConfig {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new MillwrightError('BAD_INPUT', issuesMessage(source, parsed.error));
  const p = parsed.data;
  if (p.template === 'energy' && !p.signals.energy) throw new MillwrightError('BAD_INPUT', `${source}: signals.energy: the energy template needs the store signal that holds the energy`);
  return { ...p, model: { ...p.model, group: p.model.group ?? p.name } };
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let o = target;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === undefined) o[k] = {};
    if (typeof o[k] !== 'object' || o[k] === null || Array.isArray(o[k])) throw new MillwrightError('BAD_INPUT', `--set ${path}: "${k}" is not a section`);
    o = o[k] as Record<string, unknown>;
  }
  o[keys.at(-1)!] = value;
}

/** Options of {@link newPlant}. */
export interface NewPlantOptions {
  template: PlantTemplate | string;
  /** Folder of plant configs. */
  dir: string;
  /** Default: the plant's name. */
  site?: string;
  /** Per-plant overrides by dotted key (`signals.energy`, `timezone`); values are YAML scalars or flow collections. */
  set?: Record<string, string>;
}

/**
 * Onboards a plant: the template's defaults, the plant's name and site, the overrides, validated,
 * written to `<dir>/<name>/plant.yaml` (atomically; an existing plant is refused).
 *
 * @example
 * import { newPlant } from 'millwright';
 * await newPlant('plant-20', { template: 'energy', dir: 'plants', set: { timezone: 'Europe/Lisbon', 'signals.energy': 'kwh_total' } });
 */
export async function newPlant(name: string, opts: NewPlantOptions): Promise<{ path: string; config: PlantConfig }> {
  if (!(PLANT_TEMPLATES as readonly string[]).includes(opts.template)) throw new MillwrightError('BAD_INPUT', `unknown template "${opts.template}": expected one of ${PLANT_TEMPLATES.join(', ')}`);
  if (!NAME.test(name)) throw new MillwrightError('BAD_INPUT', `invalid plant name "${name}": use letters, digits, ".", "_" or "-"`);
  const raw: Record<string, unknown> = { ...templateDefaults(opts.template as PlantTemplate), name, site: opts.site ?? name };
  for (const [key, text] of Object.entries(opts.set ?? {})) setPath(raw, key, parseYaml(text));
  const config = parsePlantConfig(raw, `plant ${name}`);
  const folder = join(resolve(opts.dir), name);
  const path = join(folder, 'plant.yaml');
  await mkdir(folder, { recursive: true });
  const tmp = join(folder, `.plant.yaml.tmp-${process.pid}`);
  await writeFile(tmp, `# onboarded from the ${config.template} template\n${toYaml({ ...raw, model: { ...(raw.model as object), group: config.model.group } })}`);
  try {
    // link() publishes the complete file and fails if the plant exists: no check-then-write race.
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new MillwrightError('CONFLICT', `plant ${name} already exists (${path}); edit it instead`);
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  await fsyncDir(folder);
  return { path, config };
}

/**
 * Reads a plant: a name (looked up as `<dir>/<name>/plant.yaml`) or a path to a YAML/JSON file.
 *
 * @example
 * import { loadPlant } from 'millwright';
 * const plant = await loadPlant('plant-20', { dir: 'plants' }); // plant.model.group === 'plant-20'
 */
export async function loadPlant(nameOrPath: string, opts: { dir: string }): Promise<PlantConfig> {
  const path = /[/\\]|\.(ya?ml|json)$/i.test(nameOrPath) ? resolve(nameOrPath) : join(resolve(opts.dir), nameOrPath, 'plant.yaml');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MillwrightError('NOT_FOUND', `plant "${nameOrPath}" not found (${path}); onboard it with: millwright plant new ${nameOrPath} --template energy`);
    throw err;
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new MillwrightError('BAD_INPUT', `${path} is not valid YAML: ${(err as Error).message}`);
  }
  const plant = parsePlantConfig(value, path);
  // The rule file sits beside plant.yaml unless the config gives an absolute path.
  return plant.alarms ? { ...plant, alarms: resolve(dirname(path), plant.alarms) } : plant;
}
