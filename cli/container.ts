#!/usr/bin/env node
/**
 * The container's entry point (Dockerfile ENTRYPOINT): exactly the millwright CLI, plus the one
 * SageMaker convention the CLI cannot know: SageMaker starts a training job as
 * `docker run IMAGE train` with no package argument, so a bare `train` trains the package named
 * by `MILLWRIGHT_PACKAGE` (the image's algorithm, e.g. random-forest-regression). `serve` with no
 * `--model` already serves SM_MODEL_DIR / /opt/ml/model.
 *
 * @example
 * // docker run -v $PWD/ml:/opt/ml -e MILLWRIGHT_PACKAGE=random-forest-regression IMAGE train
 * // docker run -v $PWD/ml:/opt/ml -p 8080:8080 IMAGE serve
 */
import { readEnv } from '../lib/config/index.ts';
import { processIO, type Command, type CliIO } from './command.ts';
import { dispatch, runIfMain } from './dispatch.ts';

/** Adds the default package to a bare `train` (no positional argument). */
export function containerArgs(argv: string[], env: NodeJS.ProcessEnv): string[] {
  const pkg = readEnv('MILLWRIGHT_PACKAGE', env);
  if (argv[0] !== 'train' || pkg === undefined) return argv;
  const rest = argv.slice(1);
  // The first non-flag word that is not a flag's value would be the package; flags here all take values except --json.
  let hasPositional = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--json' || a.startsWith('--') && a.includes('=')) continue;
    if (a.startsWith('-')) {
      i++;
      continue;
    }
    hasPositional = true;
  }
  return hasPositional ? argv : ['train', pkg, ...rest];
}

/**
 * What the serving image runs: training, the registry, serving and reports; no datasets or demo.
 * Imported on demand, and `serve` alone for a `serve`: SageMaker expects GET /ping to answer
 * within seconds of the container start, and the training and report modules take about as long
 * again to load as the server itself.
 */
export async function loadContainerCommands(only?: string): Promise<Command[]> {
  const serve = (await import('./commands/serve.ts')).serveCommands;
  if (only === 'serve') return serve;
  const [{ modelCommands }, { reportCommands }] = await Promise.all([import('./commands/model.ts'), import('./commands/reports.ts')]);
  return [...modelCommands, ...serve, ...reportCommands];
}

/** Runs one container invocation (tests drive it in-process). */
export async function containerMain(argv: string[], io: CliIO = processIO(), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const args = containerArgs(argv, env);
  const only = args[0] === 'serve' && !args.includes('--help') && !args.includes('-h') ? 'serve' : undefined;
  return dispatch(await loadContainerCommands(only), args, io);
}

runIfMain(import.meta.url, (argv) => containerMain(argv));
