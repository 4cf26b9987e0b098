import type { PlantTruth } from './plan-plant.ts';

const TIME_KEYS = new Set(['start', 'end', 'failure', 'degradationStart', 'repairedAt', 'from', 'to']);

/**
 * The ground truth as JSON text, times as ISO 8601 UTC strings (what `--out-truth` writes).
 *
 * @example
 * await writeFile('truth.json', truthToJson(generatePlant().truth));
 */
export function truthToJson(truth: PlantTruth): string {
  return `${JSON.stringify(truth, (key, value: unknown) => (TIME_KEYS.has(key) && typeof value === 'number' ? new Date(value).toISOString() : value), 2)}\n`;
}
