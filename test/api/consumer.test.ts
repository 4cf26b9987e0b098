import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/data.ts';
import { ensureBuilt } from '../helpers/build.ts';

const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');

// consumer.ts lives inside the package, so `import 'millwright'` resolves by self-reference
// through package.json `exports` to the built dist/*.d.ts, as a dependent project's would.
test('a consumer importing millwright, millwright/serve, millwright/reports and millwright/datasets type-checks against the built .d.ts', { timeout: 240_000 }, () => {
  ensureBuilt();
  const r = spawnSync(process.execPath, [tsc, '-p', join(repoRoot, 'test/api/consumer/tsconfig.json'), '--listFiles'], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = `${r.stdout}${r.stderr}`;
  // skipLibCheck is off so errors in millwright's own .d.ts count; third-party declarations
  // (Observable Plot's need the DOM lib and d3's types) are not ours to check.
  const errors = out.split('\n').filter((l) => /error TS\d+/.test(l) && !l.includes('node_modules/'));
  assert.deepEqual(errors, [], `consumer does not type-check against the built .d.ts:\n${errors.join('\n')}`);
  assert.ok(/error TS\d+/.test(out) || r.status === 0, `tsc failed without diagnostics:\n${out.slice(-2000)}`);
  for (const entry of ['millwright', 'millwright/serve', 'millwright/reports', 'millwright/datasets']) {
    const dir = entry === 'millwright' ? 'lib' : entry.slice('millwright/'.length);
    assert.ok(out.split('\n').includes(join(repoRoot, 'dist', dir, 'index.d.ts')), `${entry} resolves to dist/${dir}/index.d.ts`);
  }
});
