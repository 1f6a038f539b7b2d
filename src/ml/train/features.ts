import * as tf from '@tensorflow/tfjs';
import type { Preprocess } from '../models/model-catalog.js';
import { fitToModel, imagesTensor } from './tensors.js';

/** Images per forward pass when embedding: large enough to keep the backend busy, small enough for 224 px inputs. */
const EMBED_BATCH = 32;

/**
 * Runs `embedder` (an image → feature-vector model, ml/models/backbone.ts) over the images at `indices`, resized to
 * its input on the fly, in inference mode; returns the vectors row by row. `onBatch` hears how many are done.
 */
export async function embedImages(
  embedder: tf.LayersModel,
  images: Uint8Array,
  shape: [number, number, number],
  indices: readonly number[],
  preprocess: Preprocess,
  onBatch: (done: number) => void = () => undefined,
): Promise<Float32Array> {
  const width = featureWidth(embedder);
  const out = new Float32Array(indices.length * width);
  for (let start = 0; start < indices.length; start += EMBED_BATCH) {
    const batch = indices.slice(start, start + EMBED_BATCH);
    const features = tf.tidy(
      () => embedder.predict(fitToModel(imagesTensor(images, shape, batch, preprocess), embedder)) as tf.Tensor,
    );
    out.set(await features.data(), start * width);
    features.dispose();
    onBatch(start + batch.length);
  }
  return out;
}

/** Length of the feature vector `embedder` gives per image. */
export function featureWidth(embedder: tf.LayersModel): number {
  const shape = embedder.outputs[0]?.shape ?? [];
  return shape.at(-1) ?? 0;
}

/** The rows at `indices` of a row-major matrix with `width` columns, as a [indices.length, width] tensor. */
export function rowsTensor(matrix: Float32Array, width: number, indices: readonly number[]): tf.Tensor2D {
  const out = new Float32Array(indices.length * width);
  indices.forEach((row, at) => out.set(matrix.subarray(row * width, (row + 1) * width), at * width));
  return tf.tensor2d(out, [indices.length, width]);
}
