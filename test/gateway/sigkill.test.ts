import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { flushEvents, WindowPollSimulator } from '../../lib/gateway/index.ts';
import { flushSpool } from '../../lib/spool/index.ts';
import { sql } from '../../lib/store/index.ts';
import { reconcile, tempDir, waitFor, wpSource } from './helpers.ts';
import { cliArgs } from '../helpers/cli.ts';

const TRIALS = 20;

function runGatewayChild(config: string, log: string[]): { child: ChildProcess; exited: Promise<number | null> } {
  const child = spawn(process.execPath, cliArgs('gateway', '--config', config), { cwd: process.cwd(), stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

test(`SIGKILL of the gateway process at random points (${TRIALS} trials): every reading is in the store exactly once after compaction or inside a gap event`, { timeout: 600_000 }, async () => {
  const { dir, cleanup } = await tempDir();
  const sim = new WindowPollSimulator({ windowMs: 4000, tags: [{ id: 1, periodMs: 10 }, { id: 2, periodMs: 25 }], record: true });
  const log: string[] = [];
  try {
    const { port } = await sim.listen();
    const config = join(dir, 'gateway.json');
    await writeFile(config, JSON.stringify({
      site: 'plant-a', spool: { dir: 'spool', maxBytes: '50mb', flushEvery: '300ms', linger: '2ms' }, store: 'store', heartbeat: '300ms',
      sources: [wpSource(port, { window: '4s', poll: '500ms' })],
    }));
    // A seeded generator, so a failing run can be replayed.
    let seed = Number(process.env.MW_KILL_SEED ?? Date.now() % 100_000);
    const seedUsed = seed;
    const rand = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    for (let trial = 0; trial < TRIALS; trial++) {
      const served = sim.served.length;
      const { child, exited } = runGatewayChild(config, log);
      await waitFor(`trial ${trial}: the gateway's first poll (seed ${seedUsed})`, () => sim.served.length > served, 30_000);
      await sleep(Math.floor(rand() * 1500));
      child.kill('SIGKILL');
      await exited;
      await sleep(Math.floor(rand() * 2500));
    }
    sim.freeze();
    const served = sim.served.length;
    const { child, exited } = runGatewayChild(config, log);
    await waitFor('the final run to poll twice', () => sim.served.length >= served + 2, 30_000);
    await sleep(800); // at least two flush cycles
    child.kill('SIGTERM');
    assert.equal(await exited, 0, log.join(''));
    await flushSpool({ spool: join(dir, 'spool'), store: join(dir, 'store') });
    await flushEvents(join(dir, 'spool'), join(dir, 'store'));
    // A kill between a poll's acknowledgement and its cursor write re-reads from the older cursor:
    // the readings are stored once after compaction, but a gap found on that restart also spans
    // them (a gap says "may be lost from here to there"; every lost reading is inside one).
    const r = await reconcile(join(dir, 'store'), sim, 'oven1', { storedInGapsAllowed: true });
    assert.ok(r.stored > 1000, `${r.stored} readings stored (seed ${seedUsed})`);
    const restarts = await sql("SELECT count(*) AS n FROM events WHERE source = 'plc7' AND kind = 'connected'", { root: join(dir, 'store') });
    assert.ok((restarts.rows[0].n as number) >= 1, 'connected events recorded');
    // Each dead interval longer than the window is a lost interval: at least the gaps recorded cover every lost reading (checked above).
    process.stdout.write(`# seed ${seedUsed}: ${r.generated} generated, ${r.stored} stored once, ${r.lost} lost inside ${r.gaps.length} gap event(s) (${r.storedInGaps} stored readings also inside one), ${restarts.rows[0].n} connects\n`);
  } finally {
    await sim.close();
    await cleanup();
  }
});
