/**
 * `npm run bench`: runs every `bench/*.bench.ts` in turn (or those named on the command line,
 * e.g. `npm run bench -- store features`; a name also selects its `<name>-*.bench.ts` parts, so
 * `gateway` runs `gateway.bench.ts` and `gateway-mqtt.bench.ts`). Each prints its own figures and ratios against a
 * reference measured in the same run on the same files.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => {
    const name = f.replace('.bench.ts', '');
    return wanted.length === 0 || wanted.some((w) => name === w || name.startsWith(`${w}-`));
  })
  .sort();

// A section that fails is reported and the others still run: one missing peer or dataset must not
// throw away the figures of a sweep that takes many minutes. The exit code says that one failed.
const failed: string[] = [];
for (const file of files) {
  const name = file.replace('.bench.ts', '');
  console.log(`\n=== ${name} ===`);
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: () => Promise<void> };
    await mod.default();
  } catch (err) {
    failed.push(name);
    console.log(`section ${name} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}
if (failed.length > 0) {
  console.log(`\n${failed.length} of ${files.length} section(s) failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
