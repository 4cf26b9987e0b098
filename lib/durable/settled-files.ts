import type { Dirent } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Which files of a watched folder are finished: a regular file (not a dot-file) whose size and
 * mtime have not changed for `stableForMs`, so a file still being written is never picked up.
 * The tracker remembers what each listing saw; `forget(name)` after a file was moved away.
 *
 * @example
 * const settled = new SettledFiles({ stableForMs: 2000 });
 * const names = await settled.pick('/data/exports', await readdir('/data/exports', { withFileTypes: true }));
 */
export class SettledFiles {
  private readonly seen = new Map<string, { size: number; mtime: number; since: number }>();

  /**
   * @param opts.stableForMs how long size and mtime must stay the same (default 2000)
   * @param opts.newFileWaits a file first seen waits for the next listing even at `stableForMs: 0` (default true)
   */
  constructor(private readonly opts: { stableForMs?: number; newFileWaits?: boolean } = {}) {}

  /** The settled names among `entries` (a listing of `dir`), sorted. */
  async pick(dir: string, entries: Dirent[]): Promise<string[]> {
    const stableFor = this.opts.stableForMs ?? 2000;
    const now = Date.now();
    const out: string[] = [];
    const present = new Set<string>();
    for (const e of entries) {
      if (!e.isFile() || e.name.startsWith('.')) continue;
      present.add(e.name);
      const st = await stat(join(dir, e.name)).catch(() => undefined);
      if (!st) continue;
      const prev = this.seen.get(e.name);
      if (!prev || prev.size !== st.size || prev.mtime !== st.mtimeMs) {
        this.seen.set(e.name, { size: st.size, mtime: st.mtimeMs, since: now });
        if (stableFor > 0 || this.opts.newFileWaits !== false) continue;
      } else if (now - prev.since < stableFor) continue;
      out.push(e.name);
    }
    for (const k of this.seen.keys()) if (!present.has(k)) this.seen.delete(k);
    return out.sort();
  }

  /** Drops what was remembered of `name` (it was moved away). */
  forget(name: string): void {
    this.seen.delete(name);
  }
}
