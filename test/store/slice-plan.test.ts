import assert from 'node:assert/strict';
import test from 'node:test';
import { planScan, scanArrays, slicePlan, tsExtent, writeReadings } from '../../lib/store/index.ts';
import { plantBatch, tempDir } from './fixtures.ts';

test('slicePlan: a slice of a whole-range plan reads what a plan of the slice reads; tsExtent gives the first and last reading time', async (t) => {
  const { dir: root, cleanup } = await tempDir();
  t.after(cleanup);
  const a = plantBatch({ samples: 6000, periodMs: 30_000, start: Date.UTC(2024, 2, 1, 0, 0), seed: 1 });
  const b = plantBatch({ samples: 3000, periodMs: 30_000, start: Date.UTC(2024, 2, 2, 12, 0, 15), seed: 2, timeMajor: true });
  await writeReadings(root, a, { rowGroupSize: 2000 });
  await writeReadings(root, b, { rowGroupSize: 2000 });
  const from = Date.UTC(2024, 2, 1, 6);
  const to = Date.UTC(2024, 2, 3, 1);
  const plan = await planScan({ root, sites: 'plant-1', from, to });
  const cols = ['ts', 'asset', 'signal', 'value', 'quality'];
  for (const [lo, hi] of [[from, Date.UTC(2024, 2, 2)], [Date.UTC(2024, 2, 2), Date.UTC(2024, 2, 2, 13, 0, 0, 1)], [Date.UTC(2024, 2, 2, 23), to + 86_400_000]] as const) {
    const slice = slicePlan(plan, lo, hi);
    assert.ok(slice.files.every((f) => f.date >= new Date(Math.max(lo, from)).toISOString().slice(0, 10)), 'no file of an earlier day');
    const got = await scanArrays({ root, sites: 'plant-1', from: lo, to: hi, plan: slice, columns: cols });
    const want = await scanArrays({ root, sites: 'plant-1', from: Math.max(lo, from), to: Math.min(hi, to), columns: cols });
    assert.deepEqual(got, want, `${new Date(lo).toISOString()} .. ${new Date(hi).toISOString()}`);
  }
  assert.ok(slicePlan(plan, from, Date.UTC(2024, 2, 2)).files.length < plan.files.length);
  assert.deepEqual(slicePlan(plan, to + 86_400_000, to + 2 * 86_400_000).files, [], 'past the planned range: nothing');
  const all = await scanArrays({ root, sites: 'plant-1', columns: ['ts'] });
  const ts = [...all.ts!];
  const files = (await planScan({ root, sites: 'plant-1' })).files.map((f) => f.path);
  assert.deepEqual(await tsExtent(files), { lo: Math.min(...ts), hi: Math.max(...ts) });
  assert.equal(await tsExtent([]), undefined);
});
