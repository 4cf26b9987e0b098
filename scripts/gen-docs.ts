// Writes the reference pages generated from the code's own tables (npm run docs:tables):
// docs/errors.md from lib/errors/codes.ts, docs/configuration.md from lib/config/variables.ts. Tests compare these files with the generated text,
// so a change to a table without regenerating fails the test suite.
import { writeFile } from 'node:fs/promises';
import { configurationMarkdown } from '../lib/config/index.ts';
import { errorCodesMarkdown } from '../lib/errors/index.ts';

const GENERATED_DOCS: Record<string, () => string> = {
  'docs/errors.md': errorCodesMarkdown,
  'docs/configuration.md': configurationMarkdown,
};

for (const [path, generate] of Object.entries(GENERATED_DOCS)) {
  await writeFile(new URL(`../${path}`, import.meta.url), generate());
  console.log(`wrote ${path}`);
}
