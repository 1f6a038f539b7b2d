import * as tf from '@tensorflow/tfjs';
import type { Box, Point, RgbImage } from '../image/rgb-image.js';
import { checkLandmarks, LANDMARK_COUNT, type Face } from './landmarks.js';
import { clipBox, detectInMosaic, type MosaicLayout } from './face-mosaic.js';
import type { FaceModels } from './face-models.js';

/** How faces are searched for; see {@link findFaces}. */
export interface FindFacesOptions {
  /** Detector score a face needs. */
  minConfidence: number;
  /** At most this many faces per image, best first. */
  maxFaces: number;
  /** Run landmarks on the whole image when the detector finds nothing (tight face crops). */
  fallback: boolean;
}

/** The faces of one image, or why there are none. */
export interface FaceSearch {
  faces: Face[];
  reason?: string;
}

interface Candidate {
  image: number;
  box: Box;
  score: number;
  method: Face['method'];
}

/** Images up to this size on their longer side are searched in mosaics. */
export const MOSAIC_MAX_SIDE = 256;
/**
 * First pass: 6×6 images per detector call, where it finds ~94% of the data set's face crops; the ones it misses get
 * a second look 3×3, larger (see bench/synthesize-throughput.ts).
 */
const MOSAIC_PASSES: readonly MosaicLayout[] = [
  { grid: 6, fill: 0.9 },
  { grid: 3, fill: 0.8 },
];
const LANDMARK_BATCH = 16;
/** Luminance standard deviation below which an image is treated as blank. */
const MIN_CONTRAST = 6;
/** The whole-image check crops this share off every side and runs the landmarks again. */
const INSET = 0.08;
/**
 * Mean landmark shift between the whole image and the inset crop, as a share of the image width, above which the
 * landmarks follow the crop rather than the face: the net then draws its average face into whatever it is given.
 * Measured: median 0.024 on face images, 0.052 on non-face patches.
 */
const MAX_DRIFT = 0.03;

/**
 * Finds faces and their 68 landmarks in a batch of images. Small images (tight face crops) are searched 16 to a
 * detector call in mosaics (see {@link detectInMosaic}), larger ones one by one. Where the detector finds nothing,
 * landmarks run on the whole image, kept only if they look like a face ({@link checkLandmarks}) and stay put when the
 * image is cropped a little: the landmark net returns 68 points for anything. Landmark calls are batched.
 */
export async function findFaces(
  models: FaceModels,
  images: readonly RgbImage[],
  options: FindFacesOptions,
): Promise<FaceSearch[]> {
  const candidates = await detectFaces(models, images, options);
  const reasons = new Map<number, string>();
  const fallbacks: Candidate[] = [];
  images.forEach((image, index) => {
    if (candidates.some((c) => c.image === index)) return;
    if (!options.fallback) reasons.set(index, 'no face found');
    else if (contrastOf(image) < MIN_CONTRAST) reasons.set(index, 'no face found (blank image)');
    else fallbacks.push({ image: index, box: wholeBox(image), score: 0, method: 'whole-image' });
  });
  const insets = fallbacks.map((c) => ({ ...c, box: insetBox(c.box) }));
  const landmarks = await locateLandmarks(models, images, [...candidates, ...fallbacks, ...insets]);
  const results: FaceSearch[] = images.map(() => ({ faces: [] }));
  [...candidates, ...fallbacks].forEach((candidate, k) => {
    const points = landmarks[k] ?? [];
    const whole = candidate.method === 'whole-image';
    let problem = checkLandmarks(points, candidate.box, whole);
    if (problem === undefined && whole) {
      const drift = driftOf(points, landmarks[k + fallbacks.length] ?? []) / candidate.box.width;
      if (drift > MAX_DRIFT) problem = 'landmarks do not follow the image';
    }
    if (problem === undefined) results[candidate.image]?.faces.push({ ...candidate, landmarks: points });
    else if (!reasons.has(candidate.image)) {
      reasons.set(
        candidate.image,
        whole ? `no face found (${problem})` : `face found, landmarks rejected (${problem})`,
      );
    }
  });
  return results.map((result, index) =>
    result.faces.length > 0 ? result : { faces: [], reason: reasons.get(index) ?? 'no face found' },
  );
}

/** Detector boxes of every image, best first, at most `maxFaces` each. */
async function detectFaces(models: FaceModels, images: readonly RgbImage[], options: FindFacesOptions) {
  const found: Candidate[] = [];
  const add = (image: number, box: Box, score: number) => found.push({ image, box, score, method: 'detector' });
  for (const layout of MOSAIC_PASSES) {
    const size = layout.grid * layout.grid;
    const pending = images.flatMap((image, index) =>
      isSmall(image) && !found.some((c) => c.image === index) ? [index] : [],
    );
    for (let start = 0; start < pending.length; start += size) {
      const members = pending.slice(start, start + size);
      for (const hit of await detectInMosaic(models, images, members, layout, options.minConfidence)) {
        add(hit.image, hit.box, hit.score);
      }
    }
  }
  for (const [index, image] of images.entries()) {
    if (isSmall(image)) continue;
    const input = tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
    const hits = await models.detector
      .locateFaces(input, { minConfidence: options.minConfidence, maxResults: 50 })
      .finally(() => input.dispose());
    for (const hit of hits) add(index, clipBox(hit.box, image), hit.score);
  }
  return images.flatMap((_, index) =>
    found
      .filter((c) => c.image === index)
      .sort((a, b) => b.score - a.score)
      .slice(0, options.maxFaces),
  );
}

function isSmall(image: RgbImage): boolean {
  return Math.max(image.width, image.height) <= MOSAIC_MAX_SIDE;
}

/** 68 landmarks per candidate, in image pixels; one landmark-net call per {@link LANDMARK_BATCH} faces. */
async function locateLandmarks(models: FaceModels, images: readonly RgbImage[], candidates: readonly Candidate[]) {
  const tensors = new Map<number, tf.Tensor3D>();
  const tensorOf = (index: number) => {
    const image = images[index] as RgbImage;
    const tensor = tensors.get(index) ?? tf.tensor3d(image.data, [image.height, image.width, 3], 'int32');
    tensors.set(index, tensor);
    return tensor;
  };
  const result: Point[][] = [];
  try {
    for (let start = 0; start < candidates.length; start += LANDMARK_BATCH) {
      const batch = candidates.slice(start, start + LANDMARK_BATCH);
      const boxes = batch.map((c) => pixelBox(c.box, images[c.image] as RgbImage));
      const crops = batch.map((c, k) => {
        const box = boxes[k] as Box;
        return tf.slice(tensorOf(c.image), [box.y, box.x, 0], [box.height, box.width, 3]);
      });
      const output = models.landmarks.forwardInput(models.toNetInput(crops));
      const rows = await output.array();
      output.dispose();
      crops.forEach((crop) => crop.dispose());
      boxes.forEach((box, k) => result.push(toImagePoints(rows[k] ?? [], box)));
    }
  } finally {
    tensors.forEach((tensor) => tensor.dispose());
  }
  return result;
}

/** `box` snapped to whole pixels inside the image, as the landmark net sees it. */
function pixelBox(box: Box, image: RgbImage): Box {
  const x = Math.floor(box.x);
  const y = Math.floor(box.y);
  return {
    x,
    y,
    width: Math.max(1, Math.min(image.width - x, Math.round(box.width))),
    height: Math.max(1, Math.min(image.height - y, Math.round(box.height))),
  };
}

/** The landmark net's output row (x, y relative to the crop) as image points. */
function toImagePoints(row: number[], box: Box): Point[] {
  return Array.from({ length: LANDMARK_COUNT }, (_, i) => ({
    x: box.x + (row[2 * i] ?? NaN) * box.width,
    y: box.y + (row[2 * i + 1] ?? NaN) * box.height,
  }));
}

function wholeBox(image: RgbImage): Box {
  return { x: 0, y: 0, width: image.width, height: image.height };
}

function insetBox(box: Box): Box {
  const dx = Math.round(box.width * INSET);
  const dy = Math.round(box.height * INSET);
  return { x: box.x + dx, y: box.y + dy, width: box.width - 2 * dx, height: box.height - 2 * dy };
}

/** Mean distance between corresponding points. */
function driftOf(a: readonly Point[], b: readonly Point[]): number {
  if (a.length !== b.length || a.length === 0) return Infinity;
  return a.reduce((sum, p, i) => sum + Math.hypot(p.x - (b[i]?.x ?? NaN), p.y - (b[i]?.y ?? NaN)), 0) / a.length;
}

/** Standard deviation of luminance, on a sparse grid of pixels. */
function contrastOf(image: RgbImage): number {
  const pixels = image.width * image.height;
  const step = Math.max(1, Math.floor(pixels / 4096));
  let sum = 0;
  let squares = 0;
  let count = 0;
  for (let p = 0; p < pixels; p += step) {
    const [r = 0, g = 0, b = 0] = image.data.subarray(p * 3, p * 3 + 3);
    const luma = 0.299 * r + 0.587 * g + 0.114 * b;
    sum += luma;
    squares += luma * luma;
    count++;
  }
  const mean = sum / count;
  return Math.sqrt(Math.max(0, squares / count - mean * mean));
}
