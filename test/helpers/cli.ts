import { join } from 'node:path';
import { ensureBuilt } from './build.ts';
import { repoRoot } from './data.ts';

let built = false;

/**
 * Node arguments that start the `millwright` binary as a separate process: the built
 * `dist/cli/main.js` (what `npm install` puts on the PATH), rebuilt first when the sources are
 * newer. Tests that kill and restart the CLI dozens of times spend most of each trial starting
 * it; through tsx every start also compiles the sources again (about 1.5 s more here).
 *
 * @example
 * spawn(process.execPath, cliArgs('ingest', file, '--store', store));
 */
export function cliArgs(...args: string[]): string[] {
  return [builtEntry('main'), ...args];
}

/**
 * The binary from its TypeScript sources under tsx, for commands that import a TypeScript file at
 * run time (a test fixture passed as `--loader x.ts`): the built package's worker threads run
 * plain Node, which cannot import `.ts`, whereas from the sources each worker registers tsx.
 *
 * @example
 * spawn(process.execPath, sourceCliArgs('serve', '--model', dir, '--loader', LINEAR_LOADER));
 */
export function sourceCliArgs(...args: string[]): string[] {
  return ['--import', 'tsx', join(repoRoot, 'cli/main.ts'), ...args];
}

/** Same for the serving container's entry point (`dist/cli/container.js`, as the image runs it). */
export function containerProcessArgs(...args: string[]): string[] {
  return [builtEntry('container'), ...args];
}

function builtEntry(name: 'main' | 'container'): string {
  if (!built) {
    ensureBuilt();
    built = true;
  }
  return join(repoRoot, 'dist/cli', `${name}.js`);
}
