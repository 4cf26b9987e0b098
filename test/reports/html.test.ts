import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot, realDataDir } from '../helpers/data.ts';
import { STEEL_UTC_OFFSET_MINUTES } from '../../datasets/steel.ts';
import {
  qualityReport, driftReport, modelReport, energyReport, writeReport, computeBaseline, runningState, renderHtml, renderCsv, type ReportResult,
} from '../../reports/index.ts';
import { checkPage, noChromium } from './browser.ts';
import { assertSnapshot } from '../helpers/snapshot.ts';
import { steelEnergyData, STEEL_DRIVERS } from './steel.ts';

const out = join(repoRoot, 'test-output', 'reports');
const NOW = new Date(Date.UTC(2024, 2, 1, 12));

function rng(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  return { u, normal: () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()) };
}

function readings(seed: number, faulty: boolean) {
  const r = rng(seed);
  const rows = { ts: [] as number[], asset: [] as string[], signal: [] as string[], value: [] as number[] };
  for (const signal of ['temperature', 'pressure', 'current']) {
    for (let i = 0; i < 1500; i++) {
      if (faulty && signal === 'pressure' && i >= 500 && i < 540) continue;
      let v = (signal === 'temperature' ? 60 : signal === 'pressure' ? 4 : 12) + r.normal();
      if (faulty && signal === 'temperature' && i >= 200 && i < 260) v = 61;
      if (faulty && signal === 'current' && i >= 1000) v += 9;
      rows.ts.push(Date.UTC(2024, 1, 1) + i * 60_000);
      rows.asset.push('line-1');
      rows.signal.push(signal);
      rows.value.push(v);
    }
  }
  return rows;
}

function table(seed: number, n: number, runningShare: number, shift = 0) {
  const r = rng(seed);
  const power: number[] = [];
  const temp: number[] = [];
  const mode: string[] = [];
  for (let i = 0; i < n; i++) {
    const running = r.u() < runningShare;
    power.push(running ? 120 + 10 * r.normal() : 4 + r.normal());
    temp.push((running ? 70 : 30) + 3 * r.normal() + shift);
    mode.push(running ? (r.u() < 0.7 ? 'auto' : 'manual') : 'off');
  }
  return { power, temp, mode };
}

function reports(): Record<string, ReportResult> {
  const ref = table(1, 3000, 0.6);
  const cur = table(2, 3000, 0.4, 5);
  const baseline = computeBaseline(ref);
  const r = rng(3);
  const actual = Array.from({ length: 800 }, () => 50 + 10 * r.normal());
  const labels = Array.from({ length: 400 }, (_, i) => (i % 3 === 0 ? 'fault' : 'ok'));
  const all: Record<string, ReportResult> = {
    quality: qualityReport(readings(4, true), readings(5, false), { now: NOW, title: 'Line 1 data quality' }),
    'quality-baseline': qualityReport({ ...cur, mode: cur.mode.map((m, i) => (i % 50 === 0 ? 'service' : m)) }, undefined, { baseline, now: NOW }),
    drift: driftReport(cur, ref, { state: runningState('power', 50), now: NOW }),
    'model-regression': modelReport({ target: actual, prediction: actual.map((a) => a + 3 * r.normal()) }, { task: 'regression', trainingMetrics: { mae: 2, rmse: 2.5, r2: 0.95 }, now: NOW }),
    'model-classification': modelReport(
      { target: labels, prediction: labels.map((l, i) => (i % 17 === 0 ? (l === 'ok' ? 'fault' : 'ok') : l)), score: labels.map((l, i) => (l === 'fault' ? 0.8 : 0.2) + (i % 7) / 20) },
      { task: 'classification', positiveLabel: 'fault', score: 'score', trainingMetrics: { accuracy: 0.97, f1: 0.95 }, now: NOW },
    ),
  };
  const dir = realDataDir();
  if (dir) {
    const { current, reference } = steelEnergyData(dir);
    all.energy = energyReport(current, reference, { actual: 'usage_kwh', drivers: STEEL_DRIVERS, utcOffsetMinutes: STEEL_UTC_OFFSET_MINUTES, timestampsMarkIntervalEnd: true, pricePerKwh: 0.1, co2KgPerKwh: 0.45, now: NOW });
  } else {
    const ts = Array.from({ length: 24 * 14 * 4 }, (_, i) => Date.UTC(2024, 0, 1) + i * 900_000);
    const hour = (t: number) => new Date(t).getUTCHours();
    all.energy = energyReport({ ts, actual: ts.map((t) => (hour(t) >= 8 && hour(t) < 18 ? 30 : 5) + r.u()), expected: ts.map((t) => (hour(t) >= 8 && hour(t) < 18 ? 25 : 5)), best: ts.map(() => 5) }, undefined, { now: NOW });
  }
  return all;
}

test('every report renders to self-contained HTML that opens in headless Chromium without errors, every chart drawn', { skip: noChromium(), timeout: 240_000 }, async () => {
  await mkdir(out, { recursive: true });
  for (const [name, report] of Object.entries(reports())) {
    const w = await writeReport(report, join(out, name));
    const html = await readFile(w.html, 'utf8');
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)|@import|url\((?!#)/i, `${name}: no scripts or external resources`);
    const expectedCharts = (html.match(/class="chart"/g) ?? []).length;
    assert.ok(expectedCharts >= 1, `${name}: has charts`);
    const shot = join(out, `${name}.png`);
    const page = await checkPage(w.html, shot);
    assert.deepEqual(page.errors, [], `${name}: console errors`);
    assert.equal(page.externalRefs, 0);
    assert.equal(page.charts.length, expectedCharts);
    for (const [i, c] of page.charts.entries()) {
      assert.ok(c && c.width > 100 && c.height > 50 && c.children > 5, `${name}: chart ${i} is drawn (${JSON.stringify(c)})`);
    }
    assert.ok(existsSync(shot), `${name}: screenshot written`);
    // JSON round trip: the HTML is a pure function of the JSON.
    const json = JSON.parse(await readFile(w.json, 'utf8')) as ReportResult;
    assert.equal(renderHtml(json), html);
    assert.equal(renderCsv(json), await readFile(w.csv, 'utf8'));
  }
});

test('HTML snapshot of a small drift report is stable', async () => {
  const ref = table(11, 200, 0.6);
  const cur = table(12, 150, 0.6, 4);
  const html = renderHtml(driftReport(cur, ref, { now: NOW, source: 'snapshot current', referenceSource: 'snapshot reference' }));
  const file = join(repoRoot, 'test', 'reports', 'snapshots', 'drift-small.html');
  assertSnapshot(file, html);
});

test('CSV of the energy report has one row per hour; cells with commas or quotes are quoted', () => {
  const ts = Array.from({ length: 8 }, (_, i) => Date.UTC(2024, 0, 1) + i * 1_800_000);
  const report = energyReport({ ts, actual: [10, 10, 40, 40, 10, 10, 10, 10], expected: [10, 10, 12, 12, 10, 10, 10, 10], best: [8, 8, 8, 8, 8, 8, 8, 8] }, undefined, { now: NOW });
  const lines = renderCsv(report).trimEnd().split('\n');
  assert.equal(lines.length, 1 + 4);
  assert.match(lines[0]!, /^hour,slot,actual_kwh,expected_kwh,best_kwh,deviation_kwh/);
  assert.match(lines[2]!, /^2024-01-01T01:00:00.000Z,Mon 01:00,80,24,16,56,.*,true,56,Usage was 233% \(56\.0 kWh\) above expected for Mon 01:00\.$/);
  const q = renderCsv(modelReport({ target: [1, 2, 3], prediction: [1, 2, 4] }, { task: 'regression', now: NOW, trainingMetrics: { mae: 1 } }));
  assert.match(q, /^metric,current,training,degradation %,status\nmae,0\.333/);
  const withComma = renderCsv(qualityReport({ 'a,"b"': [1, 2, 3] }, undefined, { now: NOW, faults: false }));
  assert.match(withComma, /\n"a,""b""",numeric,3,/);
});
