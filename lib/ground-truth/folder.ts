import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { appendLine, moveInto, SettledFiles, writeFileAtomic } from '../durable/index.ts';
import { MillwrightError } from '../errors/index.ts';
import { parseGroundTruth } from './record.ts';
import { appendGroundTruth } from './store.ts';

/** Options of {@link watchGroundTruthFolder}. */
export interface GroundTruthFolderOptions {
  /** The watched folder: label files (JSON Lines in SageMaker's ground-truth layout, or CSV) are dropped here. */
  dir: string;
  /** The label store the accepted labels are appended to (lib/ground-truth `appendGroundTruth`). */
  storeDir: string;
  /** How often the folder is listed (default 1000 ms). */
  pollMs?: number;
  /** How long a file's size and modification time must stay unchanged before it is read (default 2000 ms). */
  stableForMs?: number;
  /** One line per file taken, moved or failed. */
  log?: (fields: Record<string, unknown>) => void;
}

/** What one pass over the folder did. */
export interface GroundTruthFolderPass {
  /** Files whose labels were stored (moved to done/). */
  stored: { file: string; labels: number }[];
  /** Files whose content had been stored before (moved to done/ unread). */
  duplicates: string[];
  /** Files that could not be parsed (moved to failed/ beside a `.reason.txt`). */
  failed: { file: string; reason: string }[];
}

/** The content hashes of the files already stored, one `<sha256> <name>` a line (hidden: the folder skips dot files). */
export const GROUND_TRUTH_HASHES = '.ingested.sha256';

/**
 * Watches a folder for label files, like the gateway's `files` source: a file is read once its
 * size and modification time have been stable for `stableForMs`; its labels are appended to the
 * label store, its content hash recorded (fsynced) and it is moved to `done/`. A file with the
 * content of one stored before goes to `done/` unread; one that does not parse goes to `failed/`
 * beside `<name>.reason.txt`. A crash after the store write and before the hash is recorded
 * stores the file's labels again on the next pass: the merge counts them as duplicates and the
 * values are the same, so the result does not change.
 *
 * `.csv` files are read as CSV, `.jsonl`/`.json`/`.ndjson` as JSON Lines, anything else by its
 * first character. Dot files and directories (done/, failed/) are never read.
 *
 * @example
 * import { watchGroundTruthFolder } from 'millwright';
 * const watcher = watchGroundTruthFolder({ dir: '/data/labels', storeDir: '/data/labels/store' });
 * await watcher.pass(); // one pass now (tests, shutdown)
 * await watcher.stop();
 */
export function watchGroundTruthFolder(options: GroundTruthFolderOptions): { pass(): Promise<GroundTruthFolderPass>; stop(): Promise<void> } {
  const log = options.log ?? (() => undefined);
  // A stableForMs of 0 takes a new file at once here (the label folder's documented rule).
  const settled = new SettledFiles({ stableForMs: options.stableForMs, newFileWaits: false });
  let hashes: Set<string> | undefined;
  let running: Promise<GroundTruthFolderPass> | undefined;
  let stopped = false;

  const loadHashes = async (): Promise<Set<string>> => {
    if (hashes) return hashes;
    const text = await readFile(join(options.dir, GROUND_TRUTH_HASHES), 'utf8').catch(() => '');
    hashes = new Set(text.split('\n').filter((l) => /^[0-9a-f]{64}/.test(l)).map((l) => l.slice(0, 64)));
    return hashes;
  };

  const record = async (hash: string, name: string) => {
    const path = join(options.dir, GROUND_TRUTH_HASHES);
    await appendLine(path, `${hash} ${JSON.stringify(name)}`);
    (await loadHashes()).add(hash);
  };

  const stableFiles = async (): Promise<string[]> => {
    let entries;
    try {
      entries = await readdir(options.dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new MillwrightError('NOT_FOUND', `ground truth folder ${options.dir} cannot be read: ${(err as Error).message}`);
    }
    return settled.pick(options.dir, entries);
  };

  const take = async (name: string, result: GroundTruthFolderPass) => {
    const path = join(options.dir, name);
    const bytes = await readFile(path);
    const hash = createHash('sha256').update(bytes).digest('hex');
    settled.forget(name);
    if ((await loadHashes()).has(hash)) {
      const dest = await moveInto(options.dir, 'done', name);
      result.duplicates.push(name);
      log({ level: 'info', msg: 'ground truth file already stored', file: name, sha256: hash.slice(0, 12), movedTo: dest });
      return;
    }
    const ext = extname(name).toLowerCase();
    const format = ext === '.csv' ? 'csv' : ext === '.jsonl' || ext === '.json' || ext === '.ndjson' ? 'jsonl' : undefined;
    let labels;
    try {
      labels = parseGroundTruth(bytes.toString('utf8'), format);
      if (labels.length === 0) throw new MillwrightError('BAD_INPUT', 'the file holds no labels');
    } catch (err) {
      if (!(err instanceof MillwrightError) || err.code !== 'BAD_INPUT') throw err;
      const dest = await moveInto(options.dir, 'failed', name);
      await writeFileAtomic(`${dest}.reason.txt`, `${err.message}\n`);
      result.failed.push({ file: name, reason: err.message });
      log({ level: 'warn', msg: 'ground truth file rejected', file: name, movedTo: dest, reason: err.message });
      return;
    }
    await appendGroundTruth(options.storeDir, labels);
    await record(hash, name);
    const dest = await moveInto(options.dir, 'done', name);
    result.stored.push({ file: name, labels: labels.length });
    log({ level: 'info', msg: 'ground truth file stored', file: name, labels: labels.length, movedTo: dest });
  };

  const pass = (): Promise<GroundTruthFolderPass> => {
    running ??= (async () => {
      const result: GroundTruthFolderPass = { stored: [], duplicates: [], failed: [] };
      for (const name of await stableFiles()) {
        if (stopped) break;
        await take(name, result);
      }
      return result;
    })().finally(() => (running = undefined));
    return running;
  };

  let lastError: string | undefined;
  const timer = setInterval(() => {
    if (running || stopped) return;
    pass().then(
      () => (lastError = undefined),
      (err: Error) => {
        // Said once per distinct failure, not every poll.
        if (err.message !== lastError) log({ level: 'warn', msg: 'ground truth folder pass failed', reason: err.message });
        lastError = err.message;
      },
    );
  }, options.pollMs ?? 1000);
  timer.unref();
  return {
    pass,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
