import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planSweep } from '../../../src/plan/plan-sweep.js';
import { loadSweep } from '../../../src/spec/load-sweep.js';
import { parseSetFlag } from '../../../src/spec/overrides.js';
import { ROOT } from '../../helpers/temp-project.js';

const transfer = path.join(ROOT, 'experiments/sweeps/transfer-lr-optimizer.yaml');

describe('embed nodes for frozen backbones', async () => {
  const plan = planSweep(await loadSweep(transfer));
  const embeds = plan.nodes.filter((node) => node.kind === 'embed');

  it('a 12-trial frozen-backbone sweep has one embed node, shared by every trial, needed by every train node', () => {
    expect(plan.trials).toHaveLength(12);
    expect(embeds).toHaveLength(1);
    const [embed] = embeds;
    expect(embed).toMatchObject({ id: 'train-embed', trial: null, needs: ['split'] });
    expect(embed?.trials).toHaveLength(12);
    // Packaged weights replace every backbone weight, so the seed is not part of the features' key.
    expect(embed?.params).toEqual({ model: 'mobilenetv2', inputSize: 128, pretrained: true, seed: 0 });
    const trains = plan.nodes.filter((node) => node.kind === 'train');
    expect(trains).toHaveLength(12);
    for (const train of trains) {
      expect(train.needs).toEqual(['split', 'train-embed']);
      expect(train.note).toMatch(/head only/);
    }
  });

  it('another grid over the head (epochs, dropout) reuses the same embed node; the input size does not', async () => {
    const other = planSweep(
      await loadSweep(transfer, [parseSetFlag('train.epochs=2'), parseSetFlag('train.dropout=0.2')]),
    );
    expect(other.nodes.filter((node) => node.kind === 'embed').map((node) => node.cacheKey)).toEqual([
      embeds[0]?.cacheKey,
    ]);
    const resized = planSweep(await loadSweep(transfer, [parseSetFlag('train.inputSize=96')]));
    expect(resized.nodes.find((node) => node.kind === 'embed')?.cacheKey).not.toBe(embeds[0]?.cacheKey);
  });

  it('augmentation, fine-tuning or an unfrozen backbone train end to end: no embed node, and the plan says why', async () => {
    const cases = [
      ['train.augment={"horizontalFlip": true}', /augmentation/],
      ['train.fineTune={"afterEpochs": 2}', /fineTune/],
      ['train.freeze=none', /freeze: none/],
      ['train.freeze=10', /freeze: 10/],
    ] as const;
    for (const [flag, reason] of cases) {
      const endToEnd = planSweep(await loadSweep(transfer, [parseSetFlag(flag)]));
      expect(endToEnd.nodes.filter((node) => node.kind === 'embed')).toEqual([]);
      const train = endToEnd.nodes.find((node) => node.kind === 'train');
      expect(train?.needs).toEqual(['split']);
      expect(train?.note).toMatch(reason);
    }
  });

  it('the basic CNN gets no embed node and no note', async () => {
    const plain = planSweep(await loadSweep(path.join(ROOT, 'experiments/sweeps/lr-optimizer.yaml')));
    expect(plain.nodes.some((node) => node.kind === 'embed' || node.note !== undefined)).toBe(false);
  });
});
