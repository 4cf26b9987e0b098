import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePlant } from '../../datasets/index.ts';
import { addMaintenanceRecords, writeEvents, writeReadings, type EventRow, type MaintenanceRecord } from '../../lib/index.ts';
import { assetRows, loadAssetModel } from '../../lib/gateway/index.ts';
import { writeAssets } from '../../lib/store/index.ts';
import { main } from '../../cli/main.ts';
import { captureIO } from '../helpers/io.ts';
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

test('report alarms --group-by area|line|asset: each group scored on its own assets, from an asset-model file or the store\'s assets table', async () => {
  const root = await mkdtemp(join(tmpdir(), 'mw-alarm-groups-'));
  try {
    // Two areas, three lines (two named line1), five assets; alarms and failures on four of them.
    const model = join(root, 'assets.yaml');
    await writeFile(model, `site: plant-a
areas:
  - name: pressing
    lines:
      - { name: line1, assets: [ { name: press1 }, { name: press2 } ] }
      - { name: line2, assets: [ { name: press3 } ] }
  - name: ovens
    lines:
      - { name: line1, assets: [ { name: oven1 }, { name: oven2 } ] }
`);
    const from = Date.UTC(2024, 0, 1);
    const to = from + 14 * DAY;
    const failures = [{ asset: 'press1', at: from + 3 * DAY }, { asset: 'oven1', at: from + 9 * DAY }, { asset: 'press3', at: from + 11 * DAY }];
    const alarms: Alarm[] = [
      { rule: 'hot', asset: 'press1', signal: 'temperature', from: failures[0]!.at - 10 * HOUR, to: failures[0]!.at }, // true
      { rule: 'hot', asset: 'press2', signal: 'temperature', from: from + 5 * DAY, to: from + 5 * DAY + HOUR }, // false
      { rule: 'hot', asset: 'oven1', signal: 'temperature', from: failures[1]!.at - 30 * HOUR, to: null }, // true, still active
      { rule: 'hot', asset: 'oven2', signal: 'temperature', from: from + DAY, to: from + DAY + HOUR }, // false
      { rule: 'vib', asset: 'press1', signal: 'vib', from: from + 2 * HOUR, to: from + 3 * HOUR }, // false
    ];
    await writeEvents(root, alarmRows('plant-a', alarms));
    await addMaintenanceRecords(root, failures.map((f) => ({ site: 'plant-a', asset: f.asset, kind: 'failure' as const, from: f.at, source: 'test' })));
    const watched = ['press1', 'press2', 'press3', 'oven1', 'oven2'];
    const weeks = (to - from) / (7 * DAY);
    const run = async (args: string[]) => {
      const io = captureIO();
      const out = join(root, `out-${args.join('-').replace(/[^a-z0-9-]/gi, '')}`);
      const code = await main(['report', 'alarms', '--store', root, '--from', new Date(from).toISOString(), '--to', new Date(to).toISOString(), '--lead', '48h', '--assets', watched.join(','), '--out', out, ...args], io);
      assert.equal(code, 0, io.stderr);
      const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as { metrics: AlarmScoresResult[] };
      return { m: report.metrics[0]!, csv: await readFile(join(out, 'report.csv'), 'utf8') };
    };
    // Group membership written out by hand; each row must equal the direct computation on the group's subset.
    const expect = (m: AlarmScoresResult, members: Record<string, string[]>) => {
      const rows = m.groups!.rows;
      assert.deepEqual([...new Set(rows.map((r) => r.group))], Object.keys(members).sort());
      for (const r of rows) {
        const mine = new Set(members[r.group]);
        const d = direct(r.rule, alarms.filter((a) => mine.has(a.asset)), failures.filter((f) => mine.has(f.asset)), to, mine.size * weeks);
        assert.equal(r.assets, mine.size, r.group);
        assert.deepEqual(
          [r.alarms, r.trueAlarms, r.falseAlarms, r.precision, r.detected, r.recall, r.failures],
          [d.alarms, d.trueAlarms, d.falseAlarms, d.precision, d.detected, d.recall, mine.size ? failures.filter((f) => mine.has(f.asset)).length : 0],
          `${r.group} ${r.rule}`,
        );
        assert.ok(Math.abs((r.meanLeadHours ?? -1) - (d.meanLeadHours ?? -1)) < 1e-9, `${r.group} ${r.rule} lead`);
        assert.ok(Math.abs(r.falseAlarmsPerAssetWeek! - d.falseAlarmsPerAssetWeek) < 1e-12, `${r.group} ${r.rule} false/asset-week`);
      }
    };
    const byLine = await run(['--group-by', 'line', '--asset-model', model]);
    assert.equal(byLine.m.groups!.level, 'line');
    expect(byLine.m, { 'ovens/line1': ['oven1', 'oven2'], 'pressing/line1': ['press1', 'press2'], 'pressing/line2': ['press3'] });
    // pressing/line2 has a failure but no alarm of either rule: both rules get a row (recall 0).
    assert.deepEqual(byLine.m.groups!.rows.filter((r) => r.group === 'pressing/line2').map((r) => [r.rule, r.recall]), [['hot', 0], ['vib', 0]]);
    assert.match(byLine.csv, /^line,assets,rule,alarms,/);
    assert.match(byLine.csv, /\n\(all\),5,hot,4,2,2,0\.5,3,2,/);
    assert.match(byLine.csv, /\novens\/line1,2,hot,2,1,1,0\.5,1,1,1,30,/);

    // The store's assets table (as the gateway writes it) instead of the file.
    await writeAssets(root, 'plant-a', assetRows(await loadAssetModel(model), 'plant-a'));
    const byArea = await run(['--group-by', 'area']);
    expect(byArea.m, { ovens: ['oven1', 'oven2'], pressing: ['press1', 'press2', 'press3'] });
    const byAsset = await run(['--group-by', 'asset']);
    expect(byAsset.m, Object.fromEntries(watched.map((a) => [a, [a]])));
    // Totals are the ungrouped report's.
    const plain = await run([]);
    assert.equal(plain.m.groups, undefined);
    assert.deepEqual(byArea.m.rules, plain.m.rules);

    const io = captureIO();
    assert.equal(await main(['report', 'alarms', '--store', root, '--from', '2024-01-01', '--to', '2024-01-15', '--group-by', 'floor'], io), 2);
    assert.match(io.stderr, /--group-by must be one of site, area, line, asset, got "floor"/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
