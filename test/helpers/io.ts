import type { CliIO } from '../../lib/cli/command.ts';

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
