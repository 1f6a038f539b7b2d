import * as tf from '@tensorflow/tfjs';
import type { Preprocess } from '../models/model-catalog.js';

/** Images (uint8 NHWC) at `indices` as floats, prepared as the model family expects (`unit`: scaled to [0, 1]). */
export function imagesArray(
  images: Uint8Array,
  shape: [number, number, number],
  indices: readonly number[],
  preprocess: Preprocess,
): Float32Array {
  const size = shape[0] * shape[1] * shape[2];
  const batch = new Float32Array(indices.length * size);
  const divisor = divisorOf(preprocess);
  indices.forEach((index, at) => {
    const source = images.subarray(index * size, (index + 1) * size);
    for (let i = 0; i < size; i++) batch[at * size + i] = (source[i] ?? 0) / divisor;
  });
  return batch;
}

/** {@link imagesArray} as a float tensor. */
export function imagesTensor(
  images: Uint8Array,
  shape: [number, number, number],
  indices: readonly number[],
  preprocess: Preprocess,
): tf.Tensor4D {
  return tf.tensor4d(imagesArray(images, shape, indices, preprocess), [indices.length, ...shape]);
}

/** Labels as the model's target: a column of 0/1 for two classes, one-hot rows otherwise. */
export function labelsTensor(labels: readonly number[], classCount: number): tf.Tensor2D {
  if (classCount === 2) return tf.tensor2d([...labels], [labels.length, 1]);
  return tf.tidy(() => tf.oneHot(tf.tensor1d([...labels], 'int32'), classCount).toFloat() as tf.Tensor2D);
}

/** What pixels are divided by. */
function divisorOf(preprocess: Preprocess): number {
  switch (preprocess) {
    case 'unit':
      return 255;
  }
}
