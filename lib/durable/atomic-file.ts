import { open, rename, mkdir, unlink, readdir } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

let sequence = 0;

/**
 * A unique, roughly time-ordered file id: `<ms since epoch, 13 digits>-<pid>-<seq>-<random>`.
 * Time order lets compaction prefer the most recently written copy of a duplicate reading.
 */
export function uniqueId(): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${String(Date.now()).padStart(13, '0')}-${process.pid}-${String(sequence).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
}

/** fsync a directory so that a rename or a new entry in it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * `mkdir -p` that also fsyncs the parent of every directory it creates, so the new path itself
 * is durable before files are renamed into it.
 */
export async function mkdirDurable(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  // `first` is the top-most directory created; fsync it and everything below, plus its parent.
  const created: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    created.push(d);
    if (d === first || dirname(d) === d) break;
  }
  for (const d of created) await fsyncDir(d);
  await fsyncDir(dirname(first));
}

/**
 * Writes `data` to `finalPath` atomically (creating its directory durably if needed): a hidden
 * temp file in the same directory (`.` prefix,
 * ignored by scans and by Hive readers), fsync, rename, fsync the directory. A crash at any point
 * leaves either the whole file or no file under `finalPath` (possibly a stray temp file, which
 * readers ignore and `compact` removes).
 */
export async function writeFileAtomic(finalPath: string, data: Uint8Array | string, opts: { fsync?: boolean } = {}): Promise<void> {
  const durable = opts.fsync ?? true;
  const dir = dirname(finalPath);
  await mkdirDurable(dir);
  if (typeof data === 'string') data = Buffer.from(data);
  const tmp = join(dir, `.${basename(finalPath)}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx');
  try {
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await fh.write(data, off, data.length - off);
      off += bytesWritten;
    }
    if (durable) await fh.sync();
  } catch (err) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fh.close();
  await rename(tmp, finalPath);
  if (durable) await fsyncDir(dir);
}

/**
 * Names in `dir`, or none when `dir` does not exist yet (a spool, store or registry that has not
 * been written to is empty, not an error). Other errors (permissions, not a directory) propagate.
 */
export async function readdirIfExists(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
}

/** {@link readdirIfExists} with file types. */
export async function direntsIfExists(dir: string): Promise<Dirent[]> {
  return readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
}
