/**
 * The energy-performance report against a direct computation: a synthetic plant whose energy is
 * a known function of production and heating degree-days (balance point 15 °C) saves 5 % in the
 * reporting year; the savings, CUSUM and Guideline 14 uncertainty are recomputed here from the
 * formulas written out independently, a static-factor adjustment moves the baseline by a known
 * amount, and the real steel-plant data renders in headless Chromium.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { energyPerformanceReport, writeReport, type EnergyPerformanceResult, studentTCdf, studentTCritical } from '../../reports/index.ts';
import { renderHtml } from '../../reports/render/html.ts';
import { loadSteel, STEEL_UTC_OFFSET_MINUTES } from '../../datasets/steel.ts';
import { runCli } from '../helpers/io.ts';
import { noRealData, realDataDir } from '../helpers/data.ts';
import { mulberry32 } from '../../lib/algorithms/forest/rng.ts';
import { writeEvents } from '../../lib/store/index.ts';
import { checkPage, noChromium } from './browser.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FIX = JSON.parse(readFileSync(new URL('./fixtures/student-t.json', import.meta.url), 'utf8')) as { critical: Record<string, Record<string, number>>; cdf: [number, number, number, number][] };


const Y0 = Date.UTC(2021, 0, 1);
const Y1 = Date.UTC(2022, 0, 1);
const Y2 = Date.UTC(2023, 0, 1);

/** Hourly rows for 2021-2022: day energy = 1000 + 2.5 · production + 40 · HDD(15 °C) + noise, × 0.95 in 2022. */
function plant(): Record<string, number[]> {
  const rand = mulberry32(7);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const rows: Record<string, number[]> = { ts: [], energy: [], production: [], temperature: [] };
  for (let d = Y0; d < Y2; d += DAY) {
    const doy = (d - Y0) / DAY;
    const tMean = 11 - 9 * Math.cos((2 * Math.PI * doy) / 365) + 2.5 * gauss();
    const prod = 400 + 120 * rand();
    const e = (1000 + 2.5 * prod + 40 * Math.max(0, 15 - tMean) + 60 * gauss()) * (d >= Y1 ? 0.95 : 1);
    for (let h = 0; h < 24; h++) {
      rows.ts!.push(d + h * HOUR);
      rows.energy!.push(e / 24);
      rows.production!.push(prod / 24);
      // The diurnal swing sums to zero over a day, so the daily mean is tMean exactly.
      rows.temperature!.push(tMean + 4 * Math.sin((2 * Math.PI * h) / 24));
    }
  }
  return rows;
}

function split(rows: Record<string, number[]>, from: number, to: number): Record<string, number[]> {
  const keep = rows.ts!.map((t) => t >= from && t < to);
  return Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, v.filter((_, i) => keep[i])]));
}

function metric(r: { metrics: unknown[] }): EnergyPerformanceResult {
  return r.metrics[0] as EnergyPerformanceResult;
}

test('student t: CDF and two-sided critical values agree with scipy', () => {
  for (const [c, byDf] of Object.entries(FIX.critical)) {
    // scipy's stdtri is accurate to ~1e-8 relative; ours inverts the CDF to ~1e-14.
    for (const [df, t] of Object.entries(byDf)) assert.ok(Math.abs(studentTCritical(Number(c), Number(df)) - t) < 1e-7 * t, `t(${c}, ${df})`);
  }
  for (const [t, df, cdf] of FIX.cdf) assert.ok(Math.abs(studentTCdf(t, df) - cdf) < 1e-12, `cdf(${t}, ${df})`);
});

const rows = plant();
const baseRows = split(rows, Y0, Y1);
const repRows = split(rows, Y1, Y2);
const OPTIONS = { energy: 'energy', production: 'production', temperature: 'temperature', calendar: false } as const;

test('energy baseline: finds the 15 °C heating balance point and the drivers of a known plant', () => {
  const r = metric(energyPerformanceReport(repRows, baseRows, OPTIONS));
  assert.equal(r.baseline.used, 365);
  assert.equal(r.reporting.used, 365);
  assert.ok(Math.abs(r.model.balance.heating! - 15) <= 1, `heating balance point ${r.model.balance.heating}`);
  const coef = Object.fromEntries(r.model.terms.map((t) => [t.name, t.coefficient]));
  // The plant has no cooling load; CalTRACK's p < 0.1 over dozens of candidates can still admit a
  // spurious cooling term by chance, but it must stay small beside the heating one.
  if (r.model.balance.cooling !== undefined) assert.ok(coef.cdd! < 0.15 * coef.hdd!, `spurious cooling term ${coef.cdd}`);
  assert.ok(Math.abs(coef.production! - 2.5) < 0.3, `production ${coef.production}`);
  assert.ok(Math.abs(coef.hdd! - 40) < 4, `hdd ${coef.hdd}`);
  assert.ok(r.model.r2! > 0.9, `R2 ${r.model.r2}`);
  assert.equal(r.model.guideline14.meets, true, r.model.guideline14.statement);
  assert.match(r.model.guideline14.statement, /daily model is held to the hourly ones/);
  assert.ok(r.enpi.sec !== null && r.enpi.sec.improvementPct > 3 && r.enpi.sec.improvementPct < 7, `SEC ${JSON.stringify(r.enpi.sec)}`);
});

test('savings, CUSUM and Guideline 14 uncertainty equal the formulas computed directly', () => {
  const r = metric(energyPerformanceReport(repRows, baseRows, OPTIONS));
  const coef = Object.fromEntries(r.model.terms.map((t) => [t.name, t.coefficient]));
  const tb = r.model.balance.heating!;
  const tc = r.model.balance.cooling;
  const days = (part: Record<string, number[]>) => {
    const out: { e: number; p: number; t: number }[] = [];
    for (let i = 0; i < part.ts!.length; i += 24) {
      let e = 0, p = 0, t = 0;
      for (let h = 0; h < 24; h++) {
        e += part.energy![i + h]!;
        p += part.production![i + h]!;
        t += part.temperature![i + h]! / 24;
      }
      out.push({ e, p, t });
    }
    return out;
  };
  const predict = (d: { p: number; t: number }) => coef.intercept! + coef.production! * d.p + coef.hdd! * Math.max(0, tb - d.t) + (tc === undefined ? 0 : coef.cdd! * Math.max(0, d.t - tc));
  const base = days(baseRows);
  const rep = days(repRows);
  const adjusted = rep.reduce((s, d) => s + predict(d), 0);
  const actual = rep.reduce((s, d) => s + d.e, 0);
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
  assert.ok(rel(r.savings.adjustedBaseline, adjusted) < 1e-9);
  assert.ok(rel(r.savings.actual, actual) < 1e-12);
  assert.ok(rel(r.savings.savings, adjusted - actual) < 1e-9);
  assert.ok(Math.abs(r.savings.cusumEnd + r.savings.savings) < 1e-6, 'CUSUM of actual - baseline ends at minus the savings');
  assert.ok(r.savings.fractionPct! > 4 && r.savings.fractionPct! < 6, `the plant saved 5 %: ${r.savings.fractionPct}`);
  // Guideline 14 (Annex B): ΔE = t · 1.26 · CV · sqrt((n/n')(1 + 2/n)/m) · E_baseline,adjusted.
  const resid = base.map((d) => d.e - predict(d));
  const n = base.length, m = rep.length, p = r.model.p;
  const mean = base.reduce((s, d) => s + d.e, 0) / n;
  const cv = Math.sqrt(resid.reduce((s, x) => s + x * x, 0) / (n - p)) / mean;
  const rMean = resid.reduce((s, x) => s + x, 0) / n;
  let num = 0, den = 0;
  resid.forEach((x, i) => {
    den += (x - rMean) ** 2;
    if (i > 0) num += (x - rMean) * (resid[i - 1]! - rMean);
  });
  const rho = num / den;
  const nPrime = Math.min(n, (n * (1 - rho)) / (1 + rho));
  assert.ok(Math.abs(r.model.cvRmsePct! - 100 * cv) < 1e-9);
  for (const u of r.savings.uncertainty) {
    const t = FIX.critical[String(u.confidence)]![String(n - p)]!;
    const abs = t * 1.26 * cv * Math.sqrt(((n / nPrime) * (1 + 2 / n)) / m) * adjusted;
    assert.ok(rel(u.absolute, abs) < 1e-6, `ΔE at ${u.confidence}: ${u.absolute} vs ${abs}`);
    assert.ok(rel(u.fractionalPct!, (100 * abs) / (adjusted - actual)) < 1e-6);
  }
  assert.equal(r.savings.significant, r.savings.uncertainty[0]!.fractionalPct! < 50);
  // The monthly table adds up to the totals.
  const months = r.monthly.filter((x) => x.period === 'reporting');
  assert.equal(months.length, 12);
  assert.ok(rel(months.reduce((s, x) => s + x.savings, 0), r.savings.savings) < 1e-9);
  assert.ok(rel(months.at(-1)!.cumulativeSavings!, r.savings.savings) < 1e-9);
});

test('a static-factor adjustment changes the adjusted baseline by exactly its amount', () => {
  const plain = metric(energyPerformanceReport(repRows, baseRows, OPTIONS));
  const from = Date.UTC(2022, 6, 1);
  const adjusted = metric(energyPerformanceReport(repRows, baseRows, { ...OPTIONS, adjustments: [{ from: '2022-07-01', perDay: 500, description: 'new compressor' }, { from: from, to: '2022-08-01', factor: 1.1, description: 'furnace rebuilt' }] }));
  const julyBaseline = plain.periods.filter((p) => p.period === 'reporting' && p.start >= from && p.start < Date.UTC(2022, 7, 1)).reduce((s, p) => s + p.modelled!, 0);
  const perDayEffect = 500 * 184; // 1 July to 31 December
  const factorEffect = 0.1 * (julyBaseline + 500 * 31); // the factor applies after the per-day term, in listed order
  assert.ok(Math.abs(adjusted.adjustments[0]!.effect - perDayEffect) < 1e-6, `per-day effect ${adjusted.adjustments[0]!.effect}`);
  assert.ok(Math.abs(adjusted.adjustments[1]!.effect - factorEffect) < 1e-6, `factor effect ${adjusted.adjustments[1]!.effect}`);
  assert.ok(Math.abs(adjusted.savings.adjustedBaseline - plain.savings.adjustedBaseline - perDayEffect - factorEffect) < 1e-6);
  assert.ok(Math.abs(adjusted.savings.savings - plain.savings.savings - perDayEffect - factorEffect) < 1e-6);
});

test('steel plant (real data): says what drivers are missing, and the report renders in Chromium', { skip: noRealData() || noChromium() }, async () => {
  const t = loadSteel(realDataDir());
  const split = Date.UTC(2018, 9, 1) - STEEL_UTC_OFFSET_MINUTES * 60_000;
  const rep = t.filter(`d => d.ts > ${split}`);
  const base = t.filter(`d => d.ts <= ${split}`);
  // Load_Type is left out: in this file it tracks the consumption level (it is measured, not
  // planned; see test/algorithms/energy-steel.test.ts), so it would explain energy by itself.
  const report = energyPerformanceReport(rep, base, { energy: 'usage_kwh', utcOffsetMinutes: STEEL_UTC_OFFSET_MINUTES, timestampsMarkIntervalEnd: true });
  const r = metric(report);
  assert.equal(r.baseline.used, 273, 'Jan-Sep 2018, every day complete');
  assert.equal(r.reporting.used, 92);
  assert.equal(r.enpi.sec, null);
  assert.match(r.relevantVariables.find((v) => v.name === 'production volume')!.note, /not given/);
  assert.match(r.relevantVariables.find((v) => v.name.startsWith('weather'))!.note, /no temperature/);
  assert.ok(report.checks.some((c) => c.name === 'baseline period length' && c.status === 'warn'), 'nine months of baseline is flagged');
  // The daily model on the day type alone: honest, and far from Guideline 14 (about 45 %).
  assert.ok(r.model.cvRmsePct! > 35 && r.model.cvRmsePct! < 55, `CV(RMSE) ${r.model.cvRmsePct}`);
  assert.equal(r.model.guideline14.meets, false);
  assert.deepEqual(r.model.terms.map((x) => x.name), ['intercept', 'saturday', 'sunday']);
  const dir = await mkdtemp(join(tmpdir(), 'mw-enpi-'));
  try {
    const w = await writeReport(report, dir);
    const page = await checkPage(w.html, join(dir, 'shot.png'));
    assert.deepEqual(page.errors, []);
    assert.equal(page.externalRefs, 0);
    assert.equal(page.charts.length, 3);
    for (const c of page.charts) assert.ok(c && c.width > 100 && c.height > 50 && c.children > 5, JSON.stringify(c));
    assert.equal(renderHtml(JSON.parse(await readFile(w.json, 'utf8'))), await readFile(w.html, 'utf8'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('millwright report energy-performance: one CSV split into periods, adjustments from YAML, clear errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-enpi-cli-'));
  try {
    const lines = ['ts,energy,production,temperature'];
    for (let i = 0; i < rows.ts!.length; i++) lines.push(`${new Date(rows.ts![i]!).toISOString().slice(0, 16)},${rows.energy![i]},${rows.production![i]},${rows.temperature![i]}`);
    await writeFile(join(dir, 'plant.csv'), `${lines.join('\n')}\n`);
    await writeFile(join(dir, 'adj.yaml'), '- { from: 2022-07-01, perDay: 500, description: new compressor }\n');
    const base = ['report', 'energy-performance', 'plant.csv', '--baseline-period', '2021-01-01..2022-01-01', '--reporting-period', '2022-01-01..2023-01-01', '--production', 'production', '--temperature', 'temperature', '--no-calendar'];
    const ok = await runCli([...base, '--adjustments', 'adj.yaml', '--out', 'out'], dir);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /Energy performance \(ISO 50006\)/);
    assert.ok(existsSync(join(dir, 'out', 'report.html')));
    const json = JSON.parse(await readFile(join(dir, 'out', 'report.json'), 'utf8')) as { metrics: EnergyPerformanceResult[] };
    const direct = metric(energyPerformanceReport(repRows, baseRows, { ...OPTIONS, adjustments: [{ from: '2022-07-01', perDay: 500, description: 'x' }] }));
    assert.ok(Math.abs(json.metrics[0]!.savings.savings - direct.savings.savings) < 1e-6 * Math.abs(direct.savings.savings), 'the CLI gives the library result');
    // The same adjustment recorded as a static-factor event in the store's events table.
    await writeEvents(join(dir, 'store'), [{ ts: Date.UTC(2022, 6, 1), from: Date.UTC(2022, 6, 1), site: 'plant', source: 'energy-team', kind: 'static-factor', severity: 'info', message: JSON.stringify({ perDay: 500, description: 'new compressor' }), id: 'sf-1' }]);
    const fromEvents = await runCli([...base, '--adjustments', 'events', '--store', 'store', '--out', 'out-events'], dir);
    assert.equal(fromEvents.code, 0, fromEvents.err);
    const evJson = JSON.parse(await readFile(join(dir, 'out-events', 'report.json'), 'utf8')) as { metrics: EnergyPerformanceResult[] };
    assert.ok(Math.abs(evJson.metrics[0]!.savings.savings - direct.savings.savings) < 1e-6 * Math.abs(direct.savings.savings), 'the events table gives the same adjustment');
    assert.equal(evJson.metrics[0]!.adjustments[0]!.description, 'new compressor');
    await writeFile(join(dir, 'bad.yaml'), '- { from: 2022-07-01, perDay: lots, description: x }\n');
    const bad = await runCli([...base, '--adjustments', 'bad.yaml'], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /bad\.yaml: \[0\]\.perDay: .*expected a list of/);
    const usage = await runCli([...base.slice(0, 4), '2022-01-01..2021-01-01', ...base.slice(5)], dir);
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--baseline-period: "2022-01-01..2021-01-01" is not FROM..TO with FROM before TO/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
