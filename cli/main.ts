#!/usr/bin/env node
import { processIO, type Command, type CliIO } from './command.ts';
import { dispatch, runIfMain } from './dispatch.ts';
import { storeCommands } from './commands/store.ts';
import { ingestCommands } from './commands/ingest.ts';
import { gatewayCommands } from './commands/gateway.ts';
import { eventCommands } from './commands/events.ts';
import { featureCommands } from './commands/features.ts';
import { modelCommands } from './commands/model.ts';
import { datasetCommands } from './commands/datasets.ts';
import { serveCommands } from './commands/serve.ts';
import { reportCommands } from './commands/reports.ts';
import { plantCommands } from './commands/plant.ts';
import { signingCommands } from './commands/signing.ts';
import { bundleCommands } from './commands/bundle.ts';
import { alarmsCommands } from './commands/alarms.ts';
import { predictCommands } from './commands/predict.ts';
import { notifyCommands } from './commands/notify.ts';
import { demoCommands } from './demo.ts';

/** Every subcommand, in the order `millwright --help` lists them. */
export const commands: Command[] = [
  ...demoCommands,
  ...datasetCommands,
  ...ingestCommands,
  ...gatewayCommands,
  ...eventCommands,
  ...alarmsCommands,
  ...storeCommands,
  ...featureCommands,
  ...modelCommands,
  ...signingCommands,
  ...bundleCommands,
  ...serveCommands,
  ...reportCommands,
  ...plantCommands,
  ...predictCommands,
  ...notifyCommands,
];

/**
 * Runs one CLI invocation and resolves to its exit code. Exported so tests can drive the CLI
 * in-process; the binary calls it with `process.argv.slice(2)`.
 */
export function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  return dispatch(commands, argv, io);
}

runIfMain(import.meta.url, (argv) => main(argv));
