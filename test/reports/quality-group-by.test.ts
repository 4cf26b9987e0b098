import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.ts';
import { captureIO } from '../helpers/io.ts';
import type { SensorFaultsResult } from '../../reports/index.ts';

test('report quality --group-by area|line: sensor-fault counts per group of a small asset model; unknown assets and bad levels', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-quality-groups-'));
  try {
    await writeFile(join(dir, 'assets.yaml'), `areas:
  - name: pressing
    lines:
      - { name: line1, assets: [ { name: press1 }, { name: press2 } ] }
      - { name: line2, assets: [ { name: press3 } ] }
  - name: ovens
    lines:
      - { name: line1, assets: [ { name: oven1 } ] }
`);
    // 200 readings per (asset, signal) a minute apart; press1/temperature stuck at 55 for 60
    // readings; oven1/temperature misses 30 minutes; kiln9 is not in the model.
    const t0 = Date.UTC(2024, 0, 1);
    const lines = ['ts,asset,signal,value'];
    for (const asset of ['press1', 'press2', 'press3', 'oven1', 'kiln9']) {
      for (const signal of ['temperature', 'current']) {
        for (let i = 0; i < 200; i++) {
          if (asset === 'oven1' && signal === 'temperature' && i >= 100 && i < 130) continue;
          const v = asset === 'press1' && signal === 'temperature' && i >= 50 && i < 110 ? 55 : 50 + Math.sin(i / 7) * 5 + (i % 3) * 0.1;
          lines.push(`${new Date(t0 + i * 60_000).toISOString()},${asset},${signal},${v}`);
        }
      }
    }
    await writeFile(join(dir, 'readings.csv'), lines.join('\n'));
    const run = async (...args: string[]) => {
      const io = captureIO();
      const out = join(dir, `out-${args.join('-').replace(/[^a-z0-9-]/gi, '')}`);
      const code = await main(['report', 'quality', join(dir, 'readings.csv'), '--out', out, ...args], { ...io, cwd: dir });
      return { code, io, faults: code === 0 ? ((JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as { metrics: { type: string }[] }).metrics.find((m) => m.type === 'sensor-faults') as SensorFaultsResult) : undefined };
    };
    const byArea = (await run('--group-by', 'area', '--asset-model', 'assets.yaml')).faults!;
    assert.equal(byArea.groups!.level, 'area');
    const rows = Object.fromEntries(byArea.groups!.rows.map((r) => [r.group, r]));
    assert.deepEqual(Object.keys(rows), ['(not in the asset model)', 'ovens', 'pressing']);
    assert.deepEqual([rows.pressing!.series, rows.ovens!.series, rows['(not in the asset model)']!.series], [6, 2, 2]);
    assert.deepEqual([rows.pressing!.readings, rows.ovens!.readings], [1200, 370]);
    assert.deepEqual([rows.pressing!.stuck, rows.pressing!.gap, rows.ovens!.stuck, rows.ovens!.gap], [1, 0, 0, 1]);
    // The groups add up to the per-series table.
    for (const k of ['readings', 'stuck', 'gap', 'out_of_range', 'duplicate', 'level_change'] as const) {
      assert.equal(byArea.groups!.rows.reduce((s, r) => s + r[k], 0), byArea.series.reduce((s, r) => s + r[k], 0), k);
    }
    const byLine = (await run('--group-by', 'line', '--asset-model', 'assets.yaml')).faults!;
    assert.deepEqual(byLine.groups!.rows.map((r) => [r.group, r.series, r.stuck, r.gap]), [['(not in the asset model)', 2, 0, 0], ['ovens/line1', 2, 0, 1], ['pressing/line1', 4, 1, 0], ['pressing/line2', 2, 0, 0]]);
    const plain = (await run()).faults!;
    assert.equal(plain.groups, undefined);
    assert.deepEqual(plain.series, byArea.series);
    const bad = await run('--group-by', 'floor', '--asset-model', 'assets.yaml');
    assert.equal(bad.code, 2);
    assert.match(bad.io.stderr, /--group-by must be one of site, area, line, asset/);
    await mkdir(join(dir, 'empty-store'));
    const noModel = await run('--group-by', 'area', '--store', join(dir, 'empty-store'));
    assert.equal(noModel.code, 2, noModel.io.stderr);
    assert.match(noModel.io.stderr, /needs the plant's asset model/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
