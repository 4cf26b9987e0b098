import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The layers: who may import whom. `cli/` is on top and may import anything; it has no entry.
 * Each entry lists the top-level folders a layer may import (itself included) and the rule a
 * reader sees when an import breaks it.
 */
const layers = {
  lib: {
    allowed: ['lib'],
    message: 'lib/ is the library: it must not import serve/, reports/, datasets/ or cli/ (they build on lib/, not the other way round).',
  },
  reports: {
    allowed: ['reports', 'lib'],
    message: 'reports/ may import only lib/ (and itself): serve/ and cli/ call reports, datasets/ is a sibling it must not depend on.',
  },
  datasets: {
    allowed: ['datasets', 'lib'],
    message: 'datasets/ may import only lib/ (and itself): serve/, reports/ and cli/ are not its dependencies.',
  },
  serve: {
    allowed: ['serve', 'lib', 'reports'],
    message: 'serve/ may import only lib/ and reports/ (and itself): cli/ starts the server, and datasets/ is not needed to serve.',
  },
};
const topLevels = ['lib', 'serve', 'reports', 'datasets', 'cli'];
// Deep enough for today's tree (3) with room to grow; a file deeper than this is not checked.
const MAX_DEPTH = 8;

/**
 * One config per layer and folder depth: a file `d` folders below the root reaches the root with
 * exactly `d` `../`, so the pattern can tell `../../serve/x.ts` from `lib/store` (a real violation)
 * apart from `./serve-thing.ts` and can also forbid escaping the root (`../../../shared/`). The
 * package's own name (`millwright/serve`) is covered too. Dynamic `import()` is not seen by this
 * rule; test/lint/layers.test.ts checks those.
 */
function layerConfigs() {
  const configs = [];
  for (const [layer, { allowed, message }] of Object.entries(layers)) {
    const forbidden = topLevels.filter((t) => !allowed.includes(t));
    for (let depth = 1; depth <= MAX_DEPTH; depth++) {
      const up = '(?:\\.\\./)'.repeat(depth);
      configs.push({
        files: [`${layer}/${'*/'.repeat(depth - 1)}*.{ts,mts,js,mjs}`],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: [
                { regex: `^(?:\\./)?${up}(?!(?:${allowed.join('|')})/)`, message },
                { regex: `^millwright/(?:${forbidden.join('|')})(?:/|$)`, message },
              ],
            },
          ],
        },
      });
    }
  }
  return configs;
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'notebooks/', '**/*.d.ts', 'tmp/', 'docs/api/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  ...layerConfigs(),
  {
    // Warnings, not errors: a long or branchy function stays visible in every lint run without
    // blocking one. Tests are left out (a table of cases is long on purpose).
    files: topLevels.map((t) => `${t}/**/*.{ts,mts,js,mjs}`),
    rules: {
      'max-lines-per-function': ['warn', { max: 80, skipBlankLines: true, skipComments: true }],
      complexity: ['warn', 20],
    },
  },
);
