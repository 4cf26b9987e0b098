import { mkdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from './atomic-file.ts';

/**
 * Moves `<dir>/<name>` into `<dir>/<sub>/` under a name not taken yet (`name`, `name.1`, ...),
 * fsyncing both directories, so a watched folder's file is in exactly one place after a crash.
 * Returns the new path.
 *
 * @example
 * await moveInto('/data/labels', 'done', 'labels-2026-12-02.csv'); // => '/data/labels/done/labels-2026-12-02.csv'
 */
export async function moveInto(dir: string, sub: string, name: string): Promise<string> {
  const target = join(dir, sub);
  await mkdir(target, { recursive: true });
  let dest = join(target, name);
  for (let k = 1; k <= 1000; k++) {
    try {
      await stat(dest);
      dest = join(target, `${name}.${k}`);
    } catch {
      break;
    }
  }
  await rename(join(dir, name), dest);
  await fsyncDir(target);
  await fsyncDir(dir);
  return dest;
}
