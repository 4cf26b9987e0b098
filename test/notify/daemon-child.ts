/**
 * The `millwright notify run` command in a child process, loading only that command (the whole
 * CLI loads every area and takes seconds to start under load). Used by the daemon SIGKILL test.
 * Usage: node --import tsx test/notify/daemon-child.ts run --channels notify.yaml [...]
 */
import { notify } from '../../cli/commands/notify.ts';

const code = await notify.run(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: false,
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
