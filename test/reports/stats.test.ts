import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ks2samp } from '../../reports/stats/ks.ts';
import { wasserstein, jensenShannon, chiSquare, psi } from '../../reports/stats/distances.ts';
import { chi2Sf, kolmogorovSf } from '../../reports/stats/special.ts';
import { sortedFinite, radixSort } from '../../reports/stats/sort.ts';

// Reference values written by fixtures/make_fixtures.py (scipy, Debian python3-scipy).
const fx = JSON.parse(readFileSync(new URL('./fixtures/stats.json', import.meta.url), 'utf8')) as {
  ks: { a: number[]; b: number[]; exact: { statistic: number; pvalue: number }; asymp_scipy: { pvalue: number }; kolmogorov: number; wasserstein: number }[];
  kolmogorov: { y: number; sf: number }[];
  jensenshannon: { p: number[]; q: number[]; js: number; js_base2: number }[];
  chisquare: { observed: number[]; expected: number[]; statistic: number; pvalue: number; df: number }[];
  chi2_sf: { x: number; df: number; sf: number }[];
  psi: { reference: number[]; current: number[]; psi: number }[];
};

const REL = 1e-9;
function close(actual: number, expected: number, what: string, rel = REL): void {
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), 1e-300);
  assert.ok(err <= rel || actual === expected, `${what}: got ${actual}, scipy ${expected} (relative error ${err.toExponential(2)})`);
}

test('KS statistic and exact p-value match scipy ks_2samp(method="exact")', () => {
  for (const [i, c] of fx.ks.entries()) {
    const r = ks2samp(sortedFinite(c.a), sortedFinite(c.b), 'exact');
    assert.equal(r.method, 'exact');
    close(r.statistic, c.exact.statistic, `case ${i} (${c.a.length}x${c.b.length}) statistic`);
    close(r.pValue, c.exact.pvalue, `case ${i} (${c.a.length}x${c.b.length}) p-value`);
  }
});

test('KS asymptotic p-value is scipy\'s asymp: kstwo.sf(D, round(en)) (the Kolmogorov limit stays for kolmogorovSf itself)', () => {
  for (const [i, c] of fx.ks.entries()) {
    const r = ks2samp(sortedFinite(c.a), sortedFinite(c.b), 'asymp');
    assert.ok(Math.abs(r.pValue - c.asymp_scipy.pvalue) <= 1e-13, `case ${i} asymp p-value ${r.pValue} vs scipy ${c.asymp_scipy.pvalue}`);
  }
  for (const k of fx.kolmogorov) close(kolmogorovSf(k.y), k.sf, `kolmogorov(${k.y})`);
});

test('Wasserstein distance matches scipy.stats.wasserstein_distance', () => {
  for (const [i, c] of fx.ks.entries()) close(wasserstein(sortedFinite(c.a), sortedFinite(c.b)), c.wasserstein, `case ${i}`);
});

test('Jensen-Shannon distance matches scipy.spatial.distance.jensenshannon', () => {
  for (const [i, c] of fx.jensenshannon.entries()) {
    close(jensenShannon(c.p, c.q), c.js, `case ${i}`);
    close(jensenShannon(c.p, c.q, 2), c.js_base2, `case ${i} base 2`);
  }
});

test('chi-square statistic and p-value match scipy.stats.chisquare; chi2.sf matches', () => {
  for (const [i, c] of fx.chisquare.entries()) {
    const r = chiSquare(c.observed, c.expected);
    close(r.statistic, c.statistic, `case ${i} statistic`);
    close(r.pValue, c.pvalue, `case ${i} p-value`);
    assert.equal(r.df, c.df);
  }
  for (const s of fx.chi2_sf) close(chi2Sf(s.x, s.df), s.sf, `chi2.sf(${s.x}, ${s.df})`);
  assert.equal(chiSquare([3, 4, 1], [5, 5, 0]).pValue, 0, 'a category never seen in the reference is infinitely surprising');
});

test('PSI matches the numpy reference formula', () => {
  for (const c of fx.psi) close(psi(c.reference, c.current), c.psi, 'psi');
});

test('radix sort orders doubles like Float64Array#sort, including negatives and zeros', () => {
  const n = 60_000;
  const a = new Float64Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    a[i] = ((s / 2147483648) - 0.4) * 1e3 * (i % 7 === 0 ? 1e-6 : 1);
  }
  a[10] = 0;
  a[11] = -1e308;
  a[12] = 1e308;
  assert.deepEqual(radixSort(a.slice()), a.slice().sort());
  assert.deepEqual(Array.from(sortedFinite([3, Number.NaN, 1, Infinity, 2])), [1, 2, 3]);
});
