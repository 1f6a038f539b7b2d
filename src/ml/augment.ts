import * as tf from '@tensorflow/tfjs';
import type { AugmentParams } from '../stages/catalog.js';

/** Whether any augmentation is switched on. */
export function isAugmenting(params: AugmentParams | undefined): params is AugmentParams {
  return !!params && (params.rotation > 0 || params.widthShift > 0 || params.heightShift > 0 || params.shear > 0 || params.zoom > 0 || params.horizontalFlip);
}

/**
 * Random affine augmentation as Keras' ImageDataGenerator draws it (rotation, shifts, shear, zoom, horizontal flip,
 * nearest fill), one transform per image, applied with tf.image.transform.
 */
export function augmentBatch(images: tf.Tensor4D, params: AugmentParams, random: () => number): tf.Tensor4D {
  const [count, height, width] = images.shape;
  const transforms = Array.from({ length: count }, () => drawTransform(params, height, width, random));
  return tf.tidy(() => tf.image.transform(images, tf.tensor2d(transforms.flat(), [count, 8]), 'bilinear', 'nearest'));
}

/** One output→input projective transform [a0 a1 a2 b0 b1 b2 0 0] (tf.image.transform's convention). */
export function drawTransform(params: AugmentParams, height: number, width: number, random: () => number): number[] {
  const uniform = (limit: number) => (random() * 2 - 1) * limit;
  const theta = (uniform(params.rotation) * Math.PI) / 180;
  const shear = (uniform(params.shear) * Math.PI) / 180;
  const zx = 1 + uniform(params.zoom);
  const zy = 1 + uniform(params.zoom);
  const tx = uniform(params.widthShift) * width;
  const ty = uniform(params.heightShift) * height;
  const flip = params.horizontalFlip && random() < 0.5 ? -1 : 1;
  // M = Shift · Rotate · Shear · Zoom · Flip, about the image centre.
  let m: Matrix = [
    [flip, 0, 0],
    [0, 1, 0],
  ];
  m = multiply([[zx, 0, 0], [0, zy, 0]], m);
  m = multiply([[1, -Math.sin(shear), 0], [0, Math.cos(shear), 0]], m);
  m = multiply([[Math.cos(theta), -Math.sin(theta), 0], [Math.sin(theta), Math.cos(theta), 0]], m);
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  m = multiply(m, [[1, 0, -cx], [0, 1, -cy]]);
  m = multiply([[1, 0, cx + tx], [0, 1, cy + ty]], m);
  const [[a0, a1, a2], [b0, b1, b2]] = m;
  return [a0, a1, a2, b0, b1, b2, 0, 0];
}

type Matrix = [[number, number, number], [number, number, number]];

/** Product of two 2×3 affine matrices (implicit last row 0 0 1). */
function multiply(a: Matrix, b: Matrix): Matrix {
  const row = (r: [number, number, number]): [number, number, number] => [
    r[0] * b[0][0] + r[1] * b[1][0],
    r[0] * b[0][1] + r[1] * b[1][1],
    r[0] * b[0][2] + r[1] * b[1][2] + r[2],
  ];
  return [row(a[0]), row(a[1])];
}
