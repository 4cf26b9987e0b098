import type { CliIO } from '../../cli/command.ts';

/** In-process CLI driver: captures stdout and stderr. */
export function captureIO(env: NodeJS.ProcessEnv = {}): CliIO & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out(t: string) {
      io.stdout += t;
    },
    err(t: string) {
      io.stderr += t;
    },
    isTTY: false,
    env,
    cwd: process.cwd(),
  };
  return io;
}

/**
 * Runs one `millwright` invocation in-process from `cwd` and returns its exit code and output.
 * (Imports the CLI lazily so helpers that only need `captureIO` do not load every module.)
 */
export async function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  const { main } = await import('../../cli/main.ts');
  const io = captureIO(env);
  io.cwd = cwd;
  const code = await main(args, io);
  return { code, out: io.stdout, err: io.stderr };
}
