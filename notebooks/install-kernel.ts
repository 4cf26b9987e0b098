/**
 * Registers the "TypeScript (millwright)" Jupyter kernel: tslab, running in notebooks/, where
 * cells `import { scanTable } from 'millwright'` (and 'millwright/datasets', ...) with the types
 * of the built package (`npm run build` first). tslab compiles cells with Node10 module
 * resolution, which ignores package.json `exports` and self-reference, so it finds the package
 * through notebooks/node_modules/millwright, a symlink to this checkout made here (gitignored),
 * and the subpaths through `typesVersions`. At run time tslab turns imports into `require`, which
 * loads dist/ through `exports` (require of ES modules, Node >= 20.19).
 *
 *   node --import tsx notebooks/install-kernel.ts            # into the user's Jupyter data dir
 *   node --import tsx notebooks/install-kernel.ts DIR        # into DIR/kernels/millwright (then JUPYTER_PATH=DIR)
 */
import { lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
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

/**
 * Makes `millwright` resolvable for tslab's compiler from notebooks/: notebooks/node_modules/millwright
 * -> the checkout. Never touches the checkout's own node_modules (it may be shared).
 */
export function linkPackage(root = repo): string {
  const link = join(root, 'notebooks', 'node_modules', 'millwright');
  mkdirSync(dirname(link), { recursive: true });
  try {
    if (lstatSync(link).isSymbolicLink()) rmSync(link);
  } catch {
    // absent: create it below
  }
  symlinkSync(relative(dirname(link), root), link, 'dir');
  return link;
}

/** Writes `<jupyterDir>/kernels/millwright/kernel.json` and links the package; returns the kernel.json path. */
export function writeKernelSpec(jupyterDir: string, root = repo): string {
  linkPackage(root);
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
