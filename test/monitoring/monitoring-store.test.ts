// The store's monitoring table (writeMonitoring + the `monitoring` view), inference ids, and the
// watched label folder's stability rule, without a server.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql, writeMonitoring, type MonitoringRow } from '../../lib/store/index.ts';
import { inferenceIdOf } from '../../lib/capture/index.ts';
import { readGroundTruth, watchGroundTruthFolder } from '../../lib/ground-truth/index.ts';

test('the monitoring view: empty with its columns, then the rows written, partitioned by model and date; a bad row writes nothing', async () => {
  const root = await mkdtemp(join(tmpdir(), 'mw-mon-'));
  try {
    const empty = await sql('SELECT * FROM monitoring', { root });
    assert.equal(empty.rows.length, 0);
    assert.deepEqual(empty.columns, ['ts', 'model_version', 'kind', 'feature', 'metric', 'value', 'threshold', 'lower', 'upper', 'alert', 'rank', 'from_ts', 'to_ts', 'detail', 'run', 'date', 'model']);
    const ts = Date.UTC(2026, 11, 2, 4, 0);
    const rows: MonitoringRow[] = [
      { ts, model: 'press', modelVersion: '7', kind: 'drift', feature: 'load', metric: 'ks', value: 0.01, threshold: 0.05, alert: true, run: 'r1' },
      { ts, model: 'press', kind: 'drift', feature: 'speed', metric: 'wasserstein', value: null, threshold: 0.1, alert: true, detail: 'infinite', run: 'r1' },
      { ts, model: 'press', kind: 'estimated_performance', metric: 'mae', value: 1.5, lower: 1.2, upper: 1.8, from: ts - 3_600_000, to: ts, alert: false, run: 'r1' },
      { ts: ts + 86_400_000, model: 'oven', kind: 'attribution', feature: 'temp', metric: 'rank:prediction', value: 0.7, rank: 1, alert: false, run: 'r2' },
    ];
    const out = await writeMonitoring(root, rows);
    assert.equal(out.files.length, 2);
    assert.ok(out.files.every((f) => /monitoring\/model=(press|oven)\/date=2026-12-0[23]\/part-.*\.parquet$/.test(f)), out.files.join(' '));
    const got = (await sql("SELECT model, date::VARCHAR AS date, kind, feature, metric, value, threshold, lower, upper, alert, rank, epoch_ms(from_ts) AS f, detail FROM monitoring ORDER BY model DESC, feature NULLS FIRST", { root })).rows;
    assert.deepEqual(got.map((r) => [r.model, r.date, r.kind, r.feature, r.metric, r.value, r.alert]), [
      ['press', '2026-12-02', 'estimated_performance', null, 'mae', 1.5, false],
      ['press', '2026-12-02', 'drift', 'load', 'ks', 0.01, true],
      ['press', '2026-12-02', 'drift', 'speed', 'wasserstein', null, true],
      ['oven', '2026-12-03', 'attribution', 'temp', 'rank:prediction', 0.7, false],
    ]);
    assert.equal(Number(got[0]!.f), ts - 3_600_000);
    assert.equal(got[3]!.rank, 1);
    await assert.rejects(writeMonitoring(root, [{ ...rows[0]!, kind: 'nonsense' as MonitoringRow['kind'] }]), /kind "nonsense" is not one of/);
    await assert.rejects(writeMonitoring(root, [{ ...rows[0]!, model: '../x' }]), /invalid/);
    assert.equal((await sql('SELECT count(*)::INTEGER AS n FROM monitoring', { root })).rows[0]!.n, 4);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test("inference ids: SageMaker's rule at its edges", () => {
  assert.equal(inferenceIdOf('a'), 'a');
  assert.equal(inferenceIdOf('x'.repeat(64)), 'x'.repeat(64));
  assert.equal(inferenceIdOf('a b/c:"d"~'), 'a b/c:"d"~');
  assert.match(inferenceIdOf(undefined), /^[0-9a-f]{8}-[0-9a-f]{4}-/);
  for (const bad of ['', 'x'.repeat(65), ' lead', 'tab\t', 'caf\u00e9', 'nul\u0000']) {
    assert.throws(() => inferenceIdOf(bad), (e: Error & { code?: string }) => e.code === 'BAD_INPUT' && /1-64 printable ASCII/.test(e.message), JSON.stringify(bad));
  }
});

test('the label folder takes a file only once it has stopped changing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-gtf-'));
  try {
    const store = join(dir, 'store');
    const w = watchGroundTruthFolder({ dir, storeDir: store, pollMs: 60_000, stableForMs: 300 });
    await writeFile(join(dir, 'labels.csv'), 'inference_id,label\na,1\n');
    assert.deepEqual((await w.pass()).stored, []); // first sight
    await appendFile(join(dir, 'labels.csv'), 'b,2\n');
    assert.deepEqual((await w.pass()).stored, []); // it changed
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual((await w.pass()).stored, [{ file: 'labels.csv', labels: 2 }]);
    assert.deepEqual(await readdir(join(dir, 'done')), ['labels.csv']);
    assert.deepEqual((await readGroundTruth(store)).map((l) => l.eventMetadata.eventId), ['a', 'b']);
    await w.stop();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
