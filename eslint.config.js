// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Layer rules (docs/architecture.md): imports point down. `cli → spec → plan → orchestrator → stages / ml / tracking /
 * store`; workers call stages. Each folder gets one complete rule (ESLint keeps only the last matching
 * `no-restricted-imports`), naming the folders above it; project paths are matched by their folder after `../`.
 */
const above = (...folders) => ({
  regex: `^(\\.\\.?/)+(${folders.join('|')})/`,
  message: `this layer must not import ${folders.join(', ')} (docs/architecture.md)`,
});
const bullmq = { regex: '^bullmq$', message: 'bullmq is imported only in src/orchestrator/ and src/workers/' };
const tfjs = { regex: '^@tensorflow/', message: 'tfjs is imported only under src/ml/ and src/stages/' };
const fileReads = {
  regex: '^(node:)?fs(/|$)|^sharp$|^zod$',
  message: 'model builders read no files and parse no input',
};
const modelsOrTraining = { regex: '^\\.\\./(models|train)/', message: 'faces and masks do not use models or training' };
const ML_ABOVE = ['stages', 'spec', 'plan', 'orchestrator', 'tracking', 'cli', 'workers', 'queue'];
const layer = (files, patterns, ignores = []) => ({
  files,
  ignores,
  rules: { 'no-restricted-imports': ['error', { patterns }] },
});
const layerRules = [
  layer(['src/*.ts', 'src/cli/**/*.ts'], [bullmq, tfjs]),
  layer(
    ['src/spec/**/*.ts', 'src/plan/**/*.ts'],
    [above('orchestrator', 'tracking', 'cli', 'workers', 'queue'), bullmq, tfjs],
  ),
  layer(['src/orchestrator/**/*.ts', 'src/queue/**/*.ts'], [above('cli', 'spec', 'plan', 'tracking'), tfjs]),
  layer(['src/workers/**/*.ts'], [above('cli', 'spec', 'plan', 'orchestrator', 'tracking'), tfjs]),
  layer(['src/stages/**/*.ts'], [above('spec', 'plan', 'orchestrator', 'tracking', 'cli', 'workers', 'queue'), bullmq]),
  layer(
    ['src/tracking/**/*.ts', 'src/store/**/*.ts'],
    [above('spec', 'plan', 'orchestrator', 'cli', 'workers', 'queue', 'stages', 'ml'), bullmq, tfjs],
  ),
  // Pictures are pure functions from data to SVG/PNG; stages and commands decide what to draw.
  layer(
    ['src/render/**/*.ts'],
    [above('stages', 'spec', 'plan', 'orchestrator', 'tracking', 'cli', 'workers', 'queue'), bullmq, tfjs],
  ),
  layer(
    ['src/util/**/*.ts'],
    [
      above('ml', 'stages', 'spec', 'plan', 'orchestrator', 'tracking', 'cli', 'workers', 'queue', 'store'),
      bullmq,
      tfjs,
    ],
  ),
  layer(['src/ml/**/*.ts'], [above(...ML_ABOVE), bullmq], ['src/ml/models/**', 'src/ml/faces/**', 'src/ml/masks/**']),
  layer(
    ['src/ml/models/**/*.ts'],
    [above(...ML_ABOVE), bullmq, fileReads],
    ['src/ml/models/model-catalog.ts', 'src/ml/models/weights.ts'],
  ),
  layer(['src/ml/models/weights.ts'], [above(...ML_ABOVE), bullmq]),
  layer(['src/ml/models/model-catalog.ts'], [above(...ML_ABOVE), bullmq, tfjs]),
  layer(['src/ml/faces/**/*.ts', 'src/ml/masks/**/*.ts'], [above(...ML_ABOVE), bullmq, modelsOrTraining]),
];

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', '.pipeline/', '.cache/', '.venv-*/', 'node_modules/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
  ...layerRules,
);
