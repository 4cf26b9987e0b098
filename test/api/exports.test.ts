import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../helpers/data.ts';

/** The four entry points of package.json `exports`, by the source module each is built from. */
const ENTRIES: Record<string, string> = {
  millwright: 'lib/index.ts',
  'millwright/serve': 'serve/index.ts',
  'millwright/reports': 'reports/index.ts',
  'millwright/datasets': 'datasets/index.ts',
};

let names: Map<string, string[]> | undefined;

/** Every exported name (values and types) of each entry, as a consumer's compiler sees them. */
function exportedNames(): Map<string, string[]> {
  names ??= collectExportedNames();
  return names;
}

function collectExportedNames(): Map<string, string[]> {
  const files = Object.values(ENTRIES).map((f) => join(repoRoot, f));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    noEmit: true,
    strict: true,
    skipLibCheck: true,
    resolveJsonModule: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const owners = new Map<string, string[]>();
  for (const [entry, file] of Object.entries(ENTRIES)) {
    const source = program.getSourceFile(join(repoRoot, file));
    assert.ok(source, `${file} not in the program`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    assert.ok(moduleSymbol, `${file} is not a module`);
    for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
      owners.set(symbol.name, [...(owners.get(symbol.name) ?? []), entry]);
    }
  }
  return owners;
}

test('no name is exported by two entry points (a consumer importing both sees one thing per name)', () => {
  const owners = exportedNames();
  assert.ok(owners.size > 200, `expected the whole public API, found ${owners.size} names`);
  const clashes = [...owners]
    .filter(([, entries]) => entries.length > 1)
    .map(([name, entries]) => `${name}: ${entries.join(', ')}`);
  assert.deepEqual(clashes, [], `names exported by more than one entry point:\n  ${clashes.join('\n  ')}`);
});

test('the runtime entry modules export the values their types promise', async () => {
  const owners = exportedNames();
  for (const [entry, file] of Object.entries(ENTRIES)) {
    const mod = (await import(join(repoRoot, file))) as Record<string, unknown>;
    for (const name of Object.keys(mod)) assert.ok(owners.get(name)?.includes(entry), `${entry} exports ${name} at run time only`);
  }
});

test('the library entry leaks none of the shared plumbing', async () => {
  const lib = (await import(join(repoRoot, ENTRIES.millwright!))) as Record<string, unknown>;
  for (const internal of ['writeFileAtomic', 'fsyncDir', 'mkdirDurable', 'withLock', 'uniqueId', 'encodeSegment', 'decodeSegment', 'lockSpool', 'readCsvEncoded', 'readEncoded', 'splitQuoted']) {
    assert.equal(lib[internal], undefined, `millwright exports internal ${internal}`);
  }
});
