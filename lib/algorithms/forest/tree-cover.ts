/**
 * Node covers: how many (bootstrap) training rows reached each node of each tree. TreeSHAP needs
 * them for its conditional expectations, and the trained trees do not store them, so they are
 * recomputed after training from the same seeded bootstrap draws `fitForest` made and written
 * beside the forest as `forest-cover.bin` + `forest-cover.json`. The forest files themselves are
 * unchanged; artifacts trained before covers existed load and predict as before, and explaining
 * them fails with a clear error that says to retrain.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MillwrightError } from '../../errors/index.ts';
import type { Forest } from './forest.ts';
import { mulberry32 } from './rng.ts';

/** One Float64Array per tree, one count per node. */
export type ForestCover = Float64Array[];

/** The file name stem of the cover sidecar. */
export const COVER_FILE = 'forest-cover';

/**
 * Recomputes the bootstrap counts per node: tree k's rows are the first `round(maxSamples * n)`
 * draws of the seeded generator `fitForest` used for tree k, routed with the same float32
 * comparison `predictForest` makes (which equals the training split "bin <= b", see binning.ts).
 * `X` is column-major (`f * n + r`), exactly what was passed to `fitForest`.
 *
 * @example
 * const forest = fitForest(X, n, F, target, options);
 * const cover = forestCover(forest, X, n, { seed: options.seed, maxSamples: options.maxSamples });
 */
export function forestCover(forest: Forest, X: Float32Array, n: number, options: { seed: number; maxSamples: number }): ForestCover {
  if (X.length !== n * forest.nFeatures) {
    throw new MillwrightError('BAD_INPUT', `forest cover: matrix has ${X.length} values, expected ${n} rows x ${forest.nFeatures} features`);
  }
  const m = Math.max(1, Math.round(options.maxSamples * n));
  return forest.trees.map((t, k) => {
    const rng = mulberry32((options.seed + Math.imul(k + 1, 0x2c1b3c6d)) >>> 0);
    const cover = new Float64Array(t.feature.length);
    const { feature, threshold, left, right } = t;
    for (let i = 0; i < m; i++) {
      const r = Math.floor(rng() * n);
      let node = 0;
      cover[0]!++;
      while (left[node]! >= 0) {
        node = X[feature[node]! * n + r]! <= threshold[node]! ? left[node]! : right[node]!;
        cover[node]!++;
      }
    }
    return cover;
  });
}

/** Writes the cover sidecar next to the forest files in `dir`. */
export async function saveForestCover(cover: ForestCover, dir: string): Promise<void> {
  const total = cover.reduce((s, c) => s + c.length, 0);
  const all = new Float64Array(total);
  let off = 0;
  for (const c of cover) {
    all.set(c, off);
    off += c.length;
  }
  await writeFile(join(dir, `${COVER_FILE}.bin`), new Uint8Array(all.buffer));
  await writeFile(join(dir, `${COVER_FILE}.json`), JSON.stringify({ format: 'millwright-forest-cover', version: 1, nodes: cover.map((c) => c.length) }) + '\n');
}

/**
 * Reads the cover sidecar of `forest` from `dir`. A model trained before covers were written has
 * none: that is a `BAD_INPUT` naming the fix (retrain), since attributions without covers would be
 * guesses.
 */
export async function loadForestCover(dir: string, forest: Forest): Promise<ForestCover> {
  let header: { format?: string; nodes?: number[] };
  try {
    header = JSON.parse(await readFile(join(dir, `${COVER_FILE}.json`), 'utf8')) as typeof header;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MillwrightError(
        'BAD_INPUT',
        `explain: ${dir} has no ${COVER_FILE}.json (node training counts); the model was trained before attributions were supported. Retrain it with this version to explain its predictions`,
      );
    }
    throw new MillwrightError('INTEGRITY', `forest cover: cannot read ${COVER_FILE}.json in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  const nodes = header.nodes;
  if (header.format !== 'millwright-forest-cover' || !Array.isArray(nodes) || nodes.length !== forest.trees.length || nodes.some((m, i) => m !== forest.trees[i]!.feature.length)) {
    throw new MillwrightError('INTEGRITY', `forest cover: ${COVER_FILE}.json in ${dir} does not match the forest (tree or node counts differ)`);
  }
  const bin = await readFile(join(dir, `${COVER_FILE}.bin`));
  const total = nodes.reduce((s, v) => s + v, 0);
  if (bin.byteLength !== total * 8) throw new MillwrightError('INTEGRITY', `forest cover: ${COVER_FILE}.bin has ${bin.byteLength} bytes, expected ${total * 8}`);
  const ab = new ArrayBuffer(bin.byteLength);
  new Uint8Array(ab).set(bin);
  let off = 0;
  return nodes.map((m) => {
    const c = new Float64Array(ab, off, m);
    off += m * 8;
    return c;
  });
}
