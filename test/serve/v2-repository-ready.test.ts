// Readiness during the start-up load of a model repository: between two models of `loadAll` no
// model is LOADING for a moment (the next one's folder is still being read); /v2/health/ready
// must not report the server ready then, or a client (bench:serve's tensor section did) gets
// 404/503 from the model that has not started loading yet.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MANIFEST_FILE } from '../../lib/model/artifact.ts';
import type { ModelPool } from '../../serve/pool.ts';
import { ModelRepository } from '../../serve/v2/repository.ts';

test('loading stays true for the whole of loadAll, also between two models', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mw-repo-ready-'));
  try {
    for (const name of ['a', 'b', 'c']) {
      await mkdir(join(dir, name, '1'), { recursive: true });
      await writeFile(join(dir, name, '1', MANIFEST_FILE), '{}');
    }
    const seen: boolean[] = [];
    const box: { repo?: ModelRepository } = {};
    // A pool that starts after a few turns of the event loop and records `loading` around each start.
    const newPool = (): ModelPool => {
      let healthy = false;
      return {
        get healthy() {
          return healthy;
        },
        info: undefined,
        async start() {
          for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
          healthy = true;
          // Polled right after this model is READY and before the next one is LOADING.
          setImmediate(() => seen.push(box.repo!.loading));
          return {};
        },
        async drain() {},
      } as unknown as ModelPool;
    };
    const repo = new ModelRepository({ dir, newPool });
    box.repo = repo;
    const polls: boolean[] = [];
    const poll = setInterval(() => polls.push(repo.loading), 0);
    await repo.loadAll();
    clearInterval(poll);
    assert.deepEqual(repo.readyModels().sort(), ['a', 'b', 'c']);
    // Every observation taken while loadAll ran, including those between models, said "loading".
    assert.ok(seen.length >= 2, `observations between models: ${seen.length}`);
    assert.deepEqual(seen.slice(0, -1), seen.slice(0, -1).map(() => true));
    assert.ok(polls.every((x) => x), `loading was false during loadAll: ${JSON.stringify(polls)}`);
    assert.equal(repo.loading, false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
