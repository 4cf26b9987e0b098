// A server following an edge folder (serve --deployment): a deploy and a rollback are served
// blue/green while a client loop keeps posting; not one request fails.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deployBundle } from '../../lib/bundle/index.ts';
import { DEPLOYMENT_LOADER, deploymentSource, startServer } from '../../serve/index.ts';
import { healthCheck } from '../../serve/health-check.ts';
import { runCli } from '../helpers/io.ts';
import { codeBundle, fixture, modelBundle, type Fixture } from './helpers.ts';
import { join } from 'node:path';

let f: Fixture;
before(async () => {
  f = await fixture('mw-bundle-serve-');
});
after(async () => f?.cleanup());

test('deploy and rollback under load: the server follows the current pair with no failed request', async () => {
  const dir = join(f.dir, 'edge');
  await deployBundle(await codeBundle(f, '1.0.0'), { to: dir, trust: f.trust, healthCheck });
  await deployBundle(await modelBundle(f, 'v1', 0.001), { to: dir, trust: f.trust, healthCheck });
  const m2 = await modelBundle(f, 'v2', 50);
  const srv = await startServer({ source: deploymentSource(dir, { pollMs: 100, trust: f.trust }), loader: DEPLOYMENT_LOADER, port: 0, workers: 1, log: () => {} });
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const seen = new Set<string>();
  const loop = (async () => {
    // Bounded: at most 20 000 requests.
    for (let i = 0; i < 20_000 && !stop; i++) {
      const r = await fetch(`${srv.url}/invocations`, { method: 'POST', body: '120,18.5\n', headers: { 'content-type': 'text/csv', accept: 'application/json' } }).then(
        async (x) => ({ status: x.status, text: await x.text() }),
        (e: Error) => ({ status: 0, text: e.message }),
      );
      if (r.status === 200) {
        ok++;
        seen.add(r.text);
      } else failures.push(`${r.status} ${r.text}`);
    }
  })();
  const waitFor = async (version: string) => {
    for (let i = 0; i < 600 && srv.model()?.version !== version; i++) await new Promise((r) => setTimeout(r, 50));
    return srv.model()?.version;
  };
  try {
    assert.equal(srv.model()?.version, 'v1');
    await new Promise((r) => setTimeout(r, 300));
    await deployBundle(m2, { to: dir, trust: f.trust, healthCheck });
    assert.equal(await waitFor('v2'), 'v2');
    await new Promise((r) => setTimeout(r, 300));
    const rb = await runCli(['rollback', '--dir', dir], f.dir);
    assert.equal(rb.code, 0, rb.err);
    assert.equal(await waitFor('v1'), 'v1');
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    stop = true;
    await loop;
    await srv.close();
  }
  assert.deepEqual(failures, []);
  assert.ok(ok > 20, `${ok} requests answered`);
  assert.equal(seen.size, 2, `answers of both model versions: ${[...seen].join(' | ')}`);
});
