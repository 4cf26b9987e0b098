/**
 * The layer rules, checked two ways: eslint's `no-restricted-imports` (eslint.config.js) must
 * fire on a planted violation in each restricted layer, and the module graph built from every
 * import specifier (static, re-export and dynamic `import()`, which the lint rule does not see)
 * must follow the layers and have no cycle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { repoRoot } from '../helpers/data.ts';

const LAYERS = ['lib', 'serve', 'reports', 'datasets', 'cli'] as const;
/** Top-level folders each layer may import; cli/ may import anything. */
const ALLOWED: Record<string, readonly string[]> = {
  lib: ['lib'],
  reports: ['reports', 'lib'],
  datasets: ['datasets', 'lib'],
  serve: ['serve', 'lib', 'reports'],
  cli: LAYERS,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && /\.m?ts$/.test(d.name) && !d.name.endsWith('.d.ts'))
    .map((d) => relative(repoRoot, join(d.parentPath, d.name)));
}

/** A module is `lib/<name>/` (files directly in lib/ form `lib`), or a whole top-level folder. */
function moduleOf(file: string): string {
  const parts = file.split('/');
  return parts[0] === 'lib' && parts.length > 2 ? `lib/${parts[1]}` : parts[0]!;
}

/** Relative import specifiers of one file; comments and strings are not mistaken for imports. */
function relativeImports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(repoRoot, file), 'utf8'), true, true);
  return info.importedFiles.map((f) => f.fileName).filter((s) => s.startsWith('./') || s.startsWith('../'));
}

interface Edge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

function importEdges(): Edge[] {
  const edges: Edge[] = [];
  for (const layer of LAYERS) {
    for (const file of sourceFiles(layer)) {
      for (const specifier of relativeImports(file)) {
        const target = relative(repoRoot, resolve(repoRoot, dirname(file), specifier));
        edges.push({ from: moduleOf(file), to: moduleOf(target), file, specifier });
      }
    }
  }
  return edges;
}

/** The first cycle found, as a closed path (`a -> b -> a`), or undefined. */
function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of [...graph.keys()].sort()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

function moduleGraph(edges: Edge[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    if (!graph.has(e.from)) graph.set(e.from, new Set());
    graph.get(e.from)!.add(e.to);
  }
  return graph;
}

test('the module graph is read from the sources (sanity: known edges are there)', () => {
  const graph = moduleGraph(importEdges());
  assert.ok(graph.get('cli')?.has('serve'), 'cli -> serve');
  assert.ok(graph.get('serve')?.has('reports'), 'serve -> reports');
  assert.ok(graph.get('lib/model')?.has('lib/store'), 'lib/model -> lib/store (a dynamic import())');
  assert.ok(graph.size > 10, `${graph.size} modules with imports`);
});

test('the module graph has no cycle', () => {
  const cycle = findCycle(moduleGraph(importEdges()));
  assert.equal(cycle, undefined, `import cycle: ${cycle?.join(' -> ')}`);
});

test('the cycle finder reports a planted cycle as a path', () => {
  const graph = new Map([
    ['a', new Set(['b'])],
    ['b', new Set(['c'])],
    ['c', new Set(['a', 'd'])],
    ['d', new Set<string>()],
  ]);
  assert.deepEqual(findCycle(graph), ['a', 'b', 'c', 'a']);
  graph.get('c')!.delete('a');
  assert.equal(findCycle(graph), undefined);
});

test('every import (dynamic ones too) follows the layer rules', () => {
  const bad = importEdges()
    .filter((e) => !ALLOWED[e.file.split('/')[0]!]!.includes(e.to.split('/')[0]!))
    .map((e) => `${e.file} -> ${e.specifier}`);
  assert.deepEqual(bad, []);
});

const eslint = new ESLint({ cwd: repoRoot });

async function lintErrors(filePath: string, code: string): Promise<{ ruleId: string | null; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.severity === 2).map((m) => ({ ruleId: m.ruleId, message: m.message }));
}

test('lint: lib/ importing serve/ is an error that states the rule', async () => {
  const errors = await lintErrors('lib/store/planted.ts', "import { startServer } from '../../serve/index.ts';\nexport const s = startServer;\n");
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.equal(errors[0]!.ruleId, 'no-restricted-imports');
  assert.match(errors[0]!.message, /'\.\.\/\.\.\/serve\/index\.ts' import is restricted/);
  assert.match(errors[0]!.message, /lib\/ is the library: it must not import serve\//);
});

test('lint: the rule holds at every depth of lib/', async () => {
  for (const [file, specifier] of [
    ['lib/planted.ts', '../cli/main.ts'],
    ['lib/model/template/planted.ts', '../../../reports/index.ts'],
  ]) {
    const errors = await lintErrors(file!, `import { x } from '${specifier}';\nexport const y = x;\n`);
    assert.deepEqual(errors.map((e) => e.ruleId), ['no-restricted-imports'], `${file} -> ${specifier}`);
  }
});

test('lint: lib/ importing lib/ is allowed', async () => {
  assert.deepEqual(await lintErrors('lib/store/planted.ts', "import { ingest } from '../ingest/index.ts';\nexport const i = ingest;\n"), []);
});

test('lint: reports/ importing datasets/ is an error', async () => {
  const errors = await lintErrors('reports/metrics/planted.ts', "import { plant } from '../../datasets/index.ts';\nexport const p = plant;\n");
  assert.deepEqual(errors.map((e) => e.ruleId), ['no-restricted-imports']);
  assert.match(errors[0]!.message, /reports\/ may import only lib\//);
});

test('lint: datasets/ importing reports/ (even a type) is an error', async () => {
  const errors = await lintErrors('datasets/plant/planted.ts', "import type { Report } from '../../reports/index.ts';\nexport type R = Report;\n");
  assert.deepEqual(errors.map((e) => e.ruleId), ['no-restricted-imports']);
  assert.match(errors[0]!.message, /datasets\/ may import only lib\//);
});

test('lint: serve/ may import reports/ but not cli/', async () => {
  assert.deepEqual(await lintErrors('serve/planted.ts', "import { x } from '../reports/index.ts';\nexport const y = x;\n"), []);
  const errors = await lintErrors('serve/planted.ts', "import { x } from '../cli/main.ts';\nexport const y = x;\n");
  assert.deepEqual(errors.map((e) => e.ruleId), ['no-restricted-imports']);
  assert.match(errors[0]!.message, /serve\/ may import only lib\/ and reports\//);
});
