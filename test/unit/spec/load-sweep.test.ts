import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineError } from '../../../src/errors.js';
import { loadSweep } from '../../../src/spec/load-sweep.js';
import { parseSetFlag } from '../../../src/spec/overrides.js';
import { pipelineYaml, tempDir, writeFiles } from '../../helpers/temp-project.js';

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
      'unknown model family in the grid',
      'pipeline: pipeline.yaml\ngrid:\n  train.model: [basic-cnn, resnet9]\n',
      /sweep\.yaml:3:28: train\.model="resnet9": train\.model: Invalid option: expected one of "basic-cnn"(\|"[a-z0-9-]+")+$/,
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
});
