import * as tf from '@tensorflow/tfjs';
import type { OptimizerName } from './optimizer-names.js';

/** What compiling a classifier needs from the training params. */
export interface CompileOptions {
  optimizer: OptimizerName;
  /** Learning rate. */
  lr: number;
}

/** A fresh tfjs optimizer with its default moments (tf.train.* as Keras' defaults, but for the rate). */
export function createOptimizer(name: OptimizerName, lr: number): tf.Optimizer {
  switch (name) {
    case 'sgd':
      return tf.train.sgd(lr);
    case 'adam':
      return tf.train.adam(lr);
    case 'rmsprop':
      return tf.train.rmsprop(lr);
  }
}

/**
 * Compiles a classifier from any family for training: binary cross-entropy on its sigmoid unit for two classes,
 * categorical cross-entropy on its softmax otherwise, with accuracy as the metric.
 */
export function compileClassifier(model: tf.LayersModel, options: CompileOptions, classCount: number): void {
  model.compile({
    optimizer: createOptimizer(options.optimizer, options.lr),
    loss: classCount === 2 ? 'binaryCrossentropy' : 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
}
