/**
 * The README's first command runs `millwright demo`: this keeps it true. A smaller plant than the
 * default, through the same steps: generate, ingest (with a late, duplicated, malformed delivery),
 * compact, SQL, train + approve, serve over HTTP, reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo } from '../../cli/demo.ts';
import { captureIO } from '../helpers/io.ts';

test('millwright demo runs end to end and writes the quality, drift and energy reports', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'millwright-demo-'));
  try {
    const io = captureIO();
    io.cwd = dir;
    const result = await runDemo({ dir: 'demo', days: 14, reportDays: 3, assets: 3 }, io);
    assert.equal(result.rejected, 3, io.stdout);
    assert.equal(result.duplicatesRemoved, 500, 'the late delivery repeats 500 readings');
    assert.equal(result.predictions, 3 * 24, 'one prediction per unseen hour');
    const kinds = result.reports.map((r) => r.kind).sort();
    assert.deepEqual(kinds, ['drift', 'energy', 'quality'], io.stdout);
    for (const r of result.reports) {
      const html = await readFile(r.html, 'utf8');
      assert.match(html, /<svg/, `${r.kind} report has a chart`);
    }
    assert.match(io.stdout, /\[6\/6\]/);
    assert.match(io.stdout, /Approved/);
    assert.match(io.stdout, /hours flagged above the best-achievable curve/);
    // The wall time is printed with every step named, and the steps add up to no more than the total.
    const wall = /Wall time ([\d.]+) s \(generate ([\d.]+), ingest ([\d.]+), sql ([\d.]+), train ([\d.]+), serve ([\d.]+), reports ([\d.]+)\)/.exec(io.stdout);
    assert.ok(wall, io.stdout);
    const [total, ...steps] = wall.slice(1).map(Number);
    assert.ok(steps.reduce((a, b) => a + b, 0) <= total + 0.1 * steps.length, wall[0]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('millwright demo refuses a history too short to train on', async () => {
  await assert.rejects(runDemo({ days: 5, reportDays: 3 }, captureIO()), /--days must be at least --report-days \+ 7/);
});
