/**
 * Rewrites relative `.ts` import specifiers to `.js` in the emitted declaration files under a
 * directory (default dist/). tsc's `rewriteRelativeImportExtensions` rewrites them in the .js it
 * emits but not in the .d.ts (microsoft/TypeScript#61037), and dist/ holds no .ts files, so a
 * consumer's tooling that resolves `./x.ts` literally (editors, bundlers following types) would
 * find nothing. Run by `npm run build` after tsc.
 *
 *   node tools/rewrite-dts-specifiers.mjs [dir]
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// `from './x.ts'`, `import('./x.ts')`, `import("../x.ts")`: relative specifiers only.
const RELATIVE_TS = /(\bfrom\s*|\bimport\s*\(\s*)(['"])(\.{1,2}\/[^'"]*?)\.(m?)ts\2/g;

const dir = process.argv[2] ?? 'dist';
let files = 0;
for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8');
  const out = text.replace(RELATIVE_TS, (_m, lead, q, path, m) => `${lead}${q}${path}.${m}js${q}`);
  if (out !== text) {
    writeFileSync(file, out);
    files++;
  }
}
console.log(`rewrote .ts specifiers to .js in ${files} declaration files under ${dir}/`);
