import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './data.ts';

const SOURCE_DIRS = ['cli', 'lib', 'serve', 'reports', 'datasets'];
const MARKER = join(repoRoot, 'dist/lib/index.d.ts');

function newestSource(): number {
  let newest = statSync(join(repoRoot, 'package.json')).mtimeMs;
  for (const dir of SOURCE_DIRS) {
    for (const entry of readdirSync(join(repoRoot, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/**
 * Makes sure dist/ (what `import 'millwright'` resolves to through package.json `exports`) is
 * built from the current sources: `npm test` builds first, so this only runs the build when a
 * single test file is run on a stale or missing dist/.
 */
export function ensureBuilt(): void {
  if (existsSync(MARKER) && statSync(MARKER).mtimeMs >= newestSource()) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}\n${r.stderr}`);
}
