#!/usr/bin/env node
import { processIO, type Command, type CliIO } from './command.ts';
import { dispatch, runIfMain } from './dispatch.ts';

type Loader = () => Promise<Command[]>;

/**
 * Every command module, in the order `millwright --help` lists their commands. Loaded on
 * demand: each pulls in its part of the library (DuckDB, OPC UA, onnxruntime, ...), and loading
 * them all took 2 s before a command could start (`--version` included).
 */
const MODULES = {
  demo: () => import('./demo.ts').then((m) => m.demoCommands),
  datasets: () => import('./commands/datasets.ts').then((m) => m.datasetCommands),
  ingest: () => import('./commands/ingest.ts').then((m) => m.ingestCommands),
  gateway: () => import('./commands/gateway.ts').then((m) => m.gatewayCommands),
  events: () => import('./commands/events.ts').then((m) => m.eventCommands),
  alarms: () => import('./commands/alarms.ts').then((m) => m.alarmsCommands),
  store: () => import('./commands/store.ts').then((m) => m.storeCommands),
  features: () => import('./commands/features.ts').then((m) => m.featureCommands),
  model: () => import('./commands/model.ts').then((m) => m.modelCommands),
  signing: () => import('./commands/signing.ts').then((m) => m.signingCommands),
  bundle: () => import('./commands/bundle.ts').then((m) => m.bundleCommands),
  serve: () => import('./commands/serve.ts').then((m) => m.serveCommands),
  reports: () => import('./commands/reports.ts').then((m) => m.reportCommands),
  plant: () => import('./commands/plant.ts').then((m) => m.plantCommands),
  predict: () => import('./commands/predict.ts').then((m) => m.predictCommands),
  notify: () => import('./commands/notify.ts').then((m) => m.notifyCommands),
} satisfies Record<string, Loader>;

/**
 * Which module holds each subcommand, so a run loads only that one. `test/cli/cli.test.ts`
 * checks this against what the modules export.
 */
export const COMMAND_MODULES: Record<string, keyof typeof MODULES> = {
  demo: 'demo',
  datasets: 'datasets', generate: 'datasets',
  ingest: 'ingest', spool: 'ingest', flush: 'ingest',
  gateway: 'gateway',
  events: 'events',
  alarms: 'alarms',
  sql: 'store', scan: 'store', compact: 'store', sync: 'store',
  features: 'features',
  train: 'model', 'init-model': 'model', registry: 'model', retrain: 'model', explain: 'model',
  keys: 'signing', sign: 'signing', verify: 'signing',
  bundle: 'bundle', deploy: 'bundle', rollback: 'bundle',
  serve: 'serve',
  baseline: 'reports', report: 'reports',
  plant: 'plant',
  predict: 'predict',
  notify: 'notify',
};

/** Each module's own command list, by module name (for the check of `COMMAND_MODULES`). */
export async function commandsByModule(): Promise<Record<string, Command[]>> {
  const entries = await Promise.all(Object.entries(MODULES).map(async ([name, load]) => [name, await load()] as const));
  return Object.fromEntries(entries);
}

/** Every subcommand, in the order `millwright --help` lists them. */
export async function allCommands(): Promise<Command[]> {
  return Object.values(await commandsByModule()).flat();
}

/**
 * Runs one CLI invocation and resolves to its exit code. Exported so tests can drive the CLI
 * in-process; the binary calls it with `process.argv.slice(2)`.
 */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const name = argv[0];
  const module = name !== undefined && Object.hasOwn(COMMAND_MODULES, name) ? COMMAND_MODULES[name] : undefined;
  // A known command loads its own module; the overview, --version and a mistyped name need the
  // lists (dispatch answers --version without reading them, so that loads nothing).
  const version = name === '--version' || name === '-v';
  const list = module !== undefined ? await MODULES[module]() : version ? [] : await allCommands();
  return dispatch(list, argv, io);
}

runIfMain(import.meta.url, (argv) => main(argv));
