import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseGatewayConfig, startGateway, SpoolWriter, WindowPollSimulator, type GatewayHandle } from '../../lib/gateway/index.ts';
import { isErrorCode } from '../../lib/errors/index.ts';
import { sql } from '../../lib/store/index.ts';
import { reconcile, tempDir, waitFor, wpSource } from './helpers.ts';

test('SpoolWriter: an emit that would pass maxBytes rejects with RESOURCE_EXHAUSTED; waitForSpace resolves after a flush frees space', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const w = new SpoolWriter({ dir, site: 's', maxBytes: 4096, linger: 1 });
    await w.recount();
    const rows = (n: number, t0: number) => Array.from({ length: n }, (_, i) => ({ ts: t0 + i, asset: 'a', signal: 'x', value: i, quality: 0 }));
    await w.emit('src', rows(50, Date.UTC(2024, 0, 1)));
    assert.ok(w.bytes >= 29 * 50 && w.bytes < 4096, `${w.bytes} bytes after 50 readings`);
    await assert.rejects(w.emit('src', rows(100, Date.UTC(2024, 0, 2))), (err) => isErrorCode(err, 'RESOURCE_EXHAUSTED') && /spool .* is full \(\d+ of 4096 bytes\)/.test((err as Error).message));
    assert.equal(w.alarm?.reason, 'spool-full');
    // While the alarm stands even a small emit is refused (one clear on/off signal for sources).
    await assert.rejects(w.emit('src', rows(1, Date.UTC(2024, 0, 3))), (err) => isErrorCode(err, 'RESOURCE_EXHAUSTED'));
    let resolved = false;
    const space = w.waitForSpace(new AbortController().signal).then(() => (resolved = true));
    await w.afterFlush(false);
    assert.equal(resolved, false, 'nothing was flushed: still full');
    await rm(dir, { recursive: true });
    await mkdir(dir);
    await w.afterFlush(true);
    await space;
    assert.equal(w.alarm, undefined);
    assert.equal(w.bytes, 0);
  } finally {
    await cleanup();
  }
});

async function metric(url: string, name: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).join('\n');
}

/** Runs a gateway whose store is blocked (a file where the site folder goes) until the spool alarm, then unblocks it. */
async function fillAndRecover(dir: string, spoolDir: string, maxBytes: string, reason: 'spool-full' | 'disk-full') {
  const sim = new WindowPollSimulator({ windowMs: 1500, tags: [{ id: 1, periodMs: 10 }, { id: 2, periodMs: 25 }], record: true });
  let gw: GatewayHandle | undefined;
  try {
    const { port } = await sim.listen();
    await mkdir(join(dir, 'store'), { recursive: true });
    const blocker = join(dir, 'store', 'site=plant-a');
    await writeFile(blocker, 'not a folder: the store cannot be written');
    const config = await parseGatewayConfig(
      { site: 'plant-a', spool: { dir: spoolDir, maxBytes, flushEvery: '200ms', linger: '2ms' }, store: 'store', heartbeat: '250ms', http: { port: 0 }, sources: [wpSource(port)] },
      dir,
    );
    gw = await startGateway(config);
    const url = gw.url!;
    let maxSeen = 0;
    await waitFor('the spool alarm', () => {
      const st = gw!.status();
      maxSeen = Math.max(maxSeen, st.spool.bytes);
      return st.spool.full && st.sources[0].state === 'paused';
    }, 30_000);
    const st = gw.status();
    assert.equal(st.spool.alarm?.reason, reason);
    assert.ok(st.flush.failures > 0 && (reason === 'disk-full' ? /not writable|ENOSPC/ : /not writable/).test(st.flush.lastError ?? ''), `the flush is failing: ${st.flush.lastError}`);
    assert.equal((await fetch(`${url}/health`)).status, 503);
    assert.match(await metric(url, 'millwright_gateway_spool_full'), new RegExp(`reason="${reason}"\\} 1`));
    assert.match(await metric(url, 'millwright_gateway_source_state{source="plc7",type="window-poll",state="paused"}'), /\} 1$/);
    // Polling stops while the spool is full.
    const polls = sim.served.length;
    await sleep(2000); // longer than the 1.5 s window: readings are lost at the device
    assert.ok(sim.served.length <= polls + 1, `polled ${sim.served.length - polls} times while full`);
    if (reason === 'spool-full') assert.ok(maxSeen <= config.spool.maxBytes, `spool reached ${maxSeen} bytes, bound ${config.spool.maxBytes}`);
    await rm(blocker);
    await waitFor('the alarm to clear', () => !gw!.status().spool.full && gw!.status().sources[0].state === 'connected', 30_000);
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const after = sim.served.length;
    await waitFor('polls after the recovery', () => sim.served.length >= after + 3);
    sim.freeze();
    const n = sim.served.length;
    await waitFor('a poll after the freeze', () => sim.served.length >= n + 2);
    await sleep(50);
    await gw.stop();
    const r = await reconcile(config.store, sim);
    assert.equal(r.gaps.length, 2, 'the lost interval of each tag is a gap event');
    assert.ok(r.lost > 50 && r.stored > 100, `${r.lost} lost, ${r.stored} stored`);
    const ev = await sql("SELECT source, kind FROM events WHERE kind IN ('paused', 'resumed', 'spool-full', 'spool-ok', 'disk-full', 'error')", { root: config.store });
    const kinds = new Set(ev.rows.map((e) => `${e.source}:${e.kind}`));
    for (const k of ['plc7:paused', 'plc7:resumed', 'gateway:spool-ok']) assert.ok(kinds.has(k), `event ${k} recorded (${[...kinds].join(', ')})`);
    return r;
  } finally {
    await gw?.stop();
    await sim.close();
  }
}

test('spool full: emits refused, polling stops, the alarm shows in /status /metrics /health, the loss is a gap, nothing acknowledged is lost', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    await fillAndRecover(dir, 'spool', '24kb', 'spool-full');
  } finally {
    await cleanup();
  }
});

test('disk full (ENOSPC on a 256 kB tmpfs) is handled like a full spool', async () => {
  const { dir, cleanup } = await tempDir();
  const mnt = join(dir, 'spool');
  await mkdir(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
  try {
    await fillAndRecover(dir, 'spool', '1gb', 'disk-full');
  } finally {
    execFileSync('umount', [mnt]);
    await cleanup();
  }
});
