import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadGatewayConfig, startGateway, WindowPollSimulator, type GatewayStatus } from '../../lib/gateway/index.ts';
import { runCli } from '../helpers/io.ts';
import { tempDir, waitFor, wpSource } from './helpers.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('the status server over real HTTP: /health, /metrics per source, /status JSON; and millwright gateway status / check', async () => {
  const { dir, cleanup } = await tempDir();
  const sim = new WindowPollSimulator({ windowMs: 1500, tags: [{ id: 1, periodMs: 10 }, { id: 2, periodMs: 25 }] });
  try {
    const { port } = await sim.listen();
    const httpPort = await freePort();
    const file = join(dir, 'gateway.json');
    await writeFile(file, JSON.stringify({
      site: 'plant-a', spool: { dir: 'spool', maxBytes: '10mb', flushEvery: '200ms' }, store: 'store', heartbeat: '200ms',
      http: { port: httpPort }, sources: [wpSource(port)],
    }));
    const gw = await startGateway(await loadGatewayConfig(file));
    try {
      const url = `http://127.0.0.1:${httpPort}`;
      assert.equal(gw.url, url);
      await waitFor('readings', () => gw.status().sources[0].readings > 100 && gw.status().flush.readings > 0);
      await new Promise((r) => setTimeout(r, 1100)); // one rate sample

      const health = await fetch(`${url}/health`);
      assert.equal(health.status, 200);
      assert.equal(await health.text(), 'ok\n');

      const m = await fetch(`${url}/metrics`);
      assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await m.text();
      const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}"[\]]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
      assert.equal(value('millwright_gateway_source_state{source="plc7",type="window-poll",state="connected"}'), 1);
      assert.equal(value('millwright_gateway_source_state{source="plc7",type="window-poll",state="disconnected"}'), 0);
      assert.ok(value('millwright_gateway_readings_total{source="plc7"}') > 100);
      assert.ok(Math.abs(value('millwright_gateway_last_value_timestamp_seconds{source="plc7"}') - Date.now() / 1000) < 5);
      assert.ok(value('millwright_gateway_source_spool_bytes{source="plc7"}') >= 0);
      assert.equal(value('millwright_gateway_spool_full{reason="spool-full"}'), 0);
      assert.equal(value('millwright_gateway_spool_max_bytes'), 10 * 1024 * 1024);
      assert.ok(value('millwright_gateway_process_resident_memory_bytes') > 0, 'process metrics');

      const s = (await (await fetch(`${url}/status`)).json()) as GatewayStatus;
      assert.equal(s.site, 'plant-a');
      assert.equal(s.spool.full, false);
      const src = s.sources[0];
      assert.equal(src.name, 'plc7');
      assert.equal(src.state, 'connected');
      assert.ok(src.readingsPerSec > 50 && src.readingsPerSec < 300, `${src.readingsPerSec} readings/s (the device makes 140)`);
      assert.ok(src.lagMs !== undefined && src.lagMs >= 0 && src.lagMs < 3000);

      assert.equal((await fetch(`${url}/nope`)).status, 404);
      assert.equal((await fetch(`${url}/status`, { method: 'POST' })).status, 405);

      const byConfig = await runCli(['gateway', 'status', '--config', file], dir);
      assert.equal(byConfig.code, 0, byConfig.err);
      const lines = byConfig.out.split('\n');
      assert.match(lines[0], /^source\s+type\s+state\s+readings\/s\s+readings\s+last value\s+lag\s+spool bytes$/);
      assert.match(lines[1], /^plc7\s+window-poll\s+connected\s+\d+\.\d\s+\d+\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+\d+\.\d s\s+\d+$/);
      assert.match(byConfig.out, /site plant-a: spool \d+ of 10485760 bytes \([\d.]+ %\), no alarm/);
      const byUrl = await runCli(['gateway', 'status', '--url', url, '--json'], dir);
      assert.equal((JSON.parse(byUrl.out) as GatewayStatus).sources[0].name, 'plc7');
    } finally {
      await gw.stop();
    }
    const down = await runCli(['gateway', 'status', '--url', `http://127.0.0.1:${httpPort}`], dir);
    assert.equal(down.code, 1);
    assert.match(down.err, /no gateway answering at http:\/\/127\.0\.0\.1:\d+ .*is it running\?/);
    const usage = await runCli(['gateway', 'status'], dir);
    assert.equal(usage.code, 2);
    const check = await runCli(['gateway', 'check', '--config', file], dir);
    assert.equal(check.code, 0);
    assert.match(check.out, /gateway\.json: ok \(site plant-a, 1 source\(s\): plc7 \(window-poll\)\)/);
    await writeFile(join(dir, 'bad.yaml'), 'site: plant-a\nspool: { dir: s, maxBytes: 1gb }\nstore: st\nsources:\n  - { name: plc7, type: window-poll, host: h, port: 7, window: 10m, poll: 4m, tags: [ { id: 1, asset: a, signal: s, sclae: 2 } ] }\n');
    const bad = await runCli(['gateway', '--config', 'bad.yaml'], dir);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /sources\[0\]\.tags\[0\]\.sclae: unknown key \(expected one of id, asset, signal, unit\)/);
  } finally {
    await sim.close();
    await cleanup();
  }
});
