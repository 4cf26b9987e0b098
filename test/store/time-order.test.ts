import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byteOrderRanks, timeOrderPermutation } from '../../lib/store/time-order.ts';

/** The order a stable comparison sort on (ts, asset name bytes, signal name bytes) gives. */
function reference(ts: Float64Array, asset: Int32Array, signal: Int32Array, assets: string[], signals: string[]): number[] {
  const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  return Array.from(ts, (_, i) => i).sort((i, j) => ts[i]! - ts[j]! || cmp(assets[asset[i]!]!, assets[asset[j]!]!) || cmp(signals[signal[i]!]!, signals[signal[j]!]!) || i - j);
}

function rows(n: number, seed: number, tsOf: (r: number) => number) {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const ts = new Float64Array(n);
  const asset = new Int32Array(n);
  const signal = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ts[i] = tsOf(rnd());
    asset[i] = Math.floor(rnd() * 5);
    signal[i] = Math.floor(rnd() * 3);
  }
  return { ts, asset, signal };
}

test('timeOrderPermutation: (ts, asset, signal) by name bytes, ties in input order, over every range and fallback', () => {
  // names whose dictionary order is not their sort order; an astral character sorts after U+FFFD in UTF-8
  const assets = ['pump-2', 'pump-10', 'Ässet', '\u{1F600}x', '\uFFFDy'];
  const signals = ['temp', 'current', 'a'];
  const ra = byteOrderRanks(assets);
  const rs = byteOrderRanks(signals);
  const T0 = Date.UTC(2024, 0, 1);
  const cases: [string, (r: number) => number][] = [
    ['many ties (10 instants)', (r) => T0 + Math.floor(r * 10) * 1000],
    ['a week of ms (two 16-bit digits)', (r) => T0 + Math.floor(r * 604_800_000)],
    ['a century (three digits and more)', (r) => T0 + Math.floor((r - 0.5) * 3.2e12)],
    ['fractional ms (comparison sort)', (r) => T0 + r * 1000],
    ['one instant', () => T0],
  ];
  for (const [name, tsOf] of cases) {
    for (const n of [0, 1, 2, 17, 5000]) {
      const { ts, asset, signal } = rows(n, n + 7, tsOf);
      const got = Array.from(timeOrderPermutation(ts, asset, signal, ra, rs));
      assert.deepEqual(got, reference(ts, asset, signal, assets, signals), `${name}, ${n} rows`);
    }
  }
});
