import { waitFor as waitUntil } from '../helpers/wait.ts';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compact, sql } from '../../lib/store/index.ts';
import type { WindowPollSimulator } from '../../lib/gateway/index.ts';

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mw-gw-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** test/helpers/wait.ts's waitFor with the gateway tests' argument order (what first) and a 15 s default. */
export function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  return waitUntil(cond, ms, what);
}

/** A window-poll source entry. */
export function wpSource(port: number, extra: Record<string, unknown> = {}) {
  return {
    name: 'plc7', type: 'window-poll', host: '127.0.0.1', port, window: '1500ms', poll: '300ms', timeout: '1s',
    tags: [{ id: 1, asset: 'oven1', signal: 'temperature' }, { id: 2, asset: 'oven1', signal: 'pressure' }],
    ...extra,
  };
}

export const TAG_SIGNAL: Record<number, string> = { 1: 'temperature', 2: 'pressure' };

export interface Gap {
  signal: string;
  from: number;
  to: number;
}

/**
 * The exact reconciliation: after compaction, every reading the simulator generated is in the
 * store exactly once with its value, or lies inside a recorded gap of its tag; no stored reading
 * lies inside a gap. Returns the gaps and counts.
 */
export async function reconcile(store: string, sim: WindowPollSimulator, asset = 'oven1', opts: { storedInGapsAllowed?: boolean } = {}): Promise<{ gaps: Gap[]; stored: number; lost: number; generated: number; storedInGaps: number }> {
  await compact(store);
  const { rows } = await sql(`SELECT signal, epoch_ms(ts) AS t, value, count(*) OVER (PARTITION BY signal, ts) AS n FROM readings WHERE asset = '${asset}'`, { root: store });
  const ev = await sql(`SELECT DISTINCT id, signal, epoch_ms(from_ts) AS f, epoch_ms(to_ts) AS t FROM events WHERE kind = 'gap' AND asset = '${asset}'`, { root: store });
  const gaps: Gap[] = ev.rows.map((r) => ({ signal: r.signal as string, from: r.f as number, to: r.t as number }));
  const stored = new Map<string, number>();
  for (const r of rows) {
    assert.equal(r.n, 1, `reading ${r.signal}@${r.t} is stored ${r.n} times after compaction`);
    stored.set(`${r.signal}@${r.t}`, r.value as number);
  }
  const inGap = (signal: string, t: number) => gaps.some((g) => g.signal === signal && t >= g.from && t <= g.to);
  let lost = 0;
  let generated = 0;
  let storedInGaps = 0;
  // Readings the device discarded before the gateway first asked are not the gateway's to deliver.
  const since = sim.served[0]?.heldAfter ?? Infinity;
  for (const [tag, list] of sim.generated) {
    const signal = TAG_SIGNAL[tag];
    for (const t of list) {
      if (t <= since) continue;
      generated++;
      const v = stored.get(`${signal}@${t}`);
      if (v === undefined) {
        assert.ok(inGap(signal, t), `reading ${signal}@${new Date(t).toISOString()} is neither in the store nor inside a gap event`);
        lost++;
      } else {
        assert.equal(v, tag * 1000 + (Math.floor(t / (tag === 1 ? 10 : 25)) % 1000), `value of ${signal}@${t}`);
        if (inGap(signal, t)) {
          storedInGaps++;
          assert.ok(opts.storedInGapsAllowed, `stored reading ${signal}@${t} lies inside a gap event`);
        }
      }
    }
  }
  assert.equal([...stored.keys()].filter((k) => Number(k.split('@')[1]) > since).length, generated - lost, 'the store holds readings the simulator never generated');
  return { gaps, stored: stored.size, lost, generated, storedInGaps };
}
