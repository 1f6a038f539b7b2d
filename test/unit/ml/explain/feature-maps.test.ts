import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/ml/backend.js';
import { featureMapLayers, readFeatureMaps } from '../../../../src/ml/explain/feature-maps.js';
import { buildBasicCnn } from '../../../../src/ml/models/basic-cnn.js';

beforeAll(async () => {
  await selectBackend('cpu');
});

/** Downsampling by strided convs, one max pool in the stem, as ResNet V2 and MobileNetV2 do. */
function stridedModel(): tf.LayersModel {
  const input = tf.input({ shape: [16, 16, 3] });
  const conv = (name: string, strides: number) =>
    tf.layers.conv2d({ name, filters: 3, kernelSize: 3, strides, padding: 'same', activation: 'relu' });
  const stem = conv('stem', 1).apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.maxPooling2d({ name: 'stem_pool', poolSize: 2 }).apply(stem) as tf.SymbolicTensor;
  const a = conv('block1_conv', 1).apply(pooled) as tf.SymbolicTensor;
  const b = conv('block2_conv1', 2).apply(a) as tf.SymbolicTensor;
  const c = conv('block2_conv2', 1).apply(b) as tf.SymbolicTensor;
  const pool = tf.layers.globalAveragePooling2d({ name: 'avg' }).apply(c) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 1, activation: 'sigmoid' }).apply(pool) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

describe('feature maps', () => {
  it('the basic CNN: the output of each conv+pool block', () => {
    const cnn = buildBasicCnn(
      { filters: [4, 6, 8], denseUnits: 4, dropout: 0.5 },
      { shape: [16, 16, 3], classCount: 2 },
    );
    expect(featureMapLayers(cnn).map((layer) => layer.name)).toEqual(['pool1', 'pool2', 'pool3']);
  });

  it('strided families: the pools, then the last conv at each smaller size', () => {
    expect(featureMapLayers(stridedModel()).map((layer) => layer.name)).toEqual(['stem_pool', 'block2_conv2']);
  });

  it('reads the first channels of each layer, channel-major planes of the layer output', () => {
    const cnn = buildBasicCnn(
      { filters: [4, 20, 8], denseUnits: 4, dropout: 0.5 },
      { shape: [8, 8, 3], classCount: 2 },
    );
    const input = tf.randomUniform<tf.Rank.R4>([1, 8, 8, 3], 0, 1, 'float32', 3);
    const layers = featureMapLayers(cnn);
    const maps = readFeatureMaps(cnn, input, layers, 16);
    expect(maps.map((m) => [m.layer, m.height, m.width, m.channels.length])).toEqual([
      ['pool1', 4, 4, 4],
      ['pool2', 2, 2, 16],
      ['pool3', 1, 1, 8],
    ]);
    const probe = tf.model({ inputs: cnn.inputs, outputs: cnn.getLayer('pool2').output });
    const direct = (probe.predict(input) as tf.Tensor).arraySync() as number[][][][];
    expect(maps[1]?.channels[5]?.[3]).toBeCloseTo(direct[0]?.[1]?.[1]?.[5] ?? NaN, 6);
  });
});
