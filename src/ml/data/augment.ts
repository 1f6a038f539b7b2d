/**
 * Ranges of the random affine augmentation, as Keras' ImageDataGenerator takes them; each transform is drawn uniformly
 * within ±range.
 */
export interface AugmentOptions {
  /** Max rotation in degrees. */
  rotation: number;
  /** Max horizontal shift, fraction of the width. */
  widthShift: number;
  /** Max vertical shift, fraction of the height. */
  heightShift: number;
  /** Max shear in degrees. */
  shear: number;
  /** Zoom range: scale drawn from [1 - zoom, 1 + zoom]. */
  zoom: number;
  /** Flip half of the images left-right. */
  horizontalFlip: boolean;
}
/** Whether any augmentation is switched on. */
export function isAugmenting(params: AugmentOptions | undefined): params is AugmentOptions {
  return (
    !!params &&
    (params.rotation > 0 ||
      params.widthShift > 0 ||
      params.heightShift > 0 ||
      params.shear > 0 ||
      params.zoom > 0 ||
      params.horizontalFlip)
  );
}

/**
 * Random affine augmentation as Keras' ImageDataGenerator draws it (rotation, shifts, shear, zoom, horizontal flip,
 * `nearest` fill), one transform per image, applied in place to a float NHWC batch. Plain JS on purpose: it gives the
 * same pixels on every tfjs backend, and the native one has no Transform kernel.
 */
export function augmentBatch(
  batch: Float32Array,
  shape: readonly [count: number, height: number, width: number, channels: number],
  params: AugmentOptions,
  random: () => number,
): void {
  const [count, height, width, channels] = shape;
  const size = height * width * channels;
  for (let n = 0; n < count; n++) {
    const source = batch.slice(n * size, (n + 1) * size);
    const target = batch.subarray(n * size, (n + 1) * size);
    warpImage(source, target, height, width, channels, drawTransform(params, height, width, random));
  }
}

/** Bilinear resampling of `source` into `target` through an output→input transform; outside points take the nearest edge. */
export function warpImage(
  source: Float32Array,
  target: Float32Array,
  height: number,
  width: number,
  channels: number,
  t: number[],
): void {
  const [a0 = 1, a1 = 0, a2 = 0, b0 = 0, b1 = 1, b2 = 0] = t;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = Math.min(width - 1, Math.max(0, a0 * x + a1 * y + a2));
      const sy = Math.min(height - 1, Math.max(0, b0 * x + b1 * y + b2));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(width - 1, x0 + 1);
      const y1 = Math.min(height - 1, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < channels; c++) {
        const at = (yy: number, xx: number) => source[(yy * width + xx) * channels + c] ?? 0;
        const top = at(y0, x0) * (1 - fx) + at(y0, x1) * fx;
        const bottom = at(y1, x0) * (1 - fx) + at(y1, x1) * fx;
        target[(y * width + x) * channels + c] = top * (1 - fy) + bottom * fy;
      }
    }
  }
}

/** One output→input transform [a0 a1 a2 b0 b1 b2 0 0] (tf.image.transform's convention). */
export function drawTransform(params: AugmentOptions, height: number, width: number, random: () => number): number[] {
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
  m = multiply(
    [
      [zx, 0, 0],
      [0, zy, 0],
    ],
    m,
  );
  m = multiply(
    [
      [1, -Math.sin(shear), 0],
      [0, Math.cos(shear), 0],
    ],
    m,
  );
  m = multiply(
    [
      [Math.cos(theta), -Math.sin(theta), 0],
      [Math.sin(theta), Math.cos(theta), 0],
    ],
    m,
  );
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  m = multiply(m, [
    [1, 0, -cx],
    [0, 1, -cy],
  ]);
  m = multiply(
    [
      [1, 0, cx + tx],
      [0, 1, cy + ty],
    ],
    m,
  );
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
