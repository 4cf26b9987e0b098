export { generatePlant, planPlant, type PlantOptions } from '../../datasets/index.ts';
export type { ReadingBatch as ReadingBatchLike } from '../../lib/readings/index.ts';
