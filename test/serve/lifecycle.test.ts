// Deadlines, blue/green reloads and registry polling, through real HTTP. Uses hand-built linear
// artifacts whose speed and health the test controls (same worker/pool path as real models).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type ModelSource, type RunningServer } from '../../serve/index.ts';
import { writeLinearModel } from './fixtures/linear-model.ts';
import { http, invoke, LINEAR_LOADER, scratch } from './helpers.ts';

let dir: string;
let cleanup: () => Promise<void>;
const SLOW = 999; // first value that makes the fixture model spin the CPU

before(async () => {
  const s = await scratch();
  dir = s.dir;
  cleanup = s.cleanup;
  await writeLinearModel(join(dir, 'v1'), { version: 'v1', weights: { a: 1, b: 1 }, busyMs: 10_000, busyMarker: SLOW });
  await writeLinearModel(join(dir, 'v2'), { version: 'v2', weights: { a: 10, b: 10 } });
  await writeLinearModel(join(dir, 'broken'), { version: 'v3-broken', weights: { a: 1, b: 1 }, broken: true });
  await writeLinearModel(join(dir, 'tampered'), { version: 'v4-tampered', weights: { a: 2, b: 2 } });
  await writeFile(join(dir, 'tampered', 'coefficients.json'), '{"weights":{"a":3,"b":3},"intercept":0,"busyMs":0,"busyMarker":null,"broken":false}');
});
after(async () => cleanup?.());

describe('per-request deadline', () => {
  let srv: RunningServer;
  before(async () => {
    srv = await startServer({ modelDir: join(dir, 'v1'), loader: LINEAR_LOADER, port: 0, workers: 2, timeoutMs: 400, log: () => {} });
  });
  after(async () => srv?.close());

  test('a CPU-bound predict is abandoned at the deadline: 503 + Retry-After, and the server keeps answering', async () => {
    const t0 = Date.now();
    const slow = await invoke(srv.url, `${SLOW},1\n`, 'text/csv');
    const took = Date.now() - t0;
    assert.equal(slow.status, 503);
    assert.equal(slow.headers.get('retry-after'), '1');
    assert.equal(slow.json<{ error_code: string }>().error_code, 'DEADLINE_EXCEEDED');
    // The model would spin for 10 s; anything near the 400 ms deadline proves it was abandoned (slack for a loaded CI box).
    assert.ok(took < 2500, `answered after ${took} ms; the deadline is 400 ms`);
    // The other worker answers at once; the replaced one comes back.
    const ok = await invoke(srv.url, '1,2\n', 'text/csv');
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.json(), { predictions: [3] });
  });

  test('both workers stuck: every caller still gets an answer by its deadline, then service recovers', async () => {
    const t0 = Date.now();
    const replies = await Promise.all([
      invoke(srv.url, `${SLOW},1\n`, 'text/csv'),
      invoke(srv.url, `${SLOW},2\n`, 'text/csv'),
      invoke(srv.url, '1,1\n', 'text/csv'), // queued behind the stuck ones
    ]);
    assert.ok(Date.now() - t0 < 3000);
    assert.deepEqual(replies.slice(0, 2).map((r) => r.status), [503, 503]);
    // The queued request's deadline runs out together with the stuck ones': no worker is free
    // before it (a replacement only starts once a stuck worker is abandoned, and needs a moment to boot).
    assert.equal(replies[2]!.status, 503, replies[2]!.text);
    assert.equal(replies[2]!.json<{ error_code: string }>().error_code, 'DEADLINE_EXCEEDED');
    for (let i = 0; i < 200; i++) {
      const r = await invoke(srv.url, '2,2\n', 'text/csv');
      if (r.status === 200) {
        assert.deepEqual(r.json(), { predictions: [4] });
        return;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.fail('server did not recover after stuck workers were replaced');
  });

  test('admin routes are off (404) without a token', async () => {
    const r = await http(`${srv.url}/admin/reload`, { method: 'POST', body: '{}', headers: { authorization: 'Bearer x' } });
    assert.equal(r.status, 404);
  });
});

describe('blue/green reload', () => {
  const TOKEN = 'reload-token';
  let srv: RunningServer;
  before(async () => {
    srv = await startServer({ modelDir: join(dir, 'v2'), loader: LINEAR_LOADER, port: 0, workers: 2, adminToken: TOKEN, log: () => {} });
  });
  after(async () => srv?.close());

  const reload = (model: string) =>
    http(`${srv.url}/admin/reload`, { method: 'POST', body: JSON.stringify({ model }), headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' } });

  test('reloads under load swap versions with no failed request; broken versions are rejected and the old keeps serving', async () => {
    let stop = false;
    const seen: { status: number; y?: number }[] = [];
    const client = async () => {
      while (!stop) {
        const r = await invoke(srv.url, '1,2\n', 'text/csv');
        seen.push({ status: r.status, y: r.status === 200 ? r.json<{ predictions: number[] }>().predictions[0] : undefined });
      }
    };
    const clients = Array.from({ length: 6 }, client);
    await new Promise((r) => setTimeout(r, 150));

    const toV1 = await reload(join(dir, 'v1'));
    assert.equal(toV1.status, 200, toV1.text);
    assert.equal(toV1.json<{ current: { version: string } }>().current.version, 'v1');

    const broken = await reload(join(dir, 'broken'));
    assert.equal(broken.status, 503, broken.text);
    assert.match(broken.json<{ message: string }>().message, /health check failed.*still serving version v1/);

    const tampered = await reload(join(dir, 'tampered'));
    assert.equal(tampered.status, 500, tampered.text);
    assert.match(tampered.json<{ message: string }>().message, /checksum mismatch.*still serving version v1/);

    const missing = await reload(join(dir, 'does-not-exist'));
    // The loader's own ENOENT is not a millwright code: it crosses the worker as INTERNAL, and a
    // reload that fails that way answers UNAVAILABLE (the old version keeps serving).
    assert.equal(missing.status, 503, missing.text);
    assert.equal(missing.json<{ error_code: string }>().error_code, 'UNAVAILABLE');
    assert.match(missing.json<{ message: string }>().message, /does-not-exist was rejected: ENOENT.*still serving version v1/);

    const back = await reload(join(dir, 'v2'));
    assert.equal(back.status, 200);
    await new Promise((r) => setTimeout(r, 150));
    stop = true;
    await Promise.all(clients);

    assert.ok(seen.length > 50, `only ${seen.length} requests under load`);
    assert.deepEqual(seen.filter((s) => s.status !== 200), [], 'no request failed during reloads');
    assert.ok(seen.every((s) => s.y === 30 || s.y === 3), 'every answer came from v1 or v2');
    assert.ok(seen.some((s) => s.y === 3), 'v1 served after the first swap');
    assert.equal(seen.at(-1)!.y, 30, 'v2 serves at the end');
    const metrics = (await http(`${srv.url}/metrics`)).text;
    assert.match(metrics, /millwright_model_reloads_total\{result="swapped"\} 2/);
    assert.match(metrics, /millwright_model_reloads_total\{result="rejected"\} 3/);
    assert.match(metrics, /millwright_model_info\{name="linear",version="v2",algorithm="test-linear"\} 1/);
  });
});

describe('registry polling', () => {
  test('a new version from the source is loaded and swapped; a broken one is skipped', async () => {
    let latest = { dir: join(dir, 'v2'), version: 'v2' };
    const source: ModelSource = { latest: async () => latest, pollMs: 50 };
    const srv = await startServer({ source, loader: LINEAR_LOADER, port: 0, workers: 1, log: () => {} });
    try {
      assert.equal(srv.model()?.version, 'v2');
      latest = { dir: join(dir, 'broken'), version: 'v3-broken' };
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(srv.model()?.version, 'v2');
      assert.equal((await invoke(srv.url, '1,1\n', 'text/csv')).status, 200);
      latest = { dir: join(dir, 'v1'), version: 'v1' };
      // Loading a version takes seconds on a loaded CI box: wait up to 20 s.
      for (let i = 0; i < 400 && srv.model()?.version !== 'v1'; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(srv.model()?.version, 'v1');
      assert.deepEqual((await invoke(srv.url, '1,1\n', 'text/csv')).json(), { predictions: [2] });
    } finally {
      await srv.close();
    }
  });
});
