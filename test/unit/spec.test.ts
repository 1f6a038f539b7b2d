import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineError } from '../../src/errors.js';
import { loadPipeline } from '../../src/spec/load-pipeline.js';
import { loadSweep } from '../../src/spec/load-sweep.js';
import { parseSetFlag } from '../../src/spec/overrides.js';
import { pipelineYaml, tempDir, writeFiles } from '../helpers/temp-project.js';

const SWEEP = `pipeline: pipeline.yaml
grid:
  train.lr: [0.01, 0.001]
`;

/** Writes a pipeline and sweep into a temp folder and loads the sweep; returns the thrown error. */
async function sweepError(pipeline: string, sweep = SWEEP, set: string[] = []): Promise<PipelineError> {
  const dir = writeFiles(tempDir(), { 'pipeline.yaml': pipeline, 'sweep.yaml': sweep });
  const error: unknown = await loadSweep(path.join(dir, 'sweep.yaml'), set.map(parseSetFlag)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PipelineError);
  return error as PipelineError;
}

const good = pipelineYaml('data');

describe('pipeline file errors name the file, line, column and dot-path', () => {
  it.each([
    ['YAML syntax error', good.replace('needs: [ingest]', 'needs: [ingest'), /pipeline\.yaml:\d+:\d+: YAML syntax/],
    ['unknown key', good.replace('name: tiny', 'name: tiny\nstagez: {}'), /pipeline\.yaml:2:1: stagez: unknown key/],
    [
      'wrong type',
      good.replace('epochs: 1', 'epochs: one'),
      /pipeline\.yaml:13:15: stages\.train\.params\.epochs: .*number/,
    ],
    [
      'unknown stage in needs',
      good.replace('needs: [train, split]', 'needs: [train, spilt]'),
      /:16:20: stages\.evaluate\.needs\.1: unknown stage 'spilt'/,
    ],
    [
      'duplicate stage name',
      `${good}  split:\n    needs: [ingest]\n`,
      /pipeline\.yaml:\d+:\d+: YAML syntax: Map keys must be unique/,
    ],
    ['lr ≤ 0', good.replace('epochs: 1', 'epochs: 1\n      lr: 0'), /stages\.train\.params\.lr: must be > 0/],
    [
      'unknown optimizer',
      good.replace('epochs: 1', 'epochs: 1\n      optimizer: adagrad'),
      /stages\.train\.params\.optimizer: .*"sgd"\|"adam"\|"rmsprop"/,
    ],
    [
      'batchSize not a positive integer',
      good.replace('batchSize: 8', 'batchSize: 2.5'),
      /:14:18: stages\.train\.params\.batchSize: must be a positive integer/,
    ],
    [
      'valFraction outside (0,1)',
      good.replace('valFraction: 0.25', 'valFraction: 1.5'),
      /stages\.split\.params\.valFraction: must be in \(0, 1\)/,
    ],
    [
      'unknown parameter',
      good.replace('epochs: 1', 'epochs: 1\n      epoch: 2'),
      /stages\.train\.params\.epoch: unknown parameter of train/,
    ],
    [
      'stage without an input it reads',
      good.replace('needs: [train, split]', 'needs: [train]'),
      /stages\.evaluate\.needs: evaluate reads the output of a split stage/,
    ],
  ])('%s', async (_name, pipeline, expected) => {
    const dir = writeFiles(tempDir(), { 'pipeline.yaml': pipeline });
    const error: unknown = await loadPipeline(path.join(dir, 'pipeline.yaml')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PipelineError);
    expect((error as PipelineError).code).toBe('SPEC_INVALID');
    expect((error as Error).message).toMatch(expected);
  });

  it('reports a dependency cycle with its path', async () => {
    const cyclic = good.replace('needs: [ingest]', 'needs: [ingest, visualize]');
    const dir = writeFiles(tempDir(), { 'pipeline.yaml': cyclic });
    const error = (await loadPipeline(path.join(dir, 'pipeline.yaml')).catch((e: unknown) => e)) as PipelineError;
    expect(error.code).toBe('DAG_CYCLE');
    expect(error.message).toMatch(/pipeline\.yaml:\d+:\d+: stages: dependency cycle (\w+ → )+\w+/);
  });

  it('accepts a synthesize stage between ingest and split', async () => {
    const withSynth = good.replace(
      '  split:\n    needs: [ingest]',
      '  synthesize:\n    needs: [ingest]\n    params: { sources: [without_mask], variants: { proper: with_mask } }\n  split:\n    needs: [synthesize]',
    );
    const dir = writeFiles(tempDir(), { 'pipeline.yaml': withSynth });
    const spec = await loadPipeline(path.join(dir, 'pipeline.yaml'));
    expect(spec.stages.map((s) => s.name).slice(0, 3)).toEqual(['ingest', 'synthesize', 'split']);
  });

  it('resolves dataDir relative to the pipeline file and orders stages by needs', async () => {
    const dir = writeFiles(tempDir(), { 'pipeline.yaml': good });
    const spec = await loadPipeline(path.join(dir, 'pipeline.yaml'));
    expect(spec.stages.map((s) => s.name)).toEqual(['ingest', 'split', 'train', 'evaluate', 'visualize']);
    expect(spec.stages[0]?.params.dataDir).toBe(path.join(dir, 'data'));
    expect(spec.stages.find((s) => s.name === 'train')?.resources).toEqual({ gpu: 1 });
  });
});

describe('sweep file errors', () => {
  it.each([
    ['empty grid', 'pipeline: pipeline.yaml\ngrid: {}\n', /sweep\.yaml:2:7: grid: the grid is empty/],
    [
      'empty value list',
      'pipeline: pipeline.yaml\ngrid:\n  train.lr: []\n',
      /sweep\.yaml:3:13: grid\.train\.lr: needs at least one value/,
    ],
    [
      'grid key no stage reads',
      'pipeline: pipeline.yaml\ngrid:\n  train.learningRate: [1]\n',
      /sweep\.yaml:3:23: grid\.train\.learningRate: train stage 'train' has no parameter 'learningRate'/,
    ],
    ['grid key naming no stage', 'pipeline: pipeline.yaml\ngrid:\n  fit.lr: [1]\n', /grid\.fit\.lr: no stage 'fit'/],
    [
      'bad grid value',
      'pipeline: pipeline.yaml\ngrid:\n  train.lr: [0.1, -1]\n',
      /sweep\.yaml:3:19: train\.lr=-1: train\.lr: must be > 0/,
    ],
    [
      'random without samples',
      `${SWEEP}method: random\n`,
      /sweep\.yaml:\d+:\d+: samples: method: random needs samples/,
    ],
    ['unknown key', `${SWEEP}parallel: 2\n`, /sweep\.yaml:4:1: parallel: unknown key/],
    [
      'missing pipeline file',
      SWEEP.replace('pipeline.yaml', 'nope.yaml'),
      /sweep\.yaml:1:11: pipeline: pipeline file .*nope\.yaml not found/,
    ],
  ])('%s', async (_name, sweep, expected) => {
    const error = await sweepError(good, sweep);
    expect(error.message).toMatch(expected);
  });

  it('--set on an unknown path names the flag', async () => {
    const error = await sweepError(good, SWEEP, ['train.momentum=0.9']);
    expect(error.message).toMatch(/^--set: train\.momentum: train stage 'train' has no parameter 'momentum'/);
  });

  it('--set with a bad value names the flag and the value', async () => {
    const error = await sweepError(good, SWEEP, ['train.batchSize=0']);
    expect(error.message).toMatch(/^--set: train\.batchSize=0: train\.batchSize: /);
  });

  it('a sweep file that does not exist is SPEC_NOT_FOUND', async () => {
    const error = (await loadSweep('/nonexistent/sweep.yaml').catch((e: unknown) => e)) as PipelineError;
    expect(error.code).toBe('SPEC_NOT_FOUND');
    expect(error.message).toMatch(/sweep file \/nonexistent\/sweep\.yaml: not found/);
  });

  it('parses --set values as YAML', () => {
    expect(parseSetFlag('train.filters=[1, 2, 3]').value).toEqual([1, 2, 3]);
    expect(parseSetFlag('train.lr=1e-3').value).toBe(0.001);
    expect(parseSetFlag('train.optimizer=adam').value).toBe('adam');
    expect(() => parseSetFlag('train.lr')).toThrow(/expected stage\.key=value/);
  });
});
