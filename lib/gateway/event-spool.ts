import { readFile, rename, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fsyncDir, mkdirDurable, readdirIfExists } from '../durable/index.ts';
import { lockSpool, publishSpoolFile } from '../spool/index.ts';
import { writeEvents, type EventRow } from '../store/index.ts';

let counter = 0;

/**
 * Appends event rows to the spool as one `evt-*.events` file (JSON), durably: temp file named
 * like the reading segments' (`.tmp-<pid>-…`, so the spool's recovery removes a dead writer's),
 * fsync, rename, fsync the directory. Events live beside the reading segments and are flushed
 * into the store's `events` table by {@link flushEvents}; `flushSpool` never sees them.
 * Returns the file's path and size.
 */
export async function appendEvents(dir: string, rows: EventRow[]): Promise<{ file: string; bytes: number }> {
  const root = resolve(dir);
  await mkdirDurable(root);
  const bytes = Buffer.from(JSON.stringify({ version: 1, rows }), 'utf8');
  const n = ++counter;
  const tmp = join(root, `.tmp-${process.pid}-e${n}-${randomBytes(4).toString('hex')}.part`);
  const name = `evt-${String(Date.now()).padStart(14, '0')}-${String(process.pid).padStart(7, '0')}-${String(n).padStart(8, '0')}-${randomBytes(3).toString('hex')}.events`;
  const file = await publishSpoolFile(root, tmp, name, bytes);
  return { file, bytes: bytes.length };
}

/** Spooled event files, oldest first. */
export async function listEventFiles(dir: string): Promise<string[]> {
  return (await readdirIfExists(dir))
    .filter((f) => f.startsWith('evt-') && f.endsWith('.events'))
    .sort()
    .map((f) => join(resolve(dir), f));
}

/** What {@link flushEvents} moved. */
export interface EventFlushResult {
  files: number;
  rows: number;
  /** Files that could not be parsed, set aside as `*.corrupt`. */
  quarantined: string[];
}

/**
 * Moves spooled events into the store's `events` table: writes them (atomically, durable when it
 * resolves) and only then deletes their spool files, under the spool's flush lock. A crash in
 * between writes those events twice (with the same `id`).
 */
export async function flushEvents(spool: string, store: string, log?: (line: string) => void): Promise<EventFlushResult> {
  const out: EventFlushResult = { files: 0, rows: 0, quarantined: [] };
  const files = await listEventFiles(spool);
  if (files.length === 0) return out;
  const release = await lockSpool(spool);
  try {
    const rows: EventRow[] = [];
    const taken: string[] = [];
    for (const f of files) {
      let text: string;
      try {
        text = await readFile(f, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      try {
        const doc = JSON.parse(text) as { rows: EventRow[] };
        rows.push(...doc.rows);
        taken.push(f);
      } catch (err) {
        await rename(f, `${f}.corrupt`);
        out.quarantined.push(`${f}.corrupt`);
        log?.(`event file ${basename(f)} is damaged (${(err as Error).message}); set aside as ${basename(f)}.corrupt`);
      }
    }
    if (rows.length > 0) await writeEvents(store, rows);
    for (const f of taken) await unlink(f).catch(() => {});
    await fsyncDir(spool);
    out.files = taken.length;
    out.rows = rows.length;
    return out;
  } finally {
    await release();
  }
}
