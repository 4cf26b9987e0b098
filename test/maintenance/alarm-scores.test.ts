import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePlant } from '../../datasets/index.ts';
import { addMaintenanceRecords, writeEvents, writeReadings, type EventRow, type MaintenanceRecord } from '../../lib/index.ts';
import { alarmsReportFromStore, writeReport, type AlarmScoresResult } from '../../reports/index.ts';
import { checkPage, noChromium } from '../reports/browser.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LEAD = 48 * HOUR;

interface Alarm { rule: string; asset: string; signal: string; from: number; to: number | null }

/** One row per ISA-18.2 state change, as the alarms helper writes them. */
function alarmRows(site: string, alarms: Alarm[]): EventRow[] {
  return alarms.flatMap((a, i) => {
    const msg = (state: string, value: number) => JSON.stringify({ state, value, limit: 80, rule: a.rule });
    const rows: EventRow[] = [
      { ts: a.from, site, source: a.rule, kind: 'alarm', asset: a.asset, signal: a.signal, from: a.from, severity: 'warning', message: msg('unacknowledged active', 85), id: `${a.rule}-${i}-a` },
      { ts: a.from + 600_000, site, source: a.rule, kind: 'alarm', asset: a.asset, signal: a.signal, from: a.from, severity: 'warning', message: msg('acknowledged active', 86), id: `${a.rule}-${i}-b` },
    ];
    if (a.to !== null) rows.push({ ts: a.to, site, source: a.rule, kind: 'alarm', asset: a.asset, signal: a.signal, from: a.from, to: a.to, severity: 'warning', message: msg('cleared unacknowledged', 70), id: `${a.rule}-${i}-c` });
    return rows;
  });
}

/** The definitions of the report, written out longhand over the same intervals. */
function direct(rule: string, alarms: Alarm[], failures: { asset: string; at: number }[], end: number, assetWeeks: number) {
  let trueAlarms = 0;
  let total = 0;
  for (const a of alarms) {
    if (a.rule !== rule) continue;
    total++;
    let hit = false;
    for (const f of failures) if (f.asset === a.asset && a.from < f.at && (a.to ?? end) > f.at - LEAD) hit = true;
    if (hit) trueAlarms++;
  }
  let detected = 0;
  let leadSum = 0;
  for (const f of failures) {
    let first = Infinity;
    for (const a of alarms) if (a.rule === rule && a.asset === f.asset && a.from < f.at && (a.to ?? end) > f.at - LEAD) first = Math.min(first, a.from);
    if (first < Infinity) {
      detected++;
      leadSum += f.at - Math.max(first, f.at - LEAD);
    }
  }
  return {
    alarms: total, trueAlarms, falseAlarms: total - trueAlarms, precision: total ? trueAlarms / total : null,
    detected, recall: failures.length ? detected / failures.length : null, meanLeadHours: detected ? leadSum / detected / HOUR : null,
    falseAlarmsPerAssetWeek: (total - trueAlarms) / assetWeeks,
  };
}

test('report alarms: scores on the synthetic plant equal a direct computation; timelines render in Chromium', async () => {
  const root = await mkdtemp(join(tmpdir(), 'mw-alarm-scores-'));
  try {
    const plant = generatePlant({ seed: 5, assets: 12, days: 21, every: '10m', faults: { failures: 2, stuck: 0, dropouts: 0, fanMounted: 0, waste: 0 } });
    for (const batch of plant) await writeReadings(root, batch);
    const { truth } = plant;
    const site = truth.options.sites[0]!;
    const failures = truth.failures.map((f) => ({ asset: f.asset, at: f.failure }));
    assert.equal(failures.length, 2, 'the plant plans two failures');
    const records: MaintenanceRecord[] = truth.failures.flatMap((f) => [
      { site, asset: f.asset, kind: 'failure' as const, from: f.failure, mode: 'bearing-outer-race', source: 'test' },
      { site, asset: f.asset, kind: 'repair' as const, from: f.failure, to: f.repairedAt, source: 'test' },
    ]);
    await addMaintenanceRecords(root, records);

    // A rule that rises 30 h before each failure (while degradation is measurable) and clears at it,
    // and a noisy rule: 1 h alarms every 2.5 days on three machine assets, regardless of health.
    const alarms: Alarm[] = truth.failures.map((f) => ({ rule: 'temp-high', asset: f.asset, signal: 'temperature', from: f.failure - 30 * HOUR, to: f.failure }));
    const machines = truth.assets.filter((a) => a.kind === 'bearing' || a.kind === 'motor').map((a) => a.asset).slice(0, 3);
    const from = truth.options.from;
    const to = truth.options.to;
    for (const asset of machines) for (let t = from + 7 * HOUR; t < to - 2 * HOUR; t += 2.5 * DAY) alarms.push({ rule: 'vib-noisy', asset, signal: 'vib_x_rms', from: t, to: t + HOUR });
    alarms.push({ rule: 'vib-noisy', asset: machines[0]!, signal: 'vib_x_rms', from: to - HOUR, to: null });
    await writeEvents(root, alarmRows(site, alarms));

    const report = await alarmsReportFromStore(root, { from, to, leadMs: LEAD, assets: truth.assets.map((a) => a.asset) });
    const m = report.metrics[0] as AlarmScoresResult;
    const assetWeeks = truth.assets.length * ((to - from) / (7 * DAY));
    assert.deepEqual(m.rules.map((r) => r.rule), ['temp-high', 'vib-noisy']);
    for (const r of m.rules) {
      const d = direct(r.rule, alarms, failures, to, assetWeeks);
      assert.equal(r.alarms, d.alarms, r.rule);
      assert.equal(r.trueAlarms, d.trueAlarms, r.rule);
      assert.equal(r.falseAlarms, d.falseAlarms, r.rule);
      assert.equal(r.precision, d.precision, r.rule);
      assert.equal(r.detected, d.detected, r.rule);
      assert.equal(r.recall, d.recall, r.rule);
      assert.ok(Math.abs((r.meanLeadHours ?? NaN) - (d.meanLeadHours ?? NaN)) < 1e-9 || (r.meanLeadHours === null && d.meanLeadHours === null), r.rule);
      assert.ok(Math.abs(r.falseAlarmsPerAssetWeek! - d.falseAlarmsPerAssetWeek) < 1e-12, r.rule);
    }
    const good = m.rules[0]!;
    assert.deepEqual([good.alarms, good.trueAlarms, good.precision, good.recall, good.meanLeadHours], [2, 2, 1, 1, 30]);
    const noisy = m.rules[1]!;
    assert.ok(noisy.falseAlarms >= 20 && noisy.precision! < 0.2, `noisy rule: ${JSON.stringify(noisy)}`);
    assert.equal(report.checks.find((c) => c.name === 'rule temp-high')?.status, 'pass');

    const failed = new Set(failures.map((f) => f.asset));
    const tl = m.timelines.find((t) => failed.has(t.asset))!;
    assert.equal(tl.failures.length, 1);
    assert.ok(tl.series[0]!.signal === 'temperature' && tl.series[0]!.points.length > 100, 'readings of the alarmed signal in the timeline');

    const out = join(root, 'report');
    const w = await writeReport(report, out);
    const csv = await readFile(w.csv, 'utf8');
    assert.match(csv, /temp-high,2,2,0,1,2,2,1,30,0/);
    const missing = noChromium();
    assert.equal(missing, false, missing || '');
    const page = await checkPage(w.html, join(out, 'shot.png'));
    assert.deepEqual(page.errors, []);
    assert.equal(page.externalRefs, 0);
    // Per asset: a readings chart (when it has an alarmed signal) and an alarm/failure bar chart.
    const withReadings = m.timelines.filter((t) => t.series.length).length;
    assert.equal(page.charts.length, m.timelines.length + withReadings);
    for (const c of page.charts) assert.ok(c && c.width > 300 && c.children > 5, JSON.stringify(c));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
