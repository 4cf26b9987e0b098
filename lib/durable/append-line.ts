import { appendFile, open } from 'node:fs/promises';

/**
 * Appends one line to a log file and fsyncs it before returning, so a caller that acts on the
 * line afterwards (moves the file it names, answers a request) never acts on a line a crash can
 * take back. `line` must not contain a newline; one is added.
 *
 * @example
 * await appendLine('/var/lib/millwright/state/files.hashes', `${sha256} "export-2026-12-02.csv"`);
 */
export async function appendLine(path: string, line: string): Promise<void> {
  await appendFile(path, `${line}\n`);
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
