/**
 * The seeded bootstrap of tree k: one generator per tree, seeded from the forest seed and the
 * tree's index, draws the tree's rows and then its features. Trees are therefore independent of
 * the order (and the thread) they are grown in: `fitForest` and `fitForestParallel` give the
 * same forest, and `forestCover` can repeat the draws after training.
 */
import { mulberry32 } from './rng.ts';

/**
 * Rows drawn per tree: `round(maxSamples * n)`, at least 1.
 *
 * @example
 * import { bootstrapSize } from 'millwright';
 * bootstrapSize(1, 80_000); // 80000
 */
export function bootstrapSize(maxSamples: number, n: number): number {
  return Math.max(1, Math.round(maxSamples * n));
}

/**
 * Tree k's generator, after it drew the tree's bootstrap rows (indices in [0, n), with
 * replacement) into the whole of `draws`.
 *
 * @example
 * import { bootstrap, bootstrapSize } from 'millwright';
 * const draws = new Int32Array(bootstrapSize(1, n));
 * const rng = bootstrap(42, 0, n, draws); // tree 0's rows are in draws; rng continues its sequence
 */
export function bootstrap(seed: number, k: number, n: number, draws: Int32Array): () => number {
  const rng = mulberry32((seed + Math.imul(k + 1, 0x2c1b3c6d)) >>> 0);
  for (let i = 0; i < draws.length; i++) draws[i] = Math.floor(rng() * n);
  return rng;
}
