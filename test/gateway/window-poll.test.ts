import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { encodeFrame, FrameReader, WP_TYPE, type WpFrame } from '../../lib/gateway/window-poll/index.ts';
import { parseGatewayConfig, startGateway, WindowPollSimulator, SOURCE_TYPES, sourceBase, QUALITY, type SourceType, type Source, type SourceContext } from '../../lib/gateway/index.ts';
import { sql } from '../../lib/store/index.ts';
import { reconcile, tempDir, waitFor, wpSource } from './helpers.ts';

test('window-poll frames survive any chunking; a wrong magic or an oversized length is a protocol error', () => {
  const frames: WpFrame[] = [
    { type: WP_TYPE.readRequest, requestId: 7, spanMs: 0, tags: [1, 2, 4_000_000_000] },
    { type: WP_TYPE.readResponse, requestId: 7, data: { deviceNow: 1_700_000_000_123, heldAfter: 1_700_000_000_000, tags: [{ tagId: 1, status: 0, readings: [{ ts: 1_700_000_000_050, value: -1.5, quality: 0 }, { ts: 1_700_000_000_100, value: 2e300, quality: 2 }] }, { tagId: 9, status: 1, readings: [] }] } },
    { type: WP_TYPE.infoResponse, requestId: 1, info: { deviceNow: 5, windowMs: 600_000, tags: [3] } },
    { type: WP_TYPE.error, requestId: 3, code: 2, message: 'kaputt ü' },
  ];
  const bytes = Buffer.concat(frames.map(encodeFrame));
  for (const step of [1, 5, 13, bytes.length]) {
    const r = new FrameReader();
    const got: WpFrame[] = [];
    for (let o = 0; o < bytes.length; o += step) got.push(...r.push(bytes.subarray(o, o + step)));
    assert.deepEqual(got, frames, `chunks of ${step} bytes`);
  }
  const bad = Buffer.from(bytes);
  bad.writeUInt16BE(0x1234, 0);
  assert.throws(() => new FrameReader().push(bad), /wrong magic/);
  const big = encodeFrame({ type: WP_TYPE.infoRequest, requestId: 1 });
  big.writeUInt32BE(64 * 1024 * 1024, 8);
  assert.throws(() => new FrameReader().push(big), /exceeds the 16777216-byte limit/);
});

async function gateway(dir: string, sources: unknown[], extra: Record<string, unknown> = {}, types?: readonly SourceType[]) {
  const config = await parseGatewayConfig({ site: 'plant-a', spool: { dir: 'spool', maxBytes: '50mb', flushEvery: '200ms', linger: '2ms' }, store: 'store', heartbeat: '250ms', sources, ...extra }, dir, 'test config', types);
  return { config, gw: await startGateway(config, { types }) };
}

test('every reading the device produced reaches the store exactly once (overlapping windows de-duplicated), with heartbeats and a connected event', async () => {
  const { dir, cleanup } = await tempDir();
  const sim = new WindowPollSimulator({ windowMs: 1500, tags: [{ id: 1, periodMs: 10 }, { id: 2, periodMs: 25 }], record: true });
  try {
    const { port } = await sim.listen();
    const { config, gw } = await gateway(dir, [wpSource(port)]);
    await waitFor('10 polls', () => sim.served.length >= 10);
    sim.freeze();
    const n = sim.served.length;
    await waitFor('a poll after the freeze', () => sim.served.length >= n + 2);
    await sleep(50);
    await gw.stop();
    const r = await reconcile(config.store, sim);
    assert.equal(r.lost, 0);
    assert.deepEqual(r.gaps, []);
    assert.ok(r.generated > 200, `only ${r.generated} readings generated`);
    const hb = await sql("SELECT count(*) AS n, sum(value) AS s FROM readings WHERE signal = '_heartbeat' AND asset = 'plc7'", { root: config.store });
    assert.ok((hb.rows[0].n as number) >= 3, 'heartbeats');
    assert.ok((hb.rows[0].s as number) <= r.generated, 'heartbeat values count readings since the previous heartbeat');
    const ev = await sql("SELECT kind, source, severity, message FROM events WHERE source = 'plc7' ORDER BY ts", { root: config.store });
    assert.equal(ev.rows[0].kind, 'connected');
    assert.equal(ev.rows[0].message, 'device keeps 1500 ms, 2 tag(s)');
  } finally {
    await sim.close();
    await cleanup();
  }
});

test('a poll that comes too late records a gap event with the exact lost interval, and polling resumes', async () => {
  const { dir, cleanup } = await tempDir();
  const sim = new WindowPollSimulator({ windowMs: 1500, tags: [{ id: 1, periodMs: 10 }, { id: 2, periodMs: 25 }], record: true });
  try {
    const { port } = await sim.listen();
    const { config, gw } = await gateway(dir, [wpSource(port)]);
    await waitFor('4 polls', () => sim.served.length >= 4);
    const k = sim.served.length;
    await waitFor('the next poll', () => sim.served.length > k);
    await sleep(60); // its readings and cursor are acknowledged long before the next poll (300 ms)
    const lastBefore = sim.served[sim.served.length - 1];
    const servedBefore = sim.served.length;
    sim.setDown(true);
    await waitFor('the source to see the outage', () => gw.status().sources[0].state === 'disconnected');
    await sleep(2200); // longer than the 1.5 s window: the device discards what was not polled
    sim.setDown(false);
    await waitFor('polls after the outage', () => sim.served.length >= servedBefore + 3);
    const firstAfter = sim.served[servedBefore];
    sim.freeze();
    const n = sim.served.length;
    await waitFor('a poll after the freeze', () => sim.served.length >= n + 2);
    await sleep(50);
    await gw.stop();
    const r = await reconcile(config.store, sim);
    assert.equal(r.gaps.length, 2, 'one gap per tag');
    for (const g of r.gaps) {
      assert.equal(g.from, lastBefore.deviceNow + 1, `${g.signal}: the gap starts just after the last acknowledged poll`);
      assert.equal(g.to, firstAfter.heldAfter, `${g.signal}: the gap ends where the device's window began`);
    }
    assert.ok(r.lost > 50, `${r.lost} readings lost`);
    const ev = await sql("SELECT kind, message FROM events WHERE kind IN ('disconnected', 'gap') ORDER BY ts", { root: config.store });
    assert.ok(ev.rows.some((e) => e.kind === 'disconnected'));
    assert.match(ev.rows.find((e) => e.kind === 'gap')!.message as string, /^poll came \d+ ms too late: the device had already discarded readings up to /);
  } finally {
    await sim.close();
    await cleanup();
  }
});

test('bad readings are refused with a reason and nothing good is lost: NaN values, clock skew ahead of the gateway', async () => {
  const { dir, cleanup } = await tempDir();
  const sim = new WindowPollSimulator({ windowMs: 1500, tags: [{ id: 1, periodMs: 10, value: (ts) => (ts % 100 === 0 ? Number.NaN : ts % 1000) }], record: true });
  const skewed = new WindowPollSimulator({ windowMs: 1500, skewMs: 3_600_000, tags: [{ id: 5, periodMs: 50 }] });
  try {
    const { port } = await sim.listen();
    const p2 = (await skewed.listen()).port;
    const { config, gw } = await gateway(dir, [
      wpSource(port, { tags: [{ id: 1, asset: 'oven1', signal: 'temperature' }] }),
      wpSource(p2, { name: 'plc9', tags: [{ id: 5, asset: 'oven2', signal: 'temperature' }] }),
    ], { maxFutureSkew: '5m' });
    await waitFor('polls', () => sim.served.length >= 6 && skewed.served.length >= 3);
    sim.freeze();
    const n = sim.served.length;
    await waitFor('a poll after the freeze', () => sim.served.length >= n + 2);
    await sleep(50);
    const st = gw.status();
    await gw.stop();
    const all = sim.generated.get(1)!;
    const nan = all.filter((t) => t % 100 === 0);
    const { rows } = await sql("SELECT epoch_ms(ts) AS t, value FROM readings WHERE asset = 'oven1' ORDER BY t", { root: config.store });
    assert.deepEqual(rows.map((r) => r.t), all.filter((t) => t % 100 !== 0), 'every finite reading stored, none of the NaN ones');
    assert.ok(rows.every((r) => r.value === (r.t as number) % 1000));
    const rej = await sql("SELECT source, asset, signal, message FROM events WHERE kind = 'reject'", { root: config.store });
    const sum = (re: RegExp) => rej.rows.filter((r) => re.test(r.message as string)).reduce((s, r) => s + Number(/^(\d+)/.exec(r.message as string)![1]), 0);
    assert.equal(sum(/value NaN is not a finite number/), nan.length, 'each NaN reading counted in a reject event');
    assert.ok(rej.rows.some((r) => r.source === 'plc9' && r.asset === 'oven2' && /more than 300000 ms ahead of the gateway clock \(clock skew\)/.test(r.message as string)));
    const skewedStored = await sql("SELECT count(*) AS n FROM readings WHERE asset = 'oven2'", { root: config.store });
    assert.equal(skewedStored.rows[0].n, 0, 'no reading an hour in the future is stored');
    assert.ok(st.sources.find((s) => s.name === 'plc9')!.rejected > 0);
  } finally {
    await sim.close();
    await skewed.close();
    await cleanup();
  }
});

test('an asset model: start-up refuses a static tag with a typo, and a templated name unknown to the model is rejected per reading', async () => {
  const { dir, cleanup } = await tempDir();
  // A source with templated asset names (as MQTT's "{1}"): nothing to check at start-up.
  const templated: SourceType = {
    type: 'templated',
    schema: z.strictObject({ ...sourceBase, type: z.literal('templated') }),
    assets: () => [],
    create: (c): Source => {
      let state: 'starting' | 'connected' = 'starting';
      return {
        name: (c as { name: string }).name, type: 'templated',
        async start(ctx: SourceContext) {
          state = 'connected';
          const ts = Date.now();
          await ctx.emit([{ ts, asset: 'press1', signal: 'force', value: 1, quality: QUALITY.good }, { ts, asset: 'pres1', signal: 'force', value: 2, quality: QUALITY.good }]);
        },
        async stop() {},
        status: () => ({ name: (c as { name: string }).name, type: 'templated', state, since: 0, readings: 0 }),
      };
    },
  };
  try {
    await writeFile(join(dir, 'assets.yaml'), 'areas:\n  - name: pressing\n    lines:\n      - name: line1\n        assets: [ { name: press1, type: press, attributes: { ratedPower: 250 } }, { name: oven1 } ]\n  - name: heat\n    lines:\n      - name: line2\n        assets: [ { name: oven2 } ]\n');
    await assert.rejects(gateway(dir, [wpSource(1, { tags: [{ id: 1, asset: 'ovenl', signal: 't' }] })], { assets: 'assets.yaml' }), /sources\[0\]: unknown asset "ovenl" \(not in the asset model .*assets\.yaml; did you mean oven1\?\)/);
    const { config, gw } = await gateway(dir, [{ name: 'bus', type: 'templated' }], { assets: 'assets.yaml' }, [...SOURCE_TYPES, templated]);
    await gw.stop();
    const r = await sql("SELECT asset, value FROM readings WHERE signal = 'force'", { root: config.store });
    assert.deepEqual(r.rows, [{ asset: 'press1', value: 1 }]);
    const e = await sql("SELECT message FROM events WHERE kind = 'reject'", { root: config.store });
    assert.deepEqual(e.rows.map((x) => x.message), ['1 reading(s) rejected: asset "pres1" is not in the asset model (did you mean press1?)']);
    // The assets view groups readings by line and area.
    const g = await sql('SELECT a.area, a.line, a.type, a.rated_power, count(*) AS n FROM readings r JOIN assets a USING (asset) GROUP BY ALL', { root: config.store });
    assert.deepEqual(g.rows, [{ area: 'pressing', line: 'line1', type: 'press', rated_power: 250, n: 1 }]);
    const all = await sql('SELECT asset, line, area, site FROM assets ORDER BY asset', { root: config.store });
    assert.deepEqual(all.rows, [
      { asset: 'oven1', line: 'line1', area: 'pressing', site: 'plant-a' },
      { asset: 'oven2', line: 'line2', area: 'heat', site: 'plant-a' },
      { asset: 'press1', line: 'line1', area: 'pressing', site: 'plant-a' },
    ]);
  } finally {
    await cleanup();
  }
});
