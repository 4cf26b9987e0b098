#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MillwrightError } from '../errors/index.ts';
import { processIO, type Command, type CliIO } from './command.ts';
import { storeCommands } from '../store/cli.ts';
import { ingestCommands } from '../ingest/cli.ts';
import { featureCommands } from '../features/cli.ts';
import { modelCommands } from '../model/cli.ts';
import { datasetCommands } from '../../datasets/cli.ts';
import { serveCommands } from '../../serve/cli.ts';
import { reportCommands } from '../../reports/cli.ts';
import { demoCommands } from './demo.ts';

/** Every subcommand, in the order `millwright --help` lists them. */
export const commands: Command[] = [
  ...demoCommands,
  ...datasetCommands,
  ...ingestCommands,
  ...storeCommands,
  ...featureCommands,
  ...modelCommands,
  ...serveCommands,
  ...reportCommands,
];

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `millwright: from raw factory sensor readings to a served model and the reports that watch it.

Usage: millwright <command> [options]      (millwright <command> --help for details)

Commands:
${lines.join('\n')}

Exit codes: 0 ok, 1 failure, 2 usage error.
`;
}

/**
 * Runs one CLI invocation and resolves to its exit code. Exported so tests can drive the CLI
 * in-process; the binary calls it with `process.argv.slice(2)`.
 */
export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(overview());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${await version()}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`millwright: unknown command "${name}". Run "millwright --help" for the list of commands.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(`${command.usage.trimEnd()}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof MillwrightError && err.code === 'USAGE') {
      io.err(`millwright ${name}: ${err.message}\nRun "millwright ${name} --help" for usage.\n`);
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.err(`millwright ${name}: ${message}\n`);
    if (io.env.MILLWRIGHT_DEBUG && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
    return 1;
  }
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url).pathname.replace('/dist/', '/'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function invokedDirectly(): boolean {
  // The bin is usually a symlink (node_modules/.bin/millwright), so compare real paths.
  if (process.argv[1] === undefined) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
