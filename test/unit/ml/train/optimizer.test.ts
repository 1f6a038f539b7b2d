import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/ml/backend.js';
import { buildBasicCnn } from '../../../../src/ml/models/basic-cnn.js';
import { compileClassifier, createOptimizer } from '../../../../src/ml/train/optimizer.js';

describe('compiling a classifier', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('binary cross-entropy for two classes, categorical for more, with the asked optimizer and rate', () => {
    const build = (classCount: number) =>
      buildBasicCnn({ filters: [1, 1, 1], denseUnits: 2, dropout: 0 }, { shape: [8, 8, 1], classCount });
    const binary = build(2);
    compileClassifier(binary, { optimizer: 'sgd', lr: 0.05 }, 2);
    expect(binary.loss).toBe('binaryCrossentropy');
    expect(binary.optimizer.getClassName()).toBe('SGD');
    expect(binary.optimizer.getConfig().learningRate).toBe(0.05);
    const multi = build(4);
    compileClassifier(multi, { optimizer: 'rmsprop', lr: 0.01 }, 4);
    expect(multi.loss).toBe('categoricalCrossentropy');
    expect(multi.optimizer.getClassName()).toBe('RMSProp');
    expect(createOptimizer('adam', 0.002).getConfig().learningRate).toBe(0.002);
  });
});
