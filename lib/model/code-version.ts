import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { readEnv } from '../config/index.ts';

const run = promisify(execFile);

/** The millwright checkout/install root (walks up from this file to the package.json named millwright). */
export function millwrightRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'millwright') return dir;
      } catch {
        // keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) return dirname(fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Short git commit of `dir` (+`-dirty` when it has uncommitted changes), or undefined outside git. */
export async function gitCommit(dir: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', ['-C', dir, 'rev-parse', '--short=12', 'HEAD'], { timeout: 3000 });
    const { stdout: status } = await run('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no', '--', '.'], { timeout: 3000 });
    return stdout.trim() + (status.trim() ? '-dirty' : '');
  } catch {
    return undefined;
  }
}

/**
 * Code version recorded in manifests: `millwright@<version>+g<commit>` and, for a user package,
 * `; package <name>[+g<commit>]`. `MILLWRIGHT_GIT_COMMIT` overrides git detection (containers
 * built without .git).
 */
export async function codeVersion(packageDir?: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const root = millwrightRoot();
  let version = '0.0.0';
  try {
    version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // not found: keep 0.0.0
  }
  const commit = readEnv('MILLWRIGHT_GIT_COMMIT', env) ?? (await gitCommit(root));
  let out = `millwright@${version}${commit ? `+g${commit}` : ''}`;
  if (packageDir) {
    const pc = await gitCommit(packageDir);
    out += `; package ${packageDir.split(/[\\/]/).filter(Boolean).pop()}${pc ? `+g${pc}` : ''}`;
  }
  return out;
}
