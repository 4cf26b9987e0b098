import { writeReadings, type WriteOptions } from '../../lib/store/index.ts';
import { generatePlant } from './generate-plant.ts';
import type { PlantOptions } from './options.ts';
import type { PlantTruth } from './plan-plant.ts';

/** Progress of {@link writePlant}, after each chunk. */
export interface PlantProgress {
  readings: number;
  total: number;
  files: number;
  elapsedMs: number;
}

/** Extra options of {@link writePlant}. */
export interface WritePlantOptions {
  /** Called after each chunk is durable in the store. */
  onProgress?: (p: PlantProgress) => void;
  /** Passed to the store's writeReadings (e.g. `{ fsync: false }` for throwaway benchmark stores). */
  write?: WriteOptions;
}

/** What {@link writePlant} wrote. */
export interface WritePlantResult {
  readings: number;
  files: number;
  truth: PlantTruth;
}

/**
 * Generates a synthetic plant straight into the store at `root`, one store write per chunk
 * (default chunk 1,048,576 readings here, so each write covers several days of partitions and
 * memory stays bounded by one chunk whatever the plant size).
 *
 * @example
 * const { readings, truth } = await writePlant('.millwright/store', { seed: 7, days: 30 });
 */
export async function writePlant(root: string, options: PlantOptions = {}, extra: WritePlantOptions = {}): Promise<WritePlantResult> {
  const plant = generatePlant({ chunkSize: 1 << 20, ...options });
  const started = Date.now();
  let readings = 0;
  let files = 0;
  for (const batch of plant) {
    const r = await writeReadings(root, batch, extra.write);
    readings += r.rows;
    files += r.files.length;
    extra.onProgress?.({ readings, total: plant.readings, files, elapsedMs: Date.now() - started });
  }
  return { readings, files, truth: plant.truth };
}
