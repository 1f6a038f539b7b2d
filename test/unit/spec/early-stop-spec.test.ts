import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineError } from '../../../src/errors.js';
import { loadSweep } from '../../../src/spec/load-sweep.js';
import { pipelineYaml, tempDir, writeFiles } from '../../helpers/temp-project.js';

const GRID = 'pipeline: pipeline.yaml\ngrid:\n  train.lr: [0.01, 0.001]\n';

async function load(earlyStop: string, extra = '') {
  const dir = writeFiles(tempDir(), {
    'pipeline.yaml': pipelineYaml('data'),
    'sweep.yaml': `${GRID}${extra}early_stop:\n${earlyStop}`,
  });
  return loadSweep(path.join(dir, 'sweep.yaml'));
}

async function loadError(earlyStop: string, extra = ''): Promise<PipelineError> {
  const error: unknown = await load(earlyStop, extra).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PipelineError);
  return error as PipelineError;
}

describe('early_stop in a sweep file', () => {
  it('fills defaults from the objective', async () => {
    const sweep = await load('  method: asha\n');
    expect(sweep.earlyStop).toEqual({
      method: 'asha',
      metric: 'val_accuracy',
      goal: 'maximize',
      minEpochs: 1,
      reductionFactor: 3,
      brackets: 1,
    });
  });

  it('takes a minimized loss metric with its own goal', async () => {
    const sweep = await load('  method: median\n  metric: val_loss\n  min_epochs: 2\n');
    expect(sweep.earlyStop).toMatchObject({ method: 'median', metric: 'val_loss', goal: 'minimize', minEpochs: 2 });
  });

  it.each([
    ['unknown method', '  method: hyperband\n', /sweep\.yaml:\d+:\d+: early_stop\.method: .*asha.*median/],
    [
      'metric train does not report',
      '  method: asha\n  metric: f1\n',
      /early_stop\.metric: f1 is not reported every epoch/,
    ],
    [
      'reduction factor 1',
      '  method: asha\n  reduction_factor: 1\n',
      /early_stop\.reduction_factor: must be greater than 1/,
    ],
    ['brackets 0', '  method: asha\n  brackets: 0\n', /early_stop\.brackets: /],
    ['min_epochs 0', '  method: median\n  min_epochs: 0\n', /early_stop\.min_epochs: /],
    [
      'rungs for median',
      '  method: median\n  reduction_factor: 2\n',
      /early_stop\.reduction_factor: only method: asha has rungs/,
    ],
    [
      'brackets for median',
      '  method: median\n  brackets: 2\n',
      /early_stop\.brackets: only method: asha has brackets/,
    ],
    ['unknown key', '  method: asha\n  grace: 2\n', /early_stop\.grace: unknown key/],
  ])('%s: one line naming the field, exit 2', async (_, yaml, message) => {
    const error = await loadError(yaml);
    expect(error.code).toBe('SPEC_INVALID');
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('an objective metric not reported per epoch needs early_stop.metric', async () => {
    const error = await loadError('  method: asha\n', 'objective:\n  metric: macro_f1\n');
    expect(error.message).toMatch(/early_stop: the objective metric macro_f1 is not reported every epoch/);
  });
});
