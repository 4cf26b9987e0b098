import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MillwrightError } from '../lib/errors/index.ts';

/**
 * A CLI subcommand. Each module (store, ingest, datasets, model, serve, reports) exports its
 * own list of commands; `cli/main.ts` only dispatches. `--help` is handled by main, which
 * prints `usage`.
 *
 * @example
 * export const hello: Command = {
 *   name: 'hello', summary: 'Say hello',
 *   usage: 'millwright hello [--name NAME]\n\n  --name NAME   who to greet (default: world)',
 *   async run(args, io) {
 *     const { values } = parseCommandArgs(args, { options: { name: { type: 'string', default: 'world' } } });
 *     io.out(`hello ${values.name}\n`);
 *     return 0;
 *   },
 * };
 */
export interface Command {
  /** Subcommand name, e.g. `ingest` (a group such as `registry` parses its own sub-verbs). */
  name: string;
  /** One line for `millwright --help`. */
  summary: string;
  /** Full help text printed by `millwright <name> --help`. */
  usage: string;
  /** Runs the command; resolves to the process exit code (0 ok, 1 failure). */
  run(args: string[], io: CliIO): Promise<number>;
}

/** Where a command writes. Tests pass buffers; main passes the process streams. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** True when stderr is an interactive terminal: show progress only then. */
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** The process's own streams. */
export function processIO(): CliIO {
  // `millwright sql ... | head` closes stdout early: that is the reader's choice, not a failure.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

/** Usage errors exit with status 2 and point the user at `--help`. */
export function usageError(message: string): MillwrightError {
  return new MillwrightError('USAGE', message);
}

/**
 * `node:util.parseArgs` with strict checking, turning its errors into usage errors (exit 2).
 */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(
  args: string[],
  config: { options: T; allowPositionals?: boolean },
  // Spelled out because the inferred type names util's unexported ParseArgsOptionsConfig, which
  // declaration emit (npm run build) cannot write.
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>> {
  try {
    return parseArgs({ args, options: config.options, allowPositionals: config.allowPositionals ?? false, strict: true });
  } catch (err) {
    throw usageError((err as Error).message);
  }
}

/** What a numeric flag accepts. Bounds are inclusive unless `above` is used. */
export interface NumberRule {
  /** Whole numbers only. */
  integer?: boolean;
  min?: number;
  max?: number;
  /** Strictly greater than this. */
  above?: number;
}

/**
 * The one reader of numeric flags: `undefined` when the flag is absent, else the number, or a
 * usage error (exit 2) naming the flag, what it accepts and what was given. Digit groups may be
 * written with underscores (`--max-rows 1_000_000`).
 *
 * @example
 * const rows = numberFlag('batch-rows', values['batch-rows'], { integer: true, min: 1 }) ?? 100_000;
 */
export function numberFlag(name: string, text: string | undefined, rule: NumberRule = {}): number | undefined {
  if (text === undefined) return undefined;
  const n = text.trim() === '' ? Number.NaN : Number(text.replace(/(\d)_(?=\d)/g, '$1'));
  const ok =
    Number.isFinite(n) &&
    (!rule.integer || Number.isInteger(n)) &&
    (rule.min === undefined || n >= rule.min) &&
    (rule.max === undefined || n <= rule.max) &&
    (rule.above === undefined || n > rule.above);
  if (!ok) throw usageError(`--${name} must be ${describeRule(rule)}, got "${text}"`);
  return n;
}

function describeRule(rule: NumberRule): string {
  if (rule.integer && rule.min === 1 && rule.max === undefined) return 'a positive integer';
  const kind = rule.integer ? 'an integer' : 'a number';
  if (rule.min !== undefined && rule.max !== undefined) return `${kind} from ${rule.min} to ${rule.max}`;
  if (rule.min !== undefined) return `${kind} >= ${rule.min}`;
  if (rule.above !== undefined) return `${kind} > ${rule.above}`;
  if (rule.max !== undefined) return `${kind} <= ${rule.max}`;
  return kind;
}
