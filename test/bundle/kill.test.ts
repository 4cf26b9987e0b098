// A deploy killed with SIGKILL at points spread over its whole run (while it unpacks a 16 MB model,
// while it renames, while it health-checks and switches) never leaves the edge folder in between:
// the pointer names either the old pair or the complete new one, every visible version verifies,
// and the next deploy of the same bundle completes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

import { existsSync, readdirSync } from 'node:fs';
import { cp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as aq from 'arquero';
import { buildModelBundle, currentDeployment, deployBundle, deploymentRecordFile, verifyReceived } from '../../lib/bundle/index.ts';
import { loadModel as loadPair } from '../../lib/bundle/edge-loader.ts';
import { createHash, randomBytes } from 'node:crypto';
import { healthCheck } from '../../serve/health-check.ts';
import { repoRoot } from '../helpers/data.ts';
import { codeBundle, fixture, modelBundle, trainVersion, type Fixture } from './helpers.ts';
import { cliArgs } from '../helpers/cli.ts';

let f: Fixture;
let big: string;
let template: string;
before(async () => {
  f = await fixture('mw-bundle-kill-');
  // A large model: the trained artifact plus a 16 MB lookup table listed in its manifest.
  const modelDir = await trainVersion(f, 'v2', 50);
  const table = randomBytes(16 * 1024 * 1024);
  await writeFile(join(modelDir, 'lookup.bin'), table);
  const manifest = JSON.parse(await readFile(join(modelDir, 'model.json'), 'utf8'));
  manifest.files['lookup.bin'] = createHash('sha256').update(table).digest('hex');
  await writeFile(join(modelDir, 'model.json'), JSON.stringify(manifest, null, 2));
  big = join(f.dir, 'bundles', 'model-big.mwb');
  await buildModelBundle(modelDir, big, f.key);
  // The edge folder every trial starts from: v1 with code 1.0.0 running.
  template = join(f.dir, 'edge-template');
  await deployBundle(await codeBundle(f, '1.0.0'), { to: template, trust: f.trust, healthCheck });
  await deployBundle(await modelBundle(f, 'v1', 0.001), { to: template, trust: f.trust, healthCheck });
});
after(async () => f?.cleanup());

/** Whether a deploy is unpacking (its own folder under .staging; an earlier deploy leaves .staging empty). */
function staging(dir: string): boolean {
  try {
    return readdirSync(join(dir, '.staging')).length > 0;
  } catch {
    return false;
  }
}

/** Runs `millwright deploy` in a child; kills it `killAfterMs` after its staging folder appears (undefined: let it finish). */
async function runDeploy(dir: string, killAfterMs?: number): Promise<{ killed: boolean; code: number | null; stagedAt?: number; endedAt: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, cliArgs('deploy', big, '--to', dir, '--trust', f.trust), { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let done = false;
  void exited.then(() => (done = true));
  let stagedAt: number | undefined;
  let killed = false;
  // Bounded: 60 s at 2 ms steps.
  for (let i = 0; i < 30_000 && !done; i++) {
    if (stagedAt === undefined && staging(dir)) stagedAt = Date.now() - t0;
    if (killAfterMs !== undefined && stagedAt !== undefined && Date.now() - t0 >= stagedAt + killAfterMs) {
      killed = child.kill('SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  const code = await exited;
  if (!killed) assert.equal(code, 0, err);
  return { killed, code, stagedAt, endedAt: Date.now() - t0 };
}

test('SIGKILL at 12 points of a deploy leaves either the old pair or the complete new one', async (t) => {
  const calib = join(f.dir, 'edge-calib');
  await cp(template, calib, { recursive: true });
  const full = await runDeploy(calib);
  assert.ok(full.stagedAt !== undefined, 'the deploy unpacked into .staging');
  assert.equal((await currentDeployment(calib))?.model.id, 'press-energy@v2');
  const window = full.endedAt - full.stagedAt!;
  t.diagnostic(`calibration: staging after ${full.stagedAt} ms, done after ${full.endedAt} ms`);

  const outcomes: string[] = [];
  const row = aq.table({ production_units: [120], ambient_temp_c: [18.5] });
  for (let i = 0; i < 12; i++) {
    const dir = join(f.dir, `edge-trial-${i}`);
    await cp(template, dir, { recursive: true });
    const r = await runDeploy(dir, Math.round((window * 0.95 * i) / 11));
    const rec = await currentDeployment(dir);
    assert.ok(rec, `trial ${i}: a current pair`);
    assert.ok(rec.seq === 1 || (rec.seq === 2 && rec.model.id === 'press-energy@v2'), `trial ${i}: seq ${rec.seq}`);
    // Every visible version is whole, and the running pair answers.
    for (const kind of ['model', 'code'] as const) {
      for (const id of (await readdir(join(dir, kind === 'model' ? 'models' : 'code'))).filter((n) => !n.startsWith('.') && n !== 'package.json')) await verifyReceived(dir, kind, id);
    }
    const model = await loadPair(deploymentRecordFile(dir, rec.seq));
    assert.ok(Number.isFinite((await model.predict(row))[0] as number));
    outcomes.push(`${r.killed ? 'killed' : 'finished'}:${rec.seq === 1 ? 'old' : 'new'}${existsSync(join(dir, 'models', 'press-energy@v2')) ? '+received' : ''}`);
    // The lock of the killed deploy is broken (its process is gone) and the next deploy completes.
    const again = await deployBundle(big, { to: dir, trust: f.trust, healthCheck });
    assert.equal((await currentDeployment(dir))?.model.id, 'press-energy@v2', `trial ${i}: ${JSON.stringify(again)}`);
    assert.equal(staging(dir), false);
    await rm(dir, { recursive: true, force: true });
  }
  t.diagnostic(`outcomes: ${outcomes.join(', ')}`);
  // Timing on a loaded machine varies, so the split is not fixed, but most trials must really be cut.
  assert.ok(outcomes.filter((o) => o.startsWith('killed')).length >= 8, `most trials were killed mid-deploy: ${outcomes.join(', ')}`);
  assert.ok(outcomes.filter((o) => o.startsWith('killed:old')).length >= 2, `some kills landed before the switch: ${outcomes.join(', ')}`);
});
