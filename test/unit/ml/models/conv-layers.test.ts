import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/ml/backend.js';
import { convLayerNames, lastConvLayerName } from '../../../../src/ml/models/conv-layers.js';
import { MODEL_CATALOG } from '../../../../src/ml/models/model-catalog.js';
import { buildModel } from '../../../../src/ml/models/registry.js';

describe('conv layers of a model', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });
  afterAll(() => tf.disposeVariables());

  it('basic-cnn: the three convolutions, the last one before flatten is the CAM layer (not its pooling)', async () => {
    const config = MODEL_CATALOG['basic-cnn'].config.parse({});
    const model = await buildModel('basic-cnn', config, { shape: [32, 32, 3], classCount: 2 });
    expect(convLayerNames(model)).toEqual(['conv1', 'conv2', 'conv3']);
    expect(lastConvLayerName(model)).toBe('conv3');
    model.dispose();
  });

  it('resnet50v2: 53 convolutions (Keras: 49 + 4 shortcuts), the CAM layer is post_relu after the last batch norm', async () => {
    const config = MODEL_CATALOG.resnet50v2.config.parse({});
    const model = await buildModel('resnet50v2', config, { shape: [32, 32, 3], classCount: 2 });
    const convs = convLayerNames(model);
    expect(convs).toHaveLength(53);
    expect(convs.at(-1)).toBe('conv5_block3_3_conv');
    expect(lastConvLayerName(model)).toBe('post_relu');
    model.dispose();
  });

  it('a model with no feature map is refused', () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [4] })] });
    expect(convLayerNames(model)).toEqual([]);
    expect(() => lastConvLayerName(model)).toThrow(/no layer with a spatial feature map/);
    model.dispose();
  });
});
