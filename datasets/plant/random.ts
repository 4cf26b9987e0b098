/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) with a Gaussian helper. Math.random
 * cannot be seeded, and the generator must give identical output for identical seeds on
 * every machine and Node version, so the arithmetic here is all 32-bit integer.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Standard normal (Box-Muller; the second value is cached). */
  normal(): number;
  /** Exponential with the given mean. */
  exponential(mean: number): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A deterministic generator for `seed` and an optional stream id (so independent parts of the
 * plant, e.g. each site's schedule and its noise, do not shift each other when one changes).
 *
 * @example
 * const rng = createRng(42, 1);
 * rng.normal();
 */
export function createRng(seed: number, stream = 0): Rng {
  const init = splitmix32((Math.imul(seed >>> 0, 0x27d4eb2f) ^ Math.imul(stream + 1, 0x165667b1)) >>> 0);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const u32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) u32();
  let spare = Number.NaN;
  const next = () => u32() / 4294967296;
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (n) => Math.floor(next() * n),
    normal() {
      if (!Number.isNaN(spare)) {
        const v = spare;
        spare = Number.NaN;
        return v;
      }
      let u = next();
      while (u === 0) u = next();
      const r = Math.sqrt(-2 * Math.log(u));
      const theta = 2 * Math.PI * next();
      spare = r * Math.sin(theta);
      return r * Math.cos(theta);
    },
    exponential: (mean) => -mean * Math.log(1 - next()),
  };
}
