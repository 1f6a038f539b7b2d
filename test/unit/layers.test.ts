import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/temp-project.js';

const SRC = path.join(ROOT, 'src');

interface Import {
  /** A path relative to src/ for project files, else the package name. */
  target: string;
  /** `import type …`, erased at run time. */
  typeOnly: boolean;
}

/** Every .ts file under src/, relative to it. */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [path.relative(SRC, full)] : [];
  });
}

/** The static and dynamic imports of a source file. */
function importsOf(file: string): Import[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const found = [
    ...text.matchAll(/^(import|export)(\s+type)?\s[^;]*?from\s+'([^']+)'/gm),
    ...text.matchAll(/^()()import\s+'([^']+)'/gm),
    ...text.matchAll(/()()import\(\s*'([^']+)'\s*\)/g),
  ];
  return found.map((match) => {
    const specifier = match[3] ?? '';
    const target = specifier.startsWith('.')
      ? path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), specifier.replace(/\.js$/, '.ts')))
      : specifier;
    return { target, typeOnly: Boolean(match[2]) };
  });
}

/** Files and packages `file` loads at run time, following project imports (type-only imports are erased). */
function loadedBy(file: string, seen = new Set<string>()): Set<string> {
  for (const { target, typeOnly } of importsOf(file)) {
    if (typeOnly || seen.has(target)) continue;
    seen.add(target);
    if (target.endsWith('.ts')) loadedBy(target, seen);
  }
  return seen;
}

const FILES = sourceFiles();
const under = (folder: string) => FILES.filter((file) => file.startsWith(`${folder}/`));
/** `file → target` for each import of `files` that `forbidden` matches. */
const violations = (files: string[], forbidden: (target: string) => boolean) =>
  files.flatMap((file) => importsOf(file).flatMap(({ target }) => (forbidden(target) ? [`${file} → ${target}`] : [])));

describe('layer rules: imports only point down', () => {
  it('finds the imports it checks (guards against a parser that matches nothing)', () => {
    expect(importsOf('stages/train.ts').map((i) => i.target)).toEqual(
      expect.arrayContaining(['ml/models/registry.ts', '@tensorflow/tfjs', 'node:path']),
    );
    expect(importsOf('ml/models/registry.ts')).toContainEqual({ target: 'ml/models/basic-cnn.ts', typeOnly: false });
  });

  it('ml/ imports nothing from the layers above it', () => {
    const above = /^(stages|spec|plan|orchestrator|tracking|cli|workers|queue)\//;
    expect(violations(under('ml'), (target) => above.test(target))).toEqual([]);
  });

  it('model builders read no files and parse no input: only the catalogue uses zod', () => {
    // The catalogue parses options; weights.ts is the one module that reads weight files (docs/architecture.md).
    const readers = new Set(['ml/models/model-catalog.ts', 'ml/models/weights.ts']);
    const builders = under('ml/models').filter((file) => !readers.has(file));
    expect(violations(builders, (target) => /^(node:fs|fs|sharp|zod)(\/|$)/.test(target))).toEqual([]);
  });

  it('the planner loads no tfjs: the model catalogue and the stage catalogue stay tfjs-free', () => {
    for (const entry of ['ml/models/model-catalog.ts', 'stages/catalog.ts', 'plan/plan-sweep.ts']) {
      expect(
        [...loadedBy(entry)].filter((target) => target.startsWith('@tensorflow/')),
        entry,
      ).toEqual([]);
    }
  });

  it('faces and masks do not depend on models or training', () => {
    const files = [...under('ml/faces'), ...under('ml/masks')];
    expect(violations(files, (target) => /^ml\/(models|train)\//.test(target))).toEqual([]);
  });

  it('pipeline predict reuses ml, not a stage', () => {
    expect(violations(['cli/predict-command.ts'], (target) => target.startsWith('stages/'))).toEqual([]);
  });
});
