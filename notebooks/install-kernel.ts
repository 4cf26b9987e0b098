/**
 * Registers the "TypeScript (millwright)" Jupyter kernel: tslab, with tsx preloaded so notebook
 * cells can `await import('../lib/features/index.ts')` (tslab's own TypeScript 5.0 cannot
 * compile the project's `.ts`-extension ESM imports; tsx loads them at run time instead).
 *
 *   node --import tsx notebooks/install-kernel.ts            # into the user's Jupyter data dir
 *   node --import tsx notebooks/install-kernel.ts DIR        # into DIR/kernels/millwright (then JUPYTER_PATH=DIR)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Kernel name used in every notebook's metadata. */
export const KERNEL_NAME = 'millwright';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The kernel.json for this checkout (absolute paths: regenerate it if the checkout moves). */
export function kernelSpec(root = repo): Record<string, unknown> {
  return {
    argv: [join(root, 'node_modules/.bin/tslab'), 'kernel', '--config-path', '{connection_file}'],
    display_name: 'TypeScript (millwright)',
    language: 'typescript',
    env: { NODE_OPTIONS: `--import ${pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href}` },
  };
}

/** Writes `<jupyterDir>/kernels/millwright/kernel.json`; returns its path. */
export function writeKernelSpec(jupyterDir: string, root = repo): string {
  const dir = join(jupyterDir, 'kernels', KERNEL_NAME);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'kernel.json');
  writeFileSync(file, `${JSON.stringify(kernelSpec(root), null, 2)}\n`);
  return file;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const target = process.argv[2] ?? (process.platform === 'darwin' ? join(homedir(), 'Library/Jupyter') : join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local/share'), 'jupyter'));
  console.log(`wrote ${writeKernelSpec(resolve(target))}`);
}
