import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MillwrightError } from '../errors/index.ts';

/** One capture file and its size in bytes. */
export interface CaptureFile {
  path: string;
  bytes: number;
}

/**
 * Every `.jsonl` capture file under `dirOrFile` (recursively; a file names itself), sorted by
 * path, which in the capture layout (`.../YYYY/MM/DD/HH/mm-ss-mmm-uuid.jsonl`) is time order
 * within one endpoint and variant.
 *
 * A directory that does not exist yet holds no files: a fresh server has captured nothing, which
 * is a normal state. Any other failure to read it is NOT_FOUND with the reason.
 *
 * @example
 * import { listCaptureFiles } from 'millwright';
 * const files = await listCaptureFiles('/var/lib/millwright/capture/press-energy');
 */
export async function listCaptureFiles(dirOrFile: string): Promise<CaptureFile[]> {
  let entries: string[];
  try {
    const s = await stat(dirOrFile);
    if (s.isFile()) return [{ path: dirOrFile, bytes: s.size }];
    entries = (await readdir(dirOrFile, { recursive: true })) as string[];
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new MillwrightError('NOT_FOUND', `capture directory ${dirOrFile} cannot be read: ${(err as Error).message}`);
  }
  const out: CaptureFile[] = [];
  for (const rel of entries.filter((e) => e.endsWith('.jsonl')).sort()) {
    const path = join(dirOrFile, rel);
    try {
      out.push({ path, bytes: (await stat(path)).size });
    } catch {
      // rotated away between the listing and the stat: not a capture file any more
    }
  }
  return out;
}
