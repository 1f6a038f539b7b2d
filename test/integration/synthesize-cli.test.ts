import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrialRow } from '../../src/types.js';
import { runCli } from '../helpers/run-cli.js';
import { copySample, tempDir, writeFiles } from '../helpers/temp-project.js';

/** ingest → synthesize → split → train → evaluate → visualize on 12 real images per class, tiny and fast. */
function pipelineYaml(variants: string, perImage: number): string {
  return `name: synth
stages:
  ingest:
    params: { dataDir: data, imageSize: 16 }
  synthesize:
    needs: [ingest]
    params: { sources: [without_mask], perImage: ${perImage}, variants: ${variants}, montage: 4 }
  split:
    needs: [synthesize]
    params: { valFraction: 0.25, seed: 1 }
  train:
    needs: [split]
    params: { filters: [2, 4, 4], denseUnits: 8, epochs: 1, batchSize: 8 }
  evaluate:
    needs: [train, split]
  visualize:
    needs: [train, evaluate]
`;
}

function makeProject(variants: string, perImage: number, grid: string) {
  const dir = tempDir('synth-cli-');
  copySample(path.join(dir, 'data'), 12);
  writeFiles(dir, {
    'pipeline.yaml': pipelineYaml(variants, perImage),
    'sweep.yaml': `pipeline: pipeline.yaml\ngrid:\n  ${grid}\n`,
  });
  return { sweep: path.join(dir, 'sweep.yaml'), ws: path.join(dir, 'ws') };
}

/** The output folder of the node that wrote `file`. */
function nodeWith(ws: string, file: string): string {
  const dirs = readdirSync(path.join(ws, 'nodes')).map((key) => path.join(ws, 'nodes', key));
  const found = dirs.find((dir) => existsSync(path.join(dir, file)));
  if (!found) throw new Error(`no node in ${ws} wrote ${file}`);
  return found;
}

/** Seconds with the native backend; minutes on pure JS, where one face-detector call takes ~15 s. */
const SLOW_BACKEND_MS = 600_000;
const readJson = <T>(file: string) => JSON.parse(readFileSync(file, 'utf8')) as T;
const started = (stderr: string) => [...stderr.matchAll(/▶ (\S+) started/g)].map((m) => m[1]);

describe('pipelines with a synthesize stage, through the built CLI', () => {
  const twoClass = makeProject(
    '{ proper: with_mask, improper-nose: without_mask }',
    1,
    'train.optimizer: [adam, rmsprop]',
  );
  const threeClass = makeProject(
    '{ proper: with_mask, improper-nose: improper_mask, improper-mouth: improper_mask }',
    2,
    'train.lr: [0.001]',
  );
  let first: Awaited<ReturnType<typeof runCli>>;
  let third: Awaited<ReturnType<typeof runCli>>;

  beforeAll(async () => {
    first = await runCli(['run', twoClass.sweep, '--workspace', twoClass.ws, '--json']);
    third = await runCli(['run', threeClass.sweep, '--workspace', threeClass.ws, '--json']);
  }, SLOW_BACKEND_MS);

  it('2-class: synthesizes once for both trials, and every trial trains and evaluates on the grown data set', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(started(first.stderr).filter((id) => id?.endsWith('synthesize'))).toEqual(['synthesize']);
    const { trials } = JSON.parse(first.stdout) as { trials: TrialRow[] };
    expect(trials.map((t) => t.state)).toEqual(['done', 'done']);
    const synth = nodeWith(twoClass.ws, 'synthesis-report.json');
    const report = readJson<{ imagesTried: number; imagesSynthesized: number; classes: string[] }>(
      path.join(synth, 'synthesis-report.json'),
    );
    expect(report.imagesTried).toBe(12);
    expect(report.imagesSynthesized).toBeGreaterThanOrEqual(10);
    expect(report.classes).toEqual(['with_mask', 'without_mask']);
    expect(existsSync(path.join(synth, 'montage.png'))).toBe(true);
    const split = readJson<{ train: number[]; val: number[] }>(
      path.join(nodeWith(twoClass.ws, 'split.json'), 'split.json'),
    );
    expect(split.train.length + split.val.length).toBe(24 + report.imagesSynthesized);
  });

  it('3-class: the improper variants form a third class that train and evaluate see', () => {
    expect(third.code, third.stderr).toBe(0);
    const evaluation = readJson<{ classes: string[]; perClass: { support: number }[] }>(
      path.join(nodeWith(threeClass.ws, 'report.json'), 'report.json'),
    );
    expect(evaluation.classes).toEqual(['with_mask', 'without_mask', 'improper_mask']);
    expect(evaluation.perClass[2]?.support).toBeGreaterThan(0);
    const model = readJson<{ classes: string[] }>(
      path.join(nodeWith(threeClass.ws, 'history.json'), 'model', 'classes.json'),
    );
    expect(model.classes).toHaveLength(3);
  });

  it('a second run reuses the synthesized data set', async () => {
    const again = await runCli(['run', threeClass.sweep, '--workspace', threeClass.ws]);
    expect(again.code).toBe(0);
    expect(started(again.stderr)).toEqual([]);
  });
});
