import type * as tf from '@tensorflow/tfjs';
import type { Preprocess } from '../models/model-catalog.js';
import { imagesTensor } from '../train/tensors.js';
import { classActivationMap } from './class-activation-map.js';
import { featureMapLayers, readFeatureMaps, type FeatureMaps } from './feature-maps.js';
import { gradCam, type HeatMap } from './grad-cam.js';

/** Images (uint8 NHWC) and how the model expects them prepared. */
export interface ImageBatch {
  images: Uint8Array;
  shape: [number, number, number];
  preprocess: Preprocess;
}

/** How a heat map was computed: the CAM of a global-pooling + dense head, or Grad-CAM on the last conv layer. */
export type CamMethod = 'cam' | 'grad-cam';

/**
 * The heat map of each image for the class given beside it (usually the predicted one): the report's CAM when the
 * model ends in global average pooling + dense, Grad-CAM otherwise.
 */
export function explainImages(
  model: tf.LayersModel,
  batch: ImageBatch,
  targets: readonly { index: number; classIndex: number }[],
): { method: CamMethod; maps: HeatMap[] } {
  let method: CamMethod = 'cam';
  const maps = targets.map(({ index, classIndex }) => {
    const input = imagesTensor(batch.images, batch.shape, [index], batch.preprocess);
    try {
      const cam = method === 'cam' ? classActivationMap(model, input, { classIndex }) : undefined;
      if (cam) return cam;
      method = 'grad-cam';
      return gradCam(model, input, { classIndex });
    } finally {
      input.dispose();
    }
  });
  return { method, maps };
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
