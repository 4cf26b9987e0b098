import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ks2samp, KS_MAX_EXACT_N } from '../../reports/stats/ks.ts';
import { kstwoSf } from '../../reports/stats/kstwo.ts';
import { kolmogorovSf } from '../../reports/stats/special.ts';
import { sortedFinite } from '../../reports/stats/sort.ts';

// Written by fixtures/make_ks_edges.py (Debian python3-scipy 1.10).
const fx = JSON.parse(readFileSync(new URL('./fixtures/ks_edges.json', import.meta.url), 'utf8')) as {
  scipy: string;
  ks_2samp: { n1: number; n2: number; seed1: number; seed2: number; shift: number; statistic: number; pvalue: number; en: number }[];
  kstwo_sf: { x: number; n: number; sf: number }[];
};

/** The fixture script's integer LCG, reproduced exactly. */
function sample(n: number, seed: number, shift: number): number[] {
  let s = BigInt(seed);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let k = 0; k < 3; k++) {
      s = (s * 1103515245n + 12345n) % 2147483648n;
      v += Number(s % 1000n);
    }
    out.push((v + shift) / 100);
  }
  return out;
}

test('kstwo.sf agrees with scipy to 1e-13 in every regime scipy selects (Ruben-Gambino, DMTW, Pomeranz, Pelz-Good, 2 x Smirnov)', () => {
  for (const c of fx.kstwo_sf) {
    const got = kstwoSf(c.x, c.n);
    assert.ok(Math.abs(got - c.sf) <= 1e-13, `kstwo.sf(${c.x}, ${c.n}) = ${got}, scipy ${c.sf}`);
  }
});

test('ks_2samp p-values agree with scipy 1.10 to 1e-13 just below, at and above the 10,000-row switch, in every kstwo regime', () => {
  assert.equal(fx.scipy, '1.10.1');
  for (const c of fx.ks_2samp) {
    const r = ks2samp(sortedFinite(sample(c.n1, c.seed1, 0)), sortedFinite(sample(c.n2, c.seed2, c.shift)));
    const what = `${c.n1} x ${c.n2} shift ${c.shift}`;
    assert.equal(r.method, Math.max(c.n1, c.n2) <= KS_MAX_EXACT_N ? 'exact' : 'asymp', what);
    assert.ok(Math.abs(r.statistic - c.statistic) <= 1e-15, `${what}: D ${r.statistic} vs ${c.statistic}`);
    assert.ok(Math.abs(r.pValue - c.pvalue) <= 1e-13, `${what}: p ${r.pValue} vs scipy ${c.pvalue} (diff ${Math.abs(r.pValue - c.pvalue)})`);
  }
});

test('above the switch the Kolmogorov limit would not agree: it is measurably away from scipy (why kstwo is used)', () => {
  const c = fx.ks_2samp.find((k) => k.n1 === 10001 && k.n2 === 60 && k.shift === 0)!;
  const limit = kolmogorovSf(Math.sqrt(c.en) * c.statistic);
  assert.ok(Math.abs(limit - c.pvalue) / c.pvalue > 0.01, `limit ${limit} vs scipy ${c.pvalue}`);
});
