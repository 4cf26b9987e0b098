import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MillwrightError } from '../errors/index.ts';
import { millwrightRoot } from './code-version.ts';

/** Files of the template package, copied from `lib/model/template/` (plus the contract). */
const TEMPLATE_FILES = ['train.ts', 'predict.ts', 'features.ts', 'README.md'] as const;

export interface InitModelOptions {
  /** Write into a non-empty folder, overwriting template files. Default false. */
  force?: boolean;
  /** Rows in the bundled sample CSV. Default 240. */
  sampleRows?: number;
}

/**
 * Writes a working model package (ridge linear regression) to `dir`: train.ts, predict.ts,
 * features.ts, README.md, a copy of the contract types and `sample/train.csv`, ready for
 * `millwright train <dir> --channel train=<dir>/sample`.
 *
 * @example
 * const { files } = await initModel('./my-model');
 */
export async function initModel(dir: string, opts: InitModelOptions = {}): Promise<{ dir: string; files: string[] }> {
  const target = resolve(dir);
  if (existsSync(target) && (await readdir(target)).length > 0 && !opts.force) {
    throw new MillwrightError('CONFLICT', `${target} is not empty; choose a new folder or pass --force to overwrite the template files`);
  }
  const src = templateDir();
  await mkdir(join(target, 'sample'), { recursive: true });
  const files: string[] = [];
  for (const name of TEMPLATE_FILES) {
    const text = (await readFile(join(src, name), 'utf8')).replaceAll("from '../contract.ts'", "from './contract.ts'");
    await writeFile(join(target, name), text);
    files.push(name);
  }
  await writeFile(join(target, 'contract.ts'), await readFile(join(src, '..', 'contract.ts'), 'utf8'));
  files.push('contract.ts');
  await writeFile(join(target, 'sample', 'train.csv'), sampleCsv(opts.sampleRows ?? 240));
  files.push('sample/train.csv');
  return { dir: target, files };
}

function templateDir(): string {
  // Sources ship with the package; from dist/ the .ts templates are under <root>/lib/model/template.
  const here = fileURLToPath(new URL('./template/', import.meta.url));
  if (existsSync(join(here, 'README.md'))) return here;
  return join(millwrightRoot(), 'lib', 'model', 'template');
}

/**
 * A small, realistic sample: hourly energy of a line driven by production volume and ambient
 * temperature, with noise (seeded, so every template gets the same file).
 */
function sampleCsv(rows: number): string {
  let s = 7;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const lines = ['ts,production_units,ambient_temp_c,energy_kwh'];
  const t0 = Date.UTC(2025, 0, 6);
  for (let i = 0; i < rows; i++) {
    const hour = i % 24;
    const shift = hour >= 6 && hour < 22;
    const units = shift ? Math.round(80 + 60 * rand()) : Math.round(10 * rand());
    const temp = 12 + 8 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) + 2 * (rand() - 0.5);
    const noise = (rand() + rand() + rand() - 1.5) * 6;
    const energy = 45 + 3.1 * units + 1.8 * temp + noise;
    lines.push(`${new Date(t0 + i * 3_600_000).toISOString()},${units},${temp.toFixed(2)},${energy.toFixed(2)}`);
  }
  return `${lines.join('\n')}\n`;
}
