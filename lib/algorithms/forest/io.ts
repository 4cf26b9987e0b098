/**
 * Forest files: `<name>.json` (shape and per-tree node counts) + `<name>.bin` (little-endian typed
 * arrays, per tree: feature i32, left i32, right i32, threshold f32, value f32). Binary because a
 * 100-tree forest on 100k rows has millions of nodes; JSON would be ~10x larger and slow to parse.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MillwrightError } from '../../errors/index.ts';
import type { Forest } from './forest.ts';
import type { Tree } from './tree.ts';

interface ForestHeader {
  format: 'millwright-forest';
  version: 1;
  kind: Forest['kind'];
  nFeatures: number;
  nOutputs: number;
  nodes: number[];
}

/** Writes `<dir>/<name>.json` and `<dir>/<name>.bin`. */
export async function saveForest(forest: Forest, dir: string, name = 'forest'): Promise<void> {
  const header: ForestHeader = {
    format: 'millwright-forest',
    version: 1,
    kind: forest.kind,
    nFeatures: forest.nFeatures,
    nOutputs: forest.nOutputs,
    nodes: forest.trees.map((t) => t.feature.length),
  };
  const total = header.nodes.reduce((s, v) => s + v, 0);
  const buf = Buffer.alloc(total * (16 + 4 * forest.nOutputs));
  let off = 0;
  const put = (a: Int32Array | Float32Array): void => {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    buf.set(bytes, off);
    off += a.byteLength;
  };
  for (const t of forest.trees) {
    put(t.feature);
    put(t.left);
    put(t.right);
    put(t.threshold);
    put(t.value);
  }
  await writeFile(join(dir, `${name}.bin`), buf);
  await writeFile(join(dir, `${name}.json`), JSON.stringify(header) + '\n');
}

/** Reads a forest written by `saveForest`, checking that the sizes add up. */
export async function loadForest(dir: string, name = 'forest'): Promise<Forest> {
  let header: ForestHeader;
  try {
    header = JSON.parse(await readFile(join(dir, `${name}.json`), 'utf8')) as ForestHeader;
  } catch (err) {
    throw new MillwrightError('INTEGRITY', `forest: cannot read ${name}.json in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  if (header.format !== 'millwright-forest' || header.version !== 1 || !Array.isArray(header.nodes)) {
    throw new MillwrightError('INTEGRITY', `forest: ${name}.json is not a millwright forest (format/version mismatch)`);
  }
  const bin = await readFile(join(dir, `${name}.bin`));
  const K = header.nOutputs;
  const expected = header.nodes.reduce((s, v) => s + v, 0) * (16 + 4 * K);
  if (bin.byteLength !== expected) {
    throw new MillwrightError('INTEGRITY', `forest: ${name}.bin has ${bin.byteLength} bytes, expected ${expected}`);
  }
  // copy into an aligned buffer: Buffer slices may start at any offset
  const ab = new ArrayBuffer(bin.byteLength);
  new Uint8Array(ab).set(bin);
  let off = 0;
  const take = <T extends Int32Array | Float32Array>(C: new (b: ArrayBuffer, o: number, l: number) => T, len: number): T => {
    const a = new C(ab, off, len);
    off += len * 4;
    return a;
  };
  const trees: Tree[] = header.nodes.map((m) => ({
    feature: take(Int32Array, m),
    left: take(Int32Array, m),
    right: take(Int32Array, m),
    threshold: take(Float32Array, m),
    value: take(Float32Array, m * K),
  }));
  for (const t of trees) {
    const m = t.feature.length;
    for (let i = 0; i < m; i++) {
      const l = t.left[i]!;
      if (l >= 0 && (l <= i || l >= m || t.right[i]! <= i || t.right[i]! >= m || t.feature[i]! >= header.nFeatures)) {
        throw new MillwrightError('INTEGRITY', `forest: ${name}.bin has an invalid node ${i} (child or feature out of range)`);
      }
    }
  }
  return { kind: header.kind, nFeatures: header.nFeatures, nOutputs: K, trees };
}
