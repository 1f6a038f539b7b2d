import * as tf from '@tensorflow/tfjs';
import type { TrainParams } from '../stages/catalog.js';

/**
 * The CNN of the report: three conv(3×3, ReLU) + max-pool blocks, flatten, a hidden dense layer, dropout, and a
 * sigmoid unit for two classes (binary cross-entropy) or a softmax layer for more (categorical cross-entropy).
 */
export function buildBasicCnn(
  params: TrainParams,
  inputShape: [number, number, number],
  classCount: number,
): tf.Sequential {
  const model = tf.sequential();
  params.filters.forEach((filters, index) => {
    model.add(
      tf.layers.conv2d({
        ...(index === 0 ? { inputShape } : {}),
        filters,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        name: `conv${index + 1}`,
      }),
    );
    model.add(tf.layers.maxPooling2d({ poolSize: 2, name: `pool${index + 1}` }));
  });
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: params.denseUnits, activation: 'relu', name: 'dense' }));
  model.add(tf.layers.dropout({ rate: params.dropout }));
  const binary = classCount === 2;
  model.add(
    tf.layers.dense({ units: binary ? 1 : classCount, activation: binary ? 'sigmoid' : 'softmax', name: 'output' }),
  );
  model.compile({
    optimizer: createOptimizer(params.optimizer, params.lr),
    loss: binary ? 'binaryCrossentropy' : 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}

function createOptimizer(name: TrainParams['optimizer'], lr: number): tf.Optimizer {
  switch (name) {
    case 'sgd':
      return tf.train.sgd(lr);
    case 'adam':
      return tf.train.adam(lr);
    case 'rmsprop':
      return tf.train.rmsprop(lr);
  }
}

/** Images (uint8 NHWC) at `indices` as floats scaled to [0, 1]. */
export function imagesArray(
  images: Uint8Array,
  shape: [number, number, number],
  indices: readonly number[],
): Float32Array {
  const size = shape[0] * shape[1] * shape[2];
  const batch = new Float32Array(indices.length * size);
  indices.forEach((index, at) => {
    const source = images.subarray(index * size, (index + 1) * size);
    for (let i = 0; i < size; i++) batch[at * size + i] = (source[i] ?? 0) / 255;
  });
  return batch;
}

/** Images (uint8 NHWC) at `indices` as a float tensor scaled to [0, 1]. */
export function imagesTensor(
  images: Uint8Array,
  shape: [number, number, number],
  indices: readonly number[],
): tf.Tensor4D {
  return tf.tensor4d(imagesArray(images, shape, indices), [indices.length, ...shape]);
}

/** Labels as the model's target: a column of 0/1 for two classes, one-hot rows otherwise. */
export function labelsTensor(labels: readonly number[], classCount: number): tf.Tensor2D {
  if (classCount === 2) return tf.tensor2d([...labels], [labels.length, 1]);
  return tf.tidy(() => tf.oneHot(tf.tensor1d([...labels], 'int32'), classCount).toFloat() as tf.Tensor2D);
}

/** Per image: the predicted class and its probability. */
export function decide(probabilities: Float32Array, rows: number, classCount: number, threshold = 0.5) {
  return Array.from({ length: rows }, (_, row) => {
    if (classCount === 2) {
      const p = probabilities[row] ?? 0;
      return p >= threshold ? { label: 1, confidence: p } : { label: 0, confidence: 1 - p };
    }
    let best = 0;
    for (let k = 1; k < classCount; k++) {
      if ((probabilities[row * classCount + k] ?? 0) > (probabilities[row * classCount + best] ?? 0)) best = k;
    }
    return { label: best, confidence: probabilities[row * classCount + best] ?? 0 };
  });
}

/** Model outputs for every image, computed in batches to bound memory. */
export async function predictImages(
  model: tf.LayersModel,
  images: Uint8Array,
  shape: [number, number, number],
  count: number,
  batchSize = 64,
): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    const output = tf.tidy(() => model.predict(imagesTensor(images, shape, indices)) as tf.Tensor);
    parts.push((await output.data()) as Float32Array);
    output.dispose();
  }
  const total = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    total.set(part, offset);
    offset += part.length;
  }
  return total;
}
