import * as tf from '@tensorflow/tfjs';

/** The options every family with a backbone shares; validated by `transferOptions` in model-catalog.ts. */
export interface TransferConfig {
  /** Side of the square input images are resized to, on the fly. */
  inputSize: number;
  /** Dropout rate between global pooling and the output layer. */
  dropout: number;
  /** Starting weights: `true` the family's packaged ones, `false` fresh initializers, a path a tfjs Layers model. */
  pretrained: boolean | string;
  /** Layers that do not train: the whole backbone, none, or this many leading layers. */
  freeze: 'backbone' | 'none' | number;
  /** Two-phase recipe: after `afterEpochs` epochs with the backbone frozen, unfreeze it and go on at lr × lrFactor. */
  fineTune?: { afterEpochs: number; lrFactor: number } | undefined;
}

/** Name of the head's first layer: every layer before it belongs to the backbone. */
export const HEAD_FIRST_LAYER = 'avg_pool';

/**
 * The head every backbone family gets (as in Keras' transfer-learning guide): global average pooling `avg_pool`,
 * dropout `head_dropout`, and a sigmoid unit for two classes or a softmax layer for more, `predictions`.
 */
export function addTransferHead(
  features: tf.SymbolicTensor,
  config: Pick<TransferConfig, 'dropout'>,
  classCount: number,
): tf.SymbolicTensor {
  const pooled = tf.layers.globalAveragePooling2d({ name: HEAD_FIRST_LAYER }).apply(features) as tf.SymbolicTensor;
  const dropped = tf.layers.dropout({ rate: config.dropout, name: 'head_dropout' }).apply(pooled) as tf.SymbolicTensor;
  const binary = classCount === 2;
  const output = tf.layers.dense({
    units: binary ? 1 : classCount,
    activation: binary ? 'sigmoid' : 'softmax',
    name: 'predictions',
  });
  return output.apply(dropped) as tf.SymbolicTensor;
}
