import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSweep } from '../../../src/cli/open-sweep.js';
import { planSweep } from '../../../src/plan/plan-sweep.js';
import { loadSweep } from '../../../src/spec/load-sweep.js';
import { parseSetFlag } from '../../../src/spec/overrides.js';
import { ROOT, tempDir } from '../../helpers/temp-project.js';

const lrOptimizer = path.join(ROOT, 'experiments/sweeps/lr-optimizer.yaml');
const transfer = path.join(ROOT, 'experiments/sweeps/transfer-lr-optimizer.yaml');
const sets = (...flags: string[]) => flags.map(parseSetFlag);

describe('train.model and the transfer options', () => {
  it('--set train.model=... on the basic-CNN sweep drops the CNN-only keys and keeps the loop params', async () => {
    for (const model of ['resnet50v2', 'mobilenetv2']) {
      const plan = planSweep(await loadSweep(lrOptimizer, sets(`train.model=${model}`)));
      const train = plan.nodes.find((node) => node.id === 't05/train');
      expect(train?.params).toMatchObject({ model, lr: 0.001, optimizer: 'rmsprop', batchSize: 64, dropout: 0.5 });
      expect(train?.params).not.toHaveProperty('filters');
      expect(train?.params).not.toHaveProperty('denseUnits');
    }
  });

  it.each([
    ['an unknown model', ['train.model=resnet9'], /train\.model: Invalid option: expected one of "basic-cnn"/],
    [
      'an input the model cannot take',
      ['train.inputSize=16'],
      /train\.inputSize: the model takes inputs of at least 32×32$/,
    ],
    ['freeze beyond the layer count', ['train.freeze=154'], /train\.freeze: the backbone has 153 layers$/],
    [
      'packaged weights a family does not ship',
      ['train.model=resnet50v2', 'train.pretrained=true'],
      /train\.pretrained: this model ships no weights: give a path, or false$/,
    ],
  ])('refuses %s at spec time, in one line naming the field', async (_name, flags, message) => {
    const error = await loadSweep(transfer, sets(...flags)).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'SPEC_INVALID' });
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain('\n');
  });

  it('a missing pretrained path, or weights of another model, is a spec error when the sweep is planned', async () => {
    const dir = tempDir();
    const missing = path.join(dir, 'nowhere', 'model.json');
    const flags = ['train.model=resnet50v2', `train.pretrained=${missing}`];
    await expect(openSweep(transfer, { set: flags, workspace: dir })).rejects.toMatchObject({
      code: 'SPEC_INVALID',
      message: `stages.train.params.pretrained: ${missing} not found`,
    });
    const other = path.join(dir, 'model.json');
    const manifest = [{ paths: [], weights: [{ name: 'Conv1/kernel', shape: [3, 3, 3, 32], dtype: 'float32' }] }];
    writeFileSync(other, JSON.stringify({ modelTopology: {}, weightsManifest: manifest }));
    const mismatched = await openSweep(transfer, {
      set: ['train.model=resnet50v2', `train.pretrained=${other}`],
      workspace: dir,
    }).then(
      () => undefined,
      (caught: unknown) => caught as Error & { code: string },
    );
    expect(mismatched?.code).toBe('SPEC_INVALID');
    expect(mismatched?.message).toMatch(
      /pretrained: .* has no weights named conv1_conv\/kernel, .*do not match resnet50v2$/,
    );
  });
});
