/**
 * Ascending sort of the finite values of a numeric column. Every distribution statistic in the
 * reports works on sorted arrays, so each column is sorted once per dataset; for large columns
 * an LSD radix sort on the IEEE-754 bit patterns is ~2x faster than `Float64Array#sort`.
 */

/** Finite values of `values`, sorted ascending (NaN and ±Infinity are dropped: they are "missing"). */
export function sortedFinite(values: ArrayLike<number>): Float64Array {
  let n = 0;
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) out[n++] = v;
  }
  const finite = n === out.length ? out : out.slice(0, n);
  return n < 50_000 ? finite.sort() : radixSort(finite);
}

const PASSES = 6; // 11-bit digits: 2048-entry histograms stay in L1 cache
const RADIX = 2048;

/** Sorts finite doubles in place (returns the same array); 6 passes of 11 bits over the 64-bit keys. */
export function radixSort(a: Float64Array): Float64Array {
  const n = a.length;
  const u = new Uint32Array(a.buffer, a.byteOffset, n * 2);
  const counts = new Uint32Array(RADIX * PASSES);
  // Map doubles to unsigned keys that sort in the same order (flip all bits of negatives, the
  // sign bit of positives) and build every pass's histogram in the same sweep.
  for (let i = 0; i < n; i++) {
    let lo = u[2 * i]!;
    let hi = u[2 * i + 1]!;
    if (hi & 0x80000000) {
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
    } else {
      hi = (hi | 0x80000000) >>> 0;
    }
    u[2 * i] = lo;
    u[2 * i + 1] = hi;
    counts[lo & 0x7ff]!++;
    counts[RADIX + ((lo >>> 11) & 0x7ff)]!++;
    counts[2 * RADIX + (lo >>> 22)]!++;
    counts[3 * RADIX + (hi & 0x7ff)]!++;
    counts[4 * RADIX + ((hi >>> 11) & 0x7ff)]!++;
    counts[5 * RADIX + (hi >>> 22)]!++;
  }
  let src: Uint32Array = u;
  let dst: Uint32Array = new Uint32Array(n * 2);
  for (let pass = 0; pass < PASSES; pass++) {
    const base = pass * RADIX;
    // A pass whose digit is the same for every value changes nothing: skip it.
    let trivial = false;
    for (let d = 0; d < RADIX; d++) {
      const c = counts[base + d]!;
      if (c === n) trivial = true;
      if (c !== 0) break;
    }
    if (trivial) continue;
    let sum = 0;
    for (let d = 0; d < RADIX; d++) {
      const c = counts[base + d]!;
      counts[base + d] = sum;
      sum += c;
    }
    const word = pass < 3 ? 0 : 1;
    const shift = (pass % 3) * 11;
    for (let i = 0; i < n; i++) {
      const lo = src[2 * i]!;
      const hi = src[2 * i + 1]!;
      const digit = ((word === 0 ? lo : hi) >>> shift) & 0x7ff;
      const j = counts[base + digit]!++;
      dst[2 * j] = lo;
      dst[2 * j + 1] = hi;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src !== u) u.set(src);
  for (let i = 0; i < n; i++) {
    const hi = u[2 * i + 1]!;
    if (hi & 0x80000000) {
      u[2 * i + 1] = (hi & 0x7fffffff) >>> 0;
    } else {
      u[2 * i] = ~u[2 * i]! >>> 0;
      u[2 * i + 1] = ~hi >>> 0;
    }
  }
  return a;
}
