/**
 * `npm run bench`: runs every `bench/*.bench.ts` in turn (or those named on the command line,
 * e.g. `npm run bench -- store features`; a name also selects its `<name>-*.bench.ts` parts, so
 * `gateway` runs `gateway.bench.ts` and `gateway-mqtt.bench.ts`). Each prints its own figures and ratios against a
 * reference measured in the same run on the same files.
 *
 * With more than one section, each runs in a process of its own (same Node flags): a section's
 * timings and peak RSS must not carry what an earlier one left in the heap (measured in one
 * process: the reports bench's peak RSS 3,837 MiB after the models bench against 873 MiB alone,
 * `writeReadings` 2,349 MiB against 291 MiB).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);

/** Runs one section in this process; false (after printing why) when it throws. */
async function runSection(file: string): Promise<boolean> {
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: () => Promise<void> };
    await mod.default();
    return true;
  } catch (err) {
    console.log(`section ${file.replace('.bench.ts', '')} FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return false;
  }
}

// a child of the sweep below: one section, then exit (a section may leave handles open)
if (args[0] === '--section' && args[1] !== undefined) process.exit((await runSection(args[1])) ? 0 : 1);

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => {
    const name = f.replace('.bench.ts', '');
    return args.length === 0 || args.some((w) => name === w || name.startsWith(`${w}-`));
  })
  .sort();

// A section that fails is reported and the others still run: one missing peer or dataset must not
// throw away the figures of a sweep that takes many minutes. The exit code says that one failed.
const failed: string[] = [];
for (const file of files) {
  const name = file.replace('.bench.ts', '');
  console.log(`\n=== ${name} ===`);
  if (files.length === 1) {
    if (!(await runSection(file))) failed.push(name);
    continue;
  }
  const child = spawnSync(process.execPath, [...process.execArgv, self, '--section', file], { stdio: 'inherit' });
  if (child.status !== 0) {
    failed.push(name);
    if (child.status === null) console.log(`section ${name} FAILED: ended by ${child.signal ?? 'an error'}`);
  }
}
if (failed.length > 0) {
  console.log(`\n${failed.length} of ${files.length} section(s) failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
