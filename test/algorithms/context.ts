/**
 * A real TrainContext for calling the built-ins directly: channels are folders of CSV files on
 * disk, read with arquero; the logger records messages for assertions.
 */
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as aq from 'arquero';
import type { ColumnTable } from 'arquero';
import type { Channel, Logger, TrainContext } from '../../lib/model/contract.ts';

export interface TestLogger extends Logger {
  messages: { level: string; message: string; fields?: Record<string, unknown> }[];
}

export function testLogger(): TestLogger {
  const messages: TestLogger['messages'] = [];
  return {
    messages,
    info: (message, fields) => messages.push({ level: 'info', message, fields }),
    warn: (message, fields) => messages.push({ level: 'warn', message, fields }),
    error: (message, fields) => messages.push({ level: 'error', message, fields }),
    progress: () => undefined,
  };
}

/** A channel over the CSV files of `dir`. */
export async function csvChannel(name: string, dir: string): Promise<Channel> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.csv')).sort().map((f) => join(dir, f));
  return {
    name,
    dir,
    files,
    async load(): Promise<ColumnTable> {
      if (files.length === 0) throw new Error(`channel ${name}: no CSV files in ${dir}`);
      const tables = await Promise.all(files.map(async (f) => aq.fromCSV(await readFile(f, 'utf8'))));
      return tables.length === 1 ? tables[0]! : tables[0]!.concat(...tables.slice(1));
    },
  };
}

/** A scratch SageMaker-like base dir; `cleanup()` removes it. */
export async function scratch(): Promise<{ base: string; cleanup: () => Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), 'millwright-alg-'));
  return { base, cleanup: () => rm(base, { recursive: true, force: true }) };
}

/** Writes tables as CSV channels under `<base>/input/data/<name>/` and returns a TrainContext. */
export async function trainContext<H>(
  base: string,
  tables: Record<string, ColumnTable>,
  hyperparameters: H,
  modelName = 'model',
): Promise<TrainContext<H> & { log: TestLogger }> {
  const channels: Record<string, Channel> = {};
  for (const [name, table] of Object.entries(tables)) {
    const dir = join(base, 'input', 'data', name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${name}.csv`), table.toCSV());
    channels[name] = await csvChannel(name, dir);
  }
  const modelDir = join(base, modelName);
  await mkdir(modelDir, { recursive: true });
  return { hyperparameters, channels, modelDir, log: testLogger() };
}
