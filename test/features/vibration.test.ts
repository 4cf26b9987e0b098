import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { timeDomainFeatures, vibrationWindows, spectrumFeatures, welchPsd, TIME_DOMAIN_FEATURES } from '../../lib/features/index.ts';
import { noRealData, realDataDir } from '../helpers/data.ts';
import { readCwru, readIms, relErr } from './read.ts';

interface Fx {
  cwru: Record<string, { timeDomain: Record<string, number>; spectrum: Record<string, number & number[]> }>;
  ims: Record<string, Array<Record<string, number>>>;
  synthetic: { sampleRate: number; x: number[]; timeDomain: Record<string, number>; spectrum: Record<string, number & number[]> };
}
const fx = JSON.parse(readFileSync(new URL('./fixtures/features.json', import.meta.url), 'utf8')) as Fx;

function closeAll(actual: Record<string, unknown>, expected: Record<string, unknown>, keys: string[], tol: number, what: string) {
  for (const k of keys) {
    const a = actual[k];
    const e = expected[k];
    if (Array.isArray(e)) {
      (e as number[]).forEach((v, i) => assert.ok(relErr((a as number[])[i]!, v) < tol, `${what} ${k}[${i}]: ${(a as number[])[i]} vs scipy ${v}`));
    } else {
      assert.ok(relErr(a as number, e as number) < tol, `${what} ${k}: ${a} vs scipy ${e}`);
    }
  }
}

const SPEC_KEYS = ['totalEnergy', 'centroid', 'peakFrequency', 'bandEnergies', 'energy1x', 'energy2x', 'energy3x'];

test('time-domain features match numpy/scipy on a synthetic impulsive signal', () => {
  const x = Float64Array.from(fx.synthetic.x);
  const f = timeDomainFeatures(x);
  closeAll(f as unknown as Record<string, unknown>, fx.synthetic.timeDomain, [...TIME_DOMAIN_FEATURES], 1e-9, 'synthetic');
  // Impulses make it heavy-tailed: kurtosis well above a sine's 1.5 and a Gaussian's 3.
  assert.ok(f.kurtosis > 3, `kurtosis ${f.kurtosis}`);
});

test('Welch spectrum matches scipy.signal.welch and finds the running speed', () => {
  const x = Float64Array.from(fx.synthetic.x);
  const psd = welchPsd(x, { sampleRate: 20000, segment: 2048 });
  fx.synthetic.spectrum.psdHead.forEach((v: number, i: number) => assert.ok(relErr(psd.psd[i]!, v) < 1e-9, `psd[${i}] ${psd.psd[i]} vs ${v}`));
  const s = spectrumFeatures(x, { sampleRate: 20000, segment: 2048, runningSpeedHz: 29.95, bands: [[0, 100], [100, 1000], [1000, 10000]] });
  closeAll(s as unknown as Record<string, unknown>, fx.synthetic.spectrum, SPEC_KEYS, 1e-9, 'synthetic spectrum');
  // The 0.3 amplitude sine at 1x carries most energy; 1x > 2x.
  assert.ok(s.energy1x > s.energy2x && s.energy2x > 0);
  // Parseval: total spectral energy is close to the variance (Welch + Hann, not exact).
  assert.ok(relErr(s.totalEnergy, fx.synthetic.spectrum.var as number) < 0.15, `${s.totalEnergy} vs var ${fx.synthetic.spectrum.var}`);
});

test('CWRU: features match scipy on the real recordings and the fault classes separate', { skip: noRealData() }, () => {
  const dir = realDataDir()!;
  const kurt: Record<string, number> = {};
  for (const [name, ref] of Object.entries(fx.cwru)) {
    const x = readCwru(dir, name, 12000);
    const f = timeDomainFeatures(x);
    closeAll(f as unknown as Record<string, unknown>, ref.timeDomain, [...TIME_DOMAIN_FEATURES], 1e-9, name);
    const s = spectrumFeatures(x, { sampleRate: 12000, runningSpeedHz: 1797 / 60, bands: [[0, 500], [500, 2000], [2000, 6000]] });
    closeAll(s as unknown as Record<string, unknown>, ref.spectrum, SPEC_KEYS, 1e-9, `${name} spectrum`);
    kurt[name] = f.kurtosis;
  }
  // Healthy bearing is near-Gaussian; the inner-race fault is impulsive.
  assert.ok(kurt['1797_Normal']! < 3.5, `normal kurtosis ${kurt['1797_Normal']}`);
  assert.ok(kurt['1797_IR_7_DE12']! > 4, `inner race kurtosis ${kurt['1797_IR_7_DE12']}`);
});

test('IMS: raw rms/peak/mean_abs/kurtosis match the reference table and scipy', { skip: noRealData() }, () => {
  const dir = realDataDir()!;
  const csv = readFileSync(join(dir, 'nasa-ims-bearing', 'ims_2nd_test_features_per_file.csv'), 'utf8').trim().split('\n');
  const header = csv[0]!.split(',');
  const table = new Map(csv.slice(1).map((l) => [l.split(',')[0]!, l.split(',')]));
  const files = readdirSync(join(dir, 'nasa-ims-bearing', 'raw_2nd_test')).sort();
  assert.ok(files.length >= 3);
  for (const file of files) {
    const chans = readIms(dir, file);
    const row = table.get(file);
    assert.ok(row, `${file} in reference table`);
    chans.forEach((x, b) => {
      const f = timeDomainFeatures(x, { removeDc: false });
      const ref = (k: string) => Number(row[header.indexOf(`b${b + 1}_${k}`)]);
      // The table is rounded to 6 significant-ish decimals (peak to 3, kurtosis to 4).
      assert.ok(Math.abs(f.meanAbs - ref('mean_abs')) < 1e-6, `${file} b${b + 1} mean_abs ${f.meanAbs} vs ${ref('mean_abs')}`);
      assert.ok(Math.abs(f.rms - ref('rms')) < 1e-6, `${file} b${b + 1} rms ${f.rms} vs ${ref('rms')}`);
      assert.ok(Math.abs(f.peak - ref('peak')) < 1e-4, `${file} b${b + 1} peak`);
      assert.ok(Math.abs(f.kurtosis - ref('kurtosis')) < 1e-4, `${file} b${b + 1} kurtosis ${f.kurtosis} vs ${ref('kurtosis')}`);
      closeAll(f as unknown as Record<string, unknown>, fx.ims[file]![b]!, [...TIME_DOMAIN_FEATURES], 1e-9, `${file} b${b + 1}`);
    });
  }
});

test('IMS bearing 1: RMS and kurtosis rise before the outer-race failure (reference trend)', { skip: noRealData() }, () => {
  const csv = readFileSync(join(realDataDir()!, 'nasa-ims-bearing', 'ims_2nd_test_features_per_file.csv'), 'utf8').trim().split('\n');
  const h = csv[0]!.split(',');
  const rows = csv.slice(1).map((l) => l.split(',').map(Number));
  const rms = rows.map((r) => r[h.indexOf('b1_rms')]!);
  const kurt = rows.map((r) => r[h.indexOf('b1_kurtosis')]!);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  // First 200 snapshots (healthy) vs the last day before the end (snapshots ~830-980).
  assert.ok(mean(rms.slice(830, 980)) > 2 * mean(rms.slice(0, 200)));
  assert.ok(Math.max(...kurt.slice(600, 980)) > 2 * mean(kurt.slice(0, 200)));
});

test('vibrationWindows: per-window features equal the single-window function; errors are clear', () => {
  const x = Float64Array.from(fx.synthetic.x);
  const w = vibrationWindows(x, { windowSize: 2000, hop: 1000 });
  assert.equal(w.rms.length, 7);
  const third = timeDomainFeatures(x.subarray(2000, 4000));
  assert.equal(w.rms[2], third.rms);
  assert.equal(w.kurtosis[2], third.kurtosis);
  assert.throws(() => timeDomainFeatures(new Float64Array(0)), /empty or out-of-range/);
  assert.throws(() => timeDomainFeatures(Float64Array.of(1, NaN, 2)), /NaN/);
  assert.throws(() => welchPsd(x, { sampleRate: 20000, segment: 1000 }), /power of two/);
  assert.throws(() => welchPsd(x.subarray(0, 100), { sampleRate: 20000, segment: 1024 }), /shorter than one segment/);
});
