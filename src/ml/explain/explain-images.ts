import type * as tf from '@tensorflow/tfjs';
import type { Preprocess } from '../models/model-catalog.js';
import { imagesTensor } from '../train/tensors.js';
import { classActivationMaps } from './class-activation-map.js';
import { featureMapLayers, readFeatureMaps, type FeatureMaps } from './feature-maps.js';
import { gradCams, type HeatMap } from './grad-cam.js';

/** Images (uint8 NHWC) and how the model expects them prepared. */
export interface ImageBatch {
  images: Uint8Array;
  shape: [number, number, number];
  preprocess: Preprocess;
}

/** How a heat map was computed: the CAM of a global-pooling + dense head, or Grad-CAM on the last conv layer. */
export type CamMethod = 'cam' | 'grad-cam';

/**
 * The heat map of each image for the class given beside it (usually the predicted one), all in one pass: the
 * report's CAM when the model ends in global average pooling + dense, Grad-CAM otherwise.
 */
export function explainImages(
  model: tf.LayersModel,
  batch: ImageBatch,
  targets: readonly { index: number; classIndex: number }[],
): { method: CamMethod; maps: HeatMap[] } {
  if (targets.length === 0) return { method: 'grad-cam', maps: [] };
  const input = imagesTensor(
    batch.images,
    batch.shape,
    targets.map((t) => t.index),
    batch.preprocess,
  );
  const classes = targets.map((t) => t.classIndex);
  try {
    const cams = classActivationMaps(model, input, classes);
    return cams ? { method: 'cam', maps: cams } : { method: 'grad-cam', maps: gradCams(model, input, classes) };
  } finally {
    input.dispose();
  }
}

/** The first `channels` feature maps after each conv+pool block ({@link featureMapLayers}) for each image. */
export function featureMapsOf(
  model: tf.LayersModel,
  batch: ImageBatch,
  indices: readonly number[],
  channels = 16,
): FeatureMaps[][] {
  const layers = featureMapLayers(model);
  return indices.map((index) => {
    const input = imagesTensor(batch.images, batch.shape, [index], batch.preprocess);
    try {
      return readFeatureMaps(model, input, layers, channels);
    } finally {
      input.dispose();
    }
  });
}
