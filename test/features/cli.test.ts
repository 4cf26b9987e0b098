import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../../cli/main.ts';
import { writeReadings } from '../../lib/store/index.ts';
import { dailySummary, timeDomainFeatures, spectrumFeatures, floatColumn } from '../../lib/features/index.ts';
import { captureIO } from '../helpers/io.ts';
import { smallPlant } from './plant.ts';

test('features daily: the batch job over a store equals dailySummary of the same readings', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-features-cli-'));
  try {
    const { table } = smallPlant(2);
    const n = table.numRows();
    await writeReadings(join(dir, 'store'), {
      ts: floatColumn(table, 'ts'), site: new Array<string>(n).fill('plant-a'),
      asset: table.array('asset') as string[], signal: table.array('signal') as string[], value: floatColumn(table, 'value'),
    });
    const io = captureIO();
    const code = await main(['features', 'daily', '--store', join(dir, 'store'), '--out', join(dir, 'daily.csv'),
      '--runs-signal', 'speed', '--on', '700', '--off', '400', '--min-duration', '15m', '--runs-out', join(dir, 'runs.csv')], io);
    assert.equal(code, 0, io.stderr);
    const csv = readFileSync(join(dir, 'daily.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'date,asset,signal,count,sum,mean,std,min,max,first,last');
    const ref = dailySummary(table);
    assert.equal(csv.length - 1, ref.numRows());
    const first = csv[1]!.split(',');
    assert.deepEqual(first.slice(0, 4), [ref.get('date', 0), ref.get('asset', 0), ref.get('signal', 0), String(ref.get('count', 0))]);
    assert.ok(Math.abs(Number(first[5]) - (ref.get('mean', 0) as number)) < 1e-9);
    const runs = readFileSync(join(dir, 'runs.csv'), 'utf8').trim().split('\n');
    assert.equal(runs[0], 'date,asset,runs,production_h,longest_run_h');
    assert.ok(runs.length > 3);
    // --from/--to restrict the scan: one day only.
    const one = captureIO();
    assert.equal(await main(['features', 'daily', '--store', join(dir, 'store'), '--from', '2026-01-06', '--to', '2026-01-07', '--format', 'json'], one), 0, one.stderr);
    const days = new Set(one.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { date: string }).date));
    assert.deepEqual([...days], ['2026-01-06']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('features vibration: per-window features of a gzipped CSV recording', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mw-features-vib-'));
  try {
    const fx = JSON.parse(readFileSync(new URL('./fixtures/features.json', import.meta.url), 'utf8')) as { synthetic: { x: number[] } };
    const x = fx.synthetic.x;
    const csv = `sample,acc_g\n${x.map((v, i) => `${i},${v}`).join('\n')}\n`;
    writeFileSync(join(dir, 'rec.csv.gz'), gzipSync(csv));
    const io = captureIO();
    const code = await main(['features', 'vibration', join(dir, 'rec.csv.gz'), '--sample-rate', '20000', '--window', '4096', '--running-speed', '29.95'], io);
    assert.equal(code, 0, io.stderr);
    const lines = io.stdout.trim().split('\n');
    const head = lines[0]!.split(',');
    assert.equal(lines.length, 3); // header + 2 windows of 4096 (8192 samples)
    const row = lines[2]!.split(',');
    const ref = timeDomainFeatures(Float64Array.from(x.slice(4096, 8192)));
    assert.equal(row[head.indexOf('column')], 'acc_g');
    assert.ok(Math.abs(Number(row[head.indexOf('rms')]) - ref.rms) < 1e-12);
    assert.ok(Math.abs(Number(row[head.indexOf('kurtosis')]) - ref.kurtosis) < 1e-9);
    const s = spectrumFeatures(Float64Array.from(x.slice(4096, 8192)), { sampleRate: 20000, segment: 4096, runningSpeedHz: 29.95 });
    assert.ok(Math.abs(Number(row[head.indexOf('energy_1x')]) - s.energy1x) < 1e-12);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('features: usage errors exit 2, bad files exit 1 with a clear message', async () => {
  const io = captureIO();
  assert.equal(await main(['features'], io), 2);
  assert.match(io.stderr, /sub-command: daily, vibration or labels/);
  const io2 = captureIO();
  assert.equal(await main(['features', 'vibration', 'x.csv'], io2), 2);
  assert.match(io2.stderr, /--sample-rate HZ is required/);
  const dir = mkdtempSync(join(tmpdir(), 'mw-features-bad-'));
  try {
    writeFileSync(join(dir, 'bad.csv'), 'a,b\n1,2\n3,oops\n');
    const io3 = captureIO();
    assert.equal(await main(['features', 'vibration', join(dir, 'bad.csv'), '--sample-rate', '1000'], io3), 1);
    assert.match(io3.stderr, /line 3, column b: "oops" is not a number/);
    const io4 = captureIO();
    assert.equal(await main(['features', 'daily', '--runs-signal', 'speed'], io4), 2);
    assert.match(io4.stderr, /needs --on/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
