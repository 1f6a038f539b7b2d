import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { Box, RgbImage } from '../image/rgb-image.js';
import { clipBox } from './face-mosaic.js';
import type { FaceModels } from './face-models.js';

/** A face the detector found in a photo: its box in the photo's pixels and the detector's score. */
export interface DetectedFace {
  box: Box;
  score: number;
}

/** How faces are searched for in a photo. */
export interface SceneSearchOptions {
  /** Detector score a face needs (0..1). */
  minConfidence: number;
  /** At most this many faces, best first. */
  maxFaces: number;
}

/** Space added around a detected box, as a share of its width (left and right) and height (top and bottom). */
export interface CropMargin {
  x: number;
  y: number;
}

/**
 * The margin of the training crops: on the data set's images the detector's box leaves a median of 0.04 (left) +
 * 0.10 (right) of the box width and 0.07 (top) + 0.08 (bottom) of its height around the face
 * (bench/face-crop-margin.ts, bench/results/face-crop-margin.json); split evenly, 0.07 and 0.08 a side.
 */
export const TRAINING_CROP_MARGIN: CropMargin = { x: 0.07, y: 0.08 };

/**
 * Every face SSD MobileNet v1 finds in one photo, best first, boxes clipped to the photo. Unlike the synthesize
 * stage's search (`findFaces`) there is no mosaic and no landmark fallback: a photo of a scene is searched
 * whole, and a box without a face in it is not one to classify.
 */
export async function detectSceneFaces(
  models: FaceModels,
  image: RgbImage,
  options: SceneSearchOptions,
): Promise<DetectedFace[]> {
  const input = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
  const hits = await models.detector
    .locateFaces(input, { minConfidence: options.minConfidence, maxResults: Math.max(1, options.maxFaces) })
    .finally(() => input.dispose());
  return hits
    .map((hit) => ({ box: clipBox(hit.box, image), score: hit.score }))
    .sort((a, b) => b.score - a.score)
    .slice(0, options.maxFaces);
}

/** `box` grown by `margin` on every side, snapped to whole pixels inside the image. */
export function marginBox(box: Box, image: { width: number; height: number }, margin: CropMargin): Box {
  // Snapped with a little tolerance, so float noise (2 + 50 × 1.1 = 57.000…01) does not add a pixel.
  const floor = (v: number) => Math.floor(v + 1e-6);
  const ceil = (v: number) => Math.ceil(v - 1e-6);
  const left = Math.max(0, floor(box.x - margin.x * box.width));
  const top = Math.max(0, floor(box.y - margin.y * box.height));
  const right = Math.min(image.width, ceil(box.x + box.width + margin.x * box.width));
  const bottom = Math.min(image.height, ceil(box.y + box.height + margin.y * box.height));
  return { x: left, y: top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) };
}

/**
 * Each face cut out with `margin` around its box and stretched to `size`×`size` (as ingest's `fill` resize does to a
 * whole training image), concatenated as uint8 NHWC.
 */
export async function cropFaces(
  image: RgbImage,
  boxes: readonly Box[],
  size: number,
  margin: CropMargin = TRAINING_CROP_MARGIN,
): Promise<Uint8Array> {
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  const crops = await Promise.all(
    boxes.map((box) => {
      const { x, y, width, height } = marginBox(box, image, margin);
      return sharp(image.data, { raw })
        .extract({ left: x, top: y, width, height })
        .resize(size, size, { fit: 'fill' })
        .raw()
        .toBuffer();
    }),
  );
  return new Uint8Array(Buffer.concat(crops));
}
