import * as tf from '@tensorflow/tfjs';
import type { ModelInput } from './model-input.js';

/** The architecture of the report's CNN; validated by `BasicCnnConfigSchema` in model-catalog.ts. */
export interface BasicCnnConfig {
  /** Filters of the conv blocks, one block per entry. */
  filters: number[];
  /** Units of the hidden dense layer. */
  denseUnits: number;
  /** Dropout rate before the output layer. */
  dropout: number;
}

/**
 * The CNN of the report: conv(3×3, ReLU) + max-pool blocks, flatten, a hidden dense layer, dropout, and a sigmoid unit
 * for two classes or a softmax layer for more. Layer names are Keras' (test/fixtures/keras-models.json). Returned uncompiled, as Keras applications are: the optimizer and loss
 * belong to training (ml/train/optimizer.ts).
 */
export function buildBasicCnn(config: BasicCnnConfig, input: ModelInput): tf.Sequential {
  const model = tf.sequential();
  config.filters.forEach((filters, index) => {
    model.add(
      tf.layers.conv2d({
        ...(index === 0 ? { inputShape: input.shape } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: `conv${index + 1}`,
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, name: `pool${index + 1}` }));
  });
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ units: config.denseUnits, activation: 'relu', name: 'dense' }));
  model.add(tf.layers.dropout({ rate: config.dropout, name: 'dropout' }));
  const binary = input.classCount === 2;
  model.add(
    tf.layers.dense({
      units: binary ? 1 : input.classCount,
      activation: binary ? 'sigmoid' : 'softmax',
      name: 'output',
    }),
  );
  return model;
}
