// Serving from lib/model's real registry: two random forests trained through the real training
// path, registered and approved; the server follows the latest Approved version by polling,
// and a version whose artifact was tampered with after approval is never swapped in.
import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { approveVersion, registerModel } from '../../lib/model/index.ts';
import { startServer } from '../../serve/index.ts';
import { registrySource } from '../../serve/registry-source.ts';
import { trainEnergyForest, RF_FEATURES } from './fixtures/rf-model.ts';
import { csv, invoke, scratch } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
before(async () => {
  const s = await scratch();
  dir = s.dir;
  cleanup = s.cleanup;
});
after(async () => cleanup?.());

test('follows the latest Approved registry version; pending and tampered versions are not served', async () => {
  const registry = join(dir, 'registry');
  const group = 'steel-energy';
  const one = await trainEnergyForest(join(dir, 'ml1'), { trees: 5, maxDepth: 4, rows: 1500, version: 'small' });
  const two = await trainEnergyForest(join(dir, 'ml2'), { trees: 20, maxDepth: 8, rows: 3000, version: 'large' });
  const row = csv([one.data[5]!.slice(0, RF_FEATURES.length)]);

  const v1 = await registerModel(one.modelDir, { group, registry });
  await approveVersion(group, v1.record.version, { registry });
  const srv = await startServer({ source: registrySource(registry, group, 100), port: 0, workers: 1, log: () => {} });
  const waitFor = async (version: string) => {
    for (let i = 0; i < 400 && srv.model()?.version !== version; i++) await new Promise((r) => setTimeout(r, 50));
    return srv.model()?.version;
  };
  try {
    assert.equal(srv.model()?.version, 'small');
    const first = (await invoke(srv.url, row, 'text/csv')).text;

    // Registered but not approved: not served.
    const v2 = await registerModel(two.modelDir, { group, registry });
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(srv.model()?.version, 'small');

    await approveVersion(group, v2.record.version, { registry });
    assert.equal(await waitFor('large'), 'large');
    const second = (await invoke(srv.url, row, 'text/csv')).text;
    assert.notEqual(second, first, 'the bigger forest answers differently');

    // A third version is approved but its artifact is modified afterwards: rejected, v2 keeps serving.
    const v3 = await registerModel(one.modelDir, { group, registry });
    const v3Dir = join(registry, group, 'versions', String(v3.record.version), 'model');
    await approveVersion(group, v3.record.version, { registry });
    // (Loading a version takes far longer than this write, so even a poll that sees v3 at once
    // meets the tampered file when its workers verify the checksums.)
    await chmod(join(v3Dir, 'forest.json'), 0o644).catch(() => undefined);
    await writeFile(join(v3Dir, 'forest.json'), '{"tampered":true}');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(srv.model()?.version, 'large');
    assert.equal((await invoke(srv.url, row, 'text/csv')).text, second);
  } finally {
    await srv.close();
  }
});
