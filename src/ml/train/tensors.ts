import * as tf from '@tensorflow/tfjs';
import type { Preprocess } from '../models/model-catalog.js';

/** Images (uint8 NHWC) at `indices` as floats, prepared as the model family expects (model-catalog.ts `Preprocess`). */
export function imagesArray(
  images: Uint8Array,
  shape: [number, number, number],
  indices: readonly number[],
  preprocess: Preprocess,
): Float32Array {
  const size = shape[0] * shape[1] * shape[2];
  const batch = new Float32Array(indices.length * size);
  const [divisor, offset] = scaleOf(preprocess);
  indices.forEach((index, at) => {
    const source = images.subarray(index * size, (index + 1) * size);
    for (let i = 0; i < size; i++) batch[at * size + i] = (source[i] ?? 0) / divisor - offset;
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

/** What pixels are divided by, and what is then subtracted. */
function scaleOf(preprocess: Preprocess): [number, number] {
  switch (preprocess) {
    case 'unit':
      return [255, 0];
    case 'symmetric':
      return [127.5, 1];
  }
}

/**
 * `images` resized (bilinear, as Keras' image resizing) to the square input `model` takes, when their size differs;
 * disposes the original then. Models with a fixed input size train and predict on images of any size this way.
 */
export function fitToModel(images: tf.Tensor4D, model: tf.LayersModel): tf.Tensor4D {
  const [, height, width] = model.inputs[0]?.shape ?? [];
  if (height == null || width == null || (images.shape[1] === height && images.shape[2] === width)) return images;
  const resized = tf.image.resizeBilinear(images, [height, width]);
  images.dispose();
  return resized;
}
