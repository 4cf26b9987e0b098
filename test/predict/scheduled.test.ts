import { test } from 'node:test';
import { rename } from 'node:fs/promises';
import assert from 'node:assert/strict';
import * as aq from 'arquero';
import { runPredictions, SlotLedger, dueSlots, latestSlot, openPredictSource, type ModelChange, type SlotResult } from '../../lib/predict/index.ts';
import { approveVersion, getDeployable, loadModel, registerModel } from '../../lib/model/index.ts';
import { sql } from '../../lib/store/index.ts';
import { MillwrightError } from '../../lib/errors/index.ts';
import { energyFixture, GROUP, HOUR, START } from './helpers/energy-fixture.ts';

test('slots: aligned periods and cron times, catch-up bounded to the newest', () => {
  const every = { every: 2 * HOUR };
  assert.equal(latestSlot(every, START + 3 * HOUR + 5), START + 2 * HOUR);
  assert.deepEqual(dueSlots(every, START + 7 * HOUR, START, 100), [START + 2 * HOUR, START + 4 * HOUR, START + 6 * HOUR]);
  assert.deepEqual(dueSlots(every, START + 7 * HOUR, START, 2), [START + 4 * HOUR, START + 6 * HOUR]);
  assert.deepEqual(dueSlots(every, START + 7 * HOUR, undefined, 100), [START + 6 * HOUR]);
  assert.deepEqual(dueSlots(every, START + 7 * HOUR, START + 6 * HOUR, 100), []);
  const cron = { cron: '30 */3 * * *' };
  assert.equal(latestSlot(cron, START + 3 * HOUR + 30 * 60_000), START + 3 * HOUR + 30 * 60_000);
  assert.deepEqual(dueSlots(cron, START + 7 * HOUR, START, 100), [START + 30 * 60_000, START + 3.5 * HOUR, START + 6.5 * HOUR]);
  assert.throws(() => latestSlot({ cron: '61 * * * *' }, START), (e: unknown) => e instanceof MillwrightError && e.code === 'BAD_INPUT' && /cron/.test(e.message));
});

test('scheduled predictions: one file per slot, missed slots caught up once each after a restart', async (t) => {
  const fx = await energyFixture();
  t.after(fx.cleanup);
  const T0 = START + 17 * 24 * HOUR + 8 * HOUR; // a Thursday, 08:00, mid shift, after the training weeks
  const opts = { group: GROUP, registry: fx.registry, store: fx.store, site: 'plant-a', every: '2h', window: '6h', horizon: '2h', once: true } as const;

  const first = await runPredictions({ ...opts, now: () => T0 + 30 * 60_000 });
  assert.deepEqual(first.map((r) => [r.slot, r.status]), [[T0, 'done']]);
  const { rows } = await sql('SELECT * FROM predictions ORDER BY ts, output', { root: fx.store });
  assert.equal(rows.length, 4); // 2 target hours x (expected, best)
  for (const r of rows) {
    assert.equal(r.model_version, '1');
    assert.equal(r.group, GROUP);
    assert.equal(r.slot_ts, T0);
    assert.equal(r.input_from, T0 - 6 * HOUR);
    assert.equal(r.input_to, T0);
    assert.equal(r.asset, 'line1');
    assert.equal(r.site, 'plant-a');
  }
  assert.deepEqual(rows.map((r) => [r.ts, r.output]), [[T0, 'best'], [T0, 'expected'], [T0 + HOUR, 'best'], [T0 + HOUR, 'expected']]);
  // The same as the model itself on the window's latest state: production_t of 07:45-08:00 held over the horizon.
  const model = await loadModel((await getDeployable(GROUP, { registry: fx.registry })).dir);
  const latest = await sql(`SELECT value FROM readings WHERE signal = 'production_t' AND ts = epoch_ms(${T0 - HOUR}::BIGINT)`, { root: fx.store });
  const direct = (await model.predict(aq.table({ ts: [T0, T0 + HOUR], production_t: [latest.rows[0]!.value, latest.rows[0]!.value] }))) as { expected: number }[];
  const expected = rows.filter((r) => r.output === 'expected').map((r) => r.value as number);
  assert.deepEqual(expected, direct.map((d) => d.expected));
  assert.ok(expected[0]! > 400 && expected[0]! < 900, `mid-shift load ${expected[0]} kWh`);

  // Process down for three slots, then restarted: each missed slot runs once, oldest first.
  const later = T0 + 6 * HOUR + 10 * 60_000;
  const caught = await runPredictions({ ...opts, now: () => later });
  assert.deepEqual(caught.map((r) => r.slot), [T0 + 2 * HOUR, T0 + 4 * HOUR, T0 + 6 * HOUR]);
  assert.ok(caught.every((r) => r.status === 'done' && r.rows.length === 4));
  assert.deepEqual(await runPredictions({ ...opts, now: () => later }), []);
  const perSlot = await sql('SELECT slot_ts, count(*) AS n, count(DISTINCT id) AS ids, min(input_from) AS f FROM predictions GROUP BY slot_ts ORDER BY slot_ts', { root: fx.store });
  assert.deepEqual(perSlot.rows.map((r) => [r.slot_ts, r.n, r.ids, r.f]), [0, 2, 4, 6].map((h) => [T0 + h * HOUR, 4, 4, T0 + (h - 6) * HOUR]));
  const ledger = await new SlotLedger(fx.store, GROUP).read();
  assert.deepEqual(ledger.slots.map((s) => s.slot), [0, 2, 4, 6].map((h) => T0 + h * HOUR));
  assert.equal(ledger.lastSlot, T0 + 6 * HOUR);

  // Without catch-up only the latest due slot runs and the missed ones are never run later.
  const skipTo = T0 + 12 * HOUR + 1;
  const latestOnly = await runPredictions({ ...opts, catchUp: false, now: () => skipTo });
  assert.deepEqual(latestOnly.map((r) => r.slot), [T0 + 12 * HOUR]);
  assert.deepEqual(await runPredictions({ ...opts, now: () => skipTo }), []);

  // The night shift has no production: a cron slot at 02:00 predicts base load only.
  const night = START + 18 * 24 * HOUR + 2 * HOUR;
  const cron = await runPredictions({ ...opts, every: undefined, cron: '0 2 * * *', key: 'nightly', now: () => night + 60_000 });
  assert.equal(cron.length, 1);
  const base = cron[0]!.rows.filter((r) => r.output === 'expected').map((r) => r.value!);
  assert.ok(base.every((v) => v > 100 && v < 160), `night load ${base}`);
});

test('a failing model, no input, a bad query: the slot is marked with why and nothing is written', async (t) => {
  const fx = await energyFixture();
  t.after(fx.cleanup);
  const T0 = START + 20 * 24 * HOUR;
  const real = await openPredictSource({ group: GROUP, registry: fx.registry });
  const failing = { ...real, predict: () => Promise.reject(new Error('model exploded')) };
  const opts = { source: failing, store: fx.store, site: 'plant-a', every: '1h', window: '3h', horizon: '1h', once: true } as const;
  const [r] = await runPredictions({ ...opts, now: () => T0 });
  assert.equal(r!.status, 'failed');
  assert.match(r!.error!.message, /exploded/);
  const slow = { ...real, predict: () => new Promise<never>(() => undefined) };
  const [late] = await runPredictions({ ...opts, source: slow, predictTimeoutMs: 100, now: () => T0 + HOUR });
  assert.equal(late!.status, 'failed');
  assert.equal((late!.error as MillwrightError).code, 'DEADLINE_EXCEEDED');
  // A site without readings: no input, nothing predicted.
  const [none] = await runPredictions({ ...opts, source: real, site: 'plant-b', key: 'b', now: () => T0 });
  assert.equal(none!.status, 'no-input');
  assert.equal((await sql('SELECT count(*) AS n FROM predictions', { root: fx.store })).rows[0]!.n, 0);
  const ledger = await new SlotLedger(fx.store, GROUP).read();
  assert.deepEqual(ledger.slots.map((s) => s.status), ['failed', 'failed']);
  // A configured query that does not give the model's features is a clear error for the slot.
  const [bad] = await runPredictions({ ...opts, source: real, key: 'q', query: "SELECT asset, value AS load FROM readings WHERE site = '{site}'", now: () => T0 });
  assert.equal(bad!.status, 'failed');
  assert.match(bad!.error!.message, /no column "ts", "production_t"/);
  // A configured query that does: one row per asset, the target time from the query.
  const q = "SELECT asset, {slot_ms} + {horizon_ms} AS ts, {slot_ms} + {horizon_ms} AS target_ts, avg(value) AS production_t, epoch_ms(max(ts)) AS input_ts " +
    "FROM readings WHERE site = '{site}' AND signal = 'production_t' AND ts >= epoch_ms({from_ms}) AND ts < epoch_ms({to_ms}) GROUP BY asset";
  const [ok] = await runPredictions({ ...opts, source: real, key: 'q2', query: q, now: () => T0 + 10 * HOUR }) as SlotResult[];
  assert.equal(ok!.status, 'done');
  assert.deepEqual(ok!.rows.map((x) => [x.asset, x.ts, x.output]), [['line1', T0 + 11 * HOUR, 'expected'], ['line1', T0 + 11 * HOUR, 'best']]);
  assert.equal(ok!.latestInput, T0 + 10 * HOUR - 15 * 60_000);
});

test('bad schedules are refused before anything runs', async () => {
  const base = { modelDir: '/nonexistent', store: '/tmp/x', site: 'a', window: '6h', horizon: '2h' };
  await assert.rejects(runPredictions({ ...base }), /exactly one of every/);
  await assert.rejects(runPredictions({ ...base, every: '2h', cron: '0 * * * *' }), /exactly one of every/);
  await assert.rejects(runPredictions({ ...base, every: 'soon' }), (e: unknown) => e instanceof MillwrightError && e.code === 'BAD_INPUT');
});

test('a running schedule follows the promoted version: a version approved between slots makes the next slots, each row says which', async (t) => {
  const fx = await energyFixture();
  t.after(fx.cleanup);
  const T0 = START + 17 * 24 * HOUR + 8 * HOUR;
  const opts = { group: GROUP, registry: fx.registry, store: fx.store, site: 'plant-a', every: '2h', window: '6h', horizon: '2h', once: true } as const;
  assert.deepEqual((await runPredictions({ ...opts, now: () => T0 - 2 * HOUR + 60_000 })).map((r) => r.modelVersion), ['1']);
  // Down for three slots: one run catches them up, and while it does a new version is approved.
  const changes: ModelChange[] = [];
  const v1 = await getDeployable(GROUP, { registry: fx.registry });
  const results = await runPredictions({
    ...opts, now: () => T0 + 4 * HOUR + 60_000, onModelChange: (c) => changes.push(c),
    onSlot: async (r) => {
      if (r.slot !== T0) return;
      // the same model files registered again as version 2 and approved, as a retrain would
      const { record } = await registerModel(v1.dir, { group: GROUP, registry: fx.registry, note: 'retrained' });
      await approveVersion(GROUP, record.version, { registry: fx.registry });
    },
  });
  assert.deepEqual(results.map((r) => [r.slot, r.status, r.modelVersion]), [[T0, 'done', '1'], [T0 + 2 * HOUR, 'done', '2'], [T0 + 4 * HOUR, 'done', '2']]);
  assert.deepEqual(changes, [{ group: GROUP, from: '1', to: '2' }] as ModelChange[]);
  const { rows } = await sql('SELECT slot_ts, list(DISTINCT model_version) AS v, count(*) AS n FROM predictions GROUP BY slot_ts ORDER BY slot_ts', { root: fx.store });
  assert.deepEqual(rows.map((r) => [r.slot_ts, r.v, r.n]), [[T0 - 2 * HOUR, ['1'], 4], [T0, ['1'], 4], [T0 + 2 * HOUR, ['2'], 4], [T0 + 4 * HOUR, ['2'], 4]]);
  const ledger = await new SlotLedger(fx.store, GROUP).read();
  assert.deepEqual(ledger.slots.map((x) => x.modelVersion), ['1', '1', '2', '2']);
  // A registry that cannot be read between slots: the schedule keeps the version it has, and says why.
  const more = await runPredictions({
    ...opts, now: () => T0 + 8 * HOUR + 60_000, onModelChange: (c) => changes.push(c),
    onSlot: async (r) => {
      if (r.slot === T0 + 6 * HOUR) await rename(fx.registry, `${fx.registry}-away`);
    },
  });
  await rename(`${fx.registry}-away`, fx.registry);
  assert.deepEqual(more.map((r) => [r.status, r.modelVersion]), [['done', '2'], ['done', '2']]);
  assert.equal(changes.length, 2);
  assert.equal(changes[1]!.from, '2');
  assert.ok(changes[1]!.error && changes[1]!.to === undefined, 'the registry error is reported');
});
