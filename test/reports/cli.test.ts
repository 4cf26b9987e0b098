import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.ts';
import { captureIO } from '../helpers/io.ts';
import type { BaselineStatistics, BaselineConstraints, ReportResult, EnergyDeviationResult } from '../../reports/index.ts';

function csv(rows: number, seed: number, shift: number): string {
  let s = seed;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const lines = ['ts,power,temp,mode'];
  for (let i = 0; i < rows; i++) {
    const running = u() < 0.6;
    lines.push(`${Date.UTC(2024, 0, 1) + i * 900_000},${(running ? 120 : 4) + 5 * u()},${(running ? 70 : 30) + 3 * u() + shift},${running ? 'auto' : 'off'}`);
  }
  return lines.join('\n') + '\n';
}

test('CLI: baseline, then quality, drift, model and energy reports written with paths printed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-report-cli-'));
  try {
    await writeFile(join(dir, 'train.csv'), csv(2000, 1, 0));
    await writeFile(join(dir, 'week.csv'), csv(700, 2, 6));
    let io = captureIO();
    assert.equal(await main(['baseline', join(dir, 'train.csv'), '--out', join(dir, 'baseline'), '--exclude', 'ts'], io), 0, io.stderr);
    const stats = JSON.parse(await readFile(join(dir, 'baseline', 'statistics.json'), 'utf8')) as BaselineStatistics;
    const cons = JSON.parse(await readFile(join(dir, 'baseline', 'constraints.json'), 'utf8')) as BaselineConstraints;
    assert.deepEqual(stats.features.map((f) => f.name), ['power', 'temp', 'mode']);
    assert.deepEqual(cons.features.find((f) => f.name === 'mode')!.string_constraints!.domains, ['auto', 'off']);

    io = captureIO();
    assert.equal(await main(['report', 'quality', join(dir, 'week.csv'), '--baseline', join(dir, 'baseline'), '--out', join(dir, 'q')], io), 0, io.stderr);
    assert.match(io.stdout, /Data quality: WARN/);
    assert.match(io.stdout, /temp: baseline_drift_check/);
    assert.match(io.stdout, /open file:\/\/.*q\/report\.html/);
    for (const f of ['report.html', 'report.json', 'report.csv']) assert.ok(existsSync(join(dir, 'q', f)), f);

    io = captureIO();
    assert.equal(await main(['report', 'drift', join(dir, 'week.csv'), '--reference', join(dir, 'train.csv'), '--state', 'mode', '--out', join(dir, 'd')], io), 0, io.stderr);
    const drift = JSON.parse(await readFile(join(dir, 'd', 'report.json'), 'utf8')) as ReportResult;
    assert.equal(drift.kind, 'drift');
    assert.match(io.stdout, /drifted \(50%; dataset drift at 50%\): temp \(ks /, "within a state of ~400 rows KS is the default test");
    assert.doesNotMatch(io.stdout, /power \(/);

    const preds = ['id,prediction', ...Array.from({ length: 50 }, (_, i) => `${i},${i * 2 + (i % 3)}`)].join('\n');
    const truth = ['id,target', ...Array.from({ length: 50 }, (_, i) => `${i},${i * 2}`)].join('\n');
    await writeFile(join(dir, 'preds.csv'), preds);
    await writeFile(join(dir, 'truth.csv'), truth);
    io = captureIO();
    assert.equal(await main(['report', 'model', join(dir, 'preds.csv'), '--truth', join(dir, 'truth.csv'), '--on', 'id', '--out', join(dir, 'm')], io), 0, io.stderr);
    assert.match(await readFile(join(dir, 'm', 'report.csv'), 'utf8'), /^metric,current/);

    const e = ['ts,kwh,expected,best', ...Array.from({ length: 96 }, (_, i) => `${Date.UTC(2024, 0, 1) + i * 900_000},${i % 96 >= 40 && i % 96 < 72 ? 30 : 5},${i % 96 >= 40 && i % 96 < 72 ? 28 : 5},5`)].join('\n');
    await writeFile(join(dir, 'energy.csv'), e);
    io = captureIO();
    assert.equal(await main(['report', 'energy', join(dir, 'energy.csv'), '--actual', 'kwh', '--price', '0.2', '--out', join(dir, 'e')], io), 0, io.stderr);
    const energy = JSON.parse(await readFile(join(dir, 'e', 'report.json'), 'utf8')) as ReportResult;
    const r = energy.metrics[0] as EnergyDeviationResult;
    assert.equal(r.totals.flaggedHours, 8, 'the 8 hours at 4x best-achievable');
    assert.ok(Math.abs(r.totals.cost! - 0.2 * r.totals.flaggedExcessKwh) < 1e-9);

    io = captureIO();
    assert.equal(await main(['report', 'drift', join(dir, 'week.csv'), '--reference', join(dir, 'train.csv'), '--out', join(dir, 'd2'), '--fail-on', 'warn'], io), 3, 'a warning report fails the check (exit 3, not a crash) with --fail-on warn');
    assert.match(io.stderr, /status warn \(--fail-on warn\)/);
    io = captureIO();
    assert.equal(await main(['report', 'drift', join(dir, 'week.csv')], io), 2, 'no reference and no model is a usage error');
    assert.match(io.stderr, /--reference/);
    io = captureIO();
    assert.equal(await main(['report', 'nonsense', 'x'], io), 2);
    io = captureIO();
    assert.equal(await main(['report', 'quality', join(dir, 'missing.csv')], io), 1);
    assert.match(io.stderr, /not found/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
