// The whole gateway as a user runs it: one YAML config with an MQTT source (real mosquitto) and a
// Modbus TCP source (real pymodbus), started by the real runner; every acknowledged reading lands
// in the store exactly once, the events table records the connections, heartbeats flow, and
// `millwright sql` joins it all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadGatewayConfig, startGateway } from '../../lib/gateway/index.ts';
import { sql } from '../../lib/store/index.ts';
import { Mosquitto, Publisher } from '../helpers/mosquitto.ts';
import { startPymodbus } from '../helpers/pymodbus.ts';
import { tempDir, waitFor } from './helpers.ts';

test('gateway --config: MQTT and Modbus sources into the store, exactly once, with events and heartbeats', async () => {
  const { dir, cleanup } = await tempDir();
  const broker = await Mosquitto.start();
  const modbus = await startPymodbus({ size: 16, typed: [{ table: 'hr', address: 0, type: 'float32', value: 4.25 }] });
  try {
    const file = join(dir, 'gateway.yaml');
    await writeFile(file, `site: plant-a
spool: { dir: spool, maxBytes: 64mb, flushEvery: 300ms }
store: store
heartbeat: 300ms
sources:
  - { name: line, type: mqtt, url: "${broker.url}", clientId: mw-e2e, topics: [ { topic: "plant/+/+", format: json, asset: "{1}", signal: "{2}", value: "$.v", ts: "$.t" } ] }
  - { name: pump, type: modbus, host: 127.0.0.1, port: ${modbus.port}, unitId: 1, poll: 200ms,
      registers: [ { kind: holding, address: 0, type: float32, wordOrder: big, scale: 10, asset: pump1, signal: pressure, unit: bar } ] }
`);
    const gw = await startGateway(await loadGatewayConfig(file));
    try {
      await waitFor('both sources connected', () => gw.status().sources.every((s) => s.state === 'connected'), 20_000);
      const pub = await Publisher.connect(broker.url, 'e2e-publisher');
      const t0 = Date.UTC(2026, 11, 1, 8);
      for (let i = 0; i < 500; i++) pub.publish(`plant/press${i % 5}/temperature`, i, JSON.stringify({ v: i, t: t0 + i * 1000 }));
      await pub.settle();
      await pub.end();
      await waitFor('all MQTT readings acknowledged', () => (gw.status().sources.find((s) => s.name === 'line')?.readings ?? 0) >= 500, 20_000);
      await waitFor('modbus polls', () => (gw.status().sources.find((s) => s.name === 'pump')?.readings ?? 0) >= 3, 20_000);
    } finally {
      await gw.stop();
    }
    const store = join(dir, 'store');
    const q = async <T>(query: string) => (await sql(query, { root: store })).rows as unknown as T[];
    const mqttRows = await q<{ asset: string; n: number; d: number; lo: number; hi: number }>("SELECT asset, count(*) AS n, count(DISTINCT value) AS d, min(value) AS lo, max(value) AS hi FROM readings WHERE signal = 'temperature' GROUP BY 1 ORDER BY 1");
    assert.deepEqual(mqttRows.map((r) => [r.asset, Number(r.n), Number(r.d)]), [0, 1, 2, 3, 4].map((k) => [`press${k}`, 100, 100]), 'every acknowledged message exactly once');
    const pressure = await q<{ value: number }>("SELECT DISTINCT value FROM readings WHERE asset = 'pump1' AND signal = 'pressure'");
    assert.deepEqual(pressure.map((p) => p.value), [42.5], 'float32 4.25 scaled by 10');
    const beats = await q<{ asset: string; n: number }>("SELECT asset, count(*) AS n FROM readings WHERE signal = '_heartbeat' GROUP BY 1 ORDER BY 1");
    assert.deepEqual(beats.map((b) => b.asset), ['line', 'pump']);
    const events = await q<{ source: string; kind: string }>("SELECT source, kind FROM events WHERE kind = 'connected' ORDER BY source");
    assert.deepEqual([...new Set(events.map((e) => e.source))], ['line', 'pump']);
  } finally {
    await modbus.stop();
    await broker.close();
    await cleanup();
  }
});
