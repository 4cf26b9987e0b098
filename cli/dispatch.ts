import { readFile } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MillwrightError, exitCodeFor, exitCodesSummary } from '../lib/errors/index.ts';
import { readEnv } from '../lib/config/index.ts';
import type { Command, CliIO } from './command.ts';

function overview(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `millwright: from raw factory sensor readings to a served model and the reports that watch it.

Usage: millwright <command> [options]      (millwright <command> --help for details)

Commands:
${lines.join('\n')}

${exitCodesSummary()}
`;
}

/**
 * Runs one CLI invocation over `commands` and resolves to its exit code. The binary
 * (`cli/main.ts`) and the container entry (`cli/container.ts`) each pass their own command list.
 */
export async function dispatch(commands: Command[], argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(overview(commands));
    return name === undefined ? exitCodeFor('USAGE') : 0;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${await version()}\n`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`millwright: unknown command "${name}". Run "millwright --help" for the list of commands.\n`);
    return exitCodeFor('USAGE');
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
      return exitCodeFor('USAGE');
    }
    const message = err instanceof Error ? err.message : String(err);
    io.err(`millwright ${name}: ${message}\n`);
    if (readEnv('MILLWRIGHT_DEBUG', io.env) !== undefined && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
    // Anything that is not a MillwrightError is a crash: INTERNAL's exit code.
    return exitCodeFor(err instanceof MillwrightError ? err.code : 'INTERNAL');
  }
}

async function version(): Promise<string> {
  const pkg = JSON.parse(await readFile(packageJsonPath(), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * The package's own package.json, found by walking up from this file: the same code runs from
 * `cli/` through tsx and from `dist/cli/` once built, and may sit under any install prefix.
 */
export function packageJsonPath(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new MillwrightError('INTERNAL', `no package.json above ${from}`);
  }
}

/**
 * Runs `run(process.argv.slice(2))` and sets the exit code, when `moduleUrl` is the script node
 * was started with. The bin is usually a symlink (node_modules/.bin/millwright), so real paths
 * are compared.
 */
export function runIfMain(moduleUrl: string, run: (argv: string[]) => Promise<number>): void {
  let direct = false;
  try {
    direct = process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    direct = false;
  }
  if (!direct) return;
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
