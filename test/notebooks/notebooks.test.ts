import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, realDataDir } from '../helpers/data.ts';
import { KERNEL_NAME, writeKernelSpec } from '../../notebooks/install-kernel.ts';
import { ensureBuilt } from '../helpers/build.ts';

const JUPYTER = '/usr/bin/jupyter';
const dir = join(repoRoot, 'notebooks');
const notebooks = readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();

interface Notebook {
  metadata: { kernelspec?: { name?: string } };
  cells: Array<{ cell_type: string; source: string | string[]; outputs?: Array<{ output_type: string; name?: string; text?: string | string[]; data?: Record<string, unknown> }>; execution_count?: number | null }>;
}
const text = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join('') : s ?? '');

test('notebooks are committed without outputs and use the millwright kernel', () => {
  assert.ok(notebooks.length >= 4, `expected the four analyst notebooks, found ${notebooks.join(', ')}`);
  for (const f of notebooks) {
    const nb = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Notebook;
    assert.equal(nb.metadata.kernelspec?.name, KERNEL_NAME, `${f} kernel`);
    for (const c of nb.cells.filter((c) => c.cell_type === 'code')) {
      assert.deepEqual(c.outputs, [], `${f}: committed with outputs`);
      assert.equal(c.execution_count, null, `${f}: committed with execution counts`);
    }
  }
});

const noJupyter = existsSync(JUPYTER) ? (realDataDir() ? false : 'real datasets not found (set MILLWRIGHT_DATA_DIR)') : `${JUPYTER} not installed (apt install jupyter-nbconvert)`;

for (const f of notebooks) {
  test(`notebook ${f} executes headless with the tslab kernel, no cell errors`, { skip: noJupyter, timeout: 240_000 }, () => {
    const jupyterPath = mkdtempSync(join(tmpdir(), 'mw-jupyter-'));
    const out = mkdtempSync(join(tmpdir(), 'mw-nb-'));
    try {
      ensureBuilt(); // cells import 'millwright', i.e. dist/
      writeKernelSpec(jupyterPath);
      const r = spawnSync(JUPYTER, ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=180', '--output-dir', out, join(dir, f)], {
        env: { ...process.env, JUPYTER_PATH: jupyterPath, MILLWRIGHT_DATA_DIR: realDataDir()!, NODE_OPTIONS: '' },
        encoding: 'utf8',
        timeout: 230_000,
      });
      // nbconvert exits 1 on the first failing cell; its stderr names the cell and the error.
      assert.equal(r.status, 0, `nbconvert failed on ${f}:\n${(r.stderr ?? '').slice(-4000)}`);
      const nb = JSON.parse(readFileSync(join(out, f), 'utf8')) as Notebook;
      const outputs = nb.cells.flatMap((c) => c.outputs ?? []);
      assert.ok(!outputs.some((o) => o.output_type === 'error'), 'no error outputs');
      // tslab prints compile errors to stderr instead of raising: treat them as failures too.
      const stderr = outputs.filter((o) => o.name === 'stderr').map((o) => text(o.text)).join('');
      assert.ok(!/\d+:\d+ - /.test(stderr), `TypeScript errors in ${f}:\n${stderr}`);
      // Every notebook shows at least one chart.
      assert.ok(outputs.some((o) => typeof o.data?.['text/html'] !== 'undefined' && /<svg/.test(text(o.data['text/html'] as string | string[]))), `${f} displays a chart`);
    } finally {
      rmSync(jupyterPath, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  });
}

test('a MillwrightError thrown in a cell prints its code and message', { skip: existsSync(JUPYTER) ? false : `${JUPYTER} not installed`, timeout: 240_000 }, () => {
  const jupyterPath = mkdtempSync(join(tmpdir(), 'mw-jupyter-'));
  try {
    ensureBuilt();
    writeKernelSpec(jupyterPath);
    const nb = {
      cells: [{ cell_type: 'code', execution_count: null, id: 'throws', metadata: {}, outputs: [], source: ["import { MillwrightError } from 'millwright';\n", "throw new MillwrightError('NOT_FOUND', 'no dataset \"steel\" under /data');"] }],
      metadata: { kernelspec: { name: KERNEL_NAME, display_name: 'TypeScript (millwright)', language: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 5,
    };
    // From stdin with cwd notebooks/, so the kernel resolves 'millwright' as the real notebooks do.
    const r = spawnSync(JUPYTER, ['nbconvert', '--to', 'notebook', '--execute', '--allow-errors', '--ExecutePreprocessor.timeout=120', '--stdin', '--stdout'], {
      cwd: dir,
      input: JSON.stringify(nb),
      env: { ...process.env, JUPYTER_PATH: jupyterPath, NODE_OPTIONS: '' },
      encoding: 'utf8',
      timeout: 230_000,
    });
    assert.equal(r.status, 0, `nbconvert failed:\n${(r.stderr ?? '').slice(-4000)}`);
    const executed = JSON.parse(r.stdout) as Notebook;
    const printed = executed.cells.flatMap((c) => c.outputs ?? []).map((o) => text(o.text)).join('');
    assert.match(printed, /MillwrightError \[NOT_FOUND\]: no dataset "steel" under \/data/);
    assert.match(printed, /code: 'NOT_FOUND'/);
  } finally {
    rmSync(jupyterPath, { recursive: true, force: true });
  }
});
