import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Repository root, for reaching data/ and dist/. */
export const ROOT = path.resolve(import.meta.dirname, '../..');

/** A fresh temporary folder. */
export function tempDir(prefix = 'pipeline-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Writes files (path → text) under `dir`, creating folders; returns `dir`. */
export function writeFiles(dir: string, files: Record<string, string>): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** Copies the first `perClass` images of each class of the committed sample into `dir/<class>/`. */
export function copySample(dir: string, perClass: number): string {
  const source = path.join(ROOT, 'data', 'face-mask');
  for (const cls of ['with_mask', 'without_mask']) {
    mkdirSync(path.join(dir, cls), { recursive: true });
    for (const name of readdirSync(path.join(source, cls)).sort().slice(0, perClass)) {
      cpSync(path.join(source, cls, name), path.join(dir, cls, name));
    }
  }
  return dir;
}

/** A valid pipeline (ingest → split → train → evaluate → visualize) reading `dataDir`, tiny and fast. */
export function pipelineYaml(dataDir: string, extraTrain = ''): string {
  return `name: tiny
stages:
  ingest:
    params: { dataDir: ${JSON.stringify(dataDir)}, imageSize: 16 }
  split:
    needs: [ingest]
    params: { valFraction: 0.25, seed: 1 }
  train:
    needs: [split]
    params:
      filters: [2, 4, 4]
      denseUnits: 8
      epochs: 1
      batchSize: 8${extraTrain}
  evaluate:
    needs: [train, split]
  visualize:
    needs: [train, evaluate]
`;
}
