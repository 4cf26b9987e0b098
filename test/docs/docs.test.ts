import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_DOCS_PATH, renderCliDocs } from '../../scripts/gen-cli-docs.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const README_MAX_BYTES = 10 * 1024;

test('docs/cli.md is what `npm run docs:cli` generates from the commands', async () => {
  const committed = readFileSync(join(ROOT, CLI_DOCS_PATH), 'utf8');
  // Compared in memory: the test never rewrites the file, so a stale page fails here and in CI.
  assert.ok(committed === (await renderCliDocs()), `${CLI_DOCS_PATH} is out of date with the commands' usage texts: run npm run docs:cli`);
});

test('README.md stays at most 10 KB', () => {
  const size = statSync(join(ROOT, 'README.md')).size;
  assert.ok(size <= README_MAX_BYTES, `README.md is ${size} bytes, over ${README_MAX_BYTES}: move detail into docs/`);
});

/** Relative link targets of a Markdown text, outside code blocks and inline code. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  const inline = /\]\(\s*(?:<([^>\n]+)>|([^)\s]+))(?:\s+"[^"]*")?\s*\)/g;
  const reference = /^\s{0,3}\[[^\]]+\]:\s*(?:<([^>\n]+)>|(\S+))/gm;
  for (const m of [...prose.matchAll(inline), ...prose.matchAll(reference)]) {
    const target = (m[1] ?? m[2])!;
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#') || target.startsWith('//')) continue;
    targets.push(target);
  }
  return targets;
}

test('every relative link in README.md and docs/*.md points to a file that exists', () => {
  const files = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const broken: string[] = [];
  for (const file of files) {
    for (const target of relativeLinks(readFileSync(join(ROOT, file), 'utf8'))) {
      const path = decodeURIComponent(target.split('#')[0]!.split('?')[0]!);
      const absolute = resolve(ROOT, dirname(file), path);
      if (!existsSync(absolute)) broken.push(`${file}: (${target}) -> ${relative(ROOT, absolute)} does not exist`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the link finder sees links in prose and skips code, URLs and anchors', () => {
  const md = 'See [a](docs/a.md#x), [b](<b c.md>) and [w](https://x.org).\n[r]: ./r.md\n`[no](n.md)`\n```\n[no](m.md)\n```\n[top](#top)\n';
  assert.deepEqual(relativeLinks(md), ['docs/a.md#x', 'b c.md', './r.md']);
});
