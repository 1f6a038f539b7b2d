import * as tf from '@tensorflow/tfjs';
import type { Box, RgbImage } from '../image/rgb-image.js';
import type { FaceModels } from './face-models.js';

/** SSD MobileNet v1 always looks at a 512×512 input. */
const DETECTOR_SIZE = 512;

/** A detection mapped back to the image it came from. */
export interface MosaicDetection {
  image: number;
  box: Box;
  score: number;
}

/**
 * `grid`×`grid` cells, each image filling `fill` of its cell; the rest is mirrored border, which lets SSD see a face
 * that fills its crop edge to edge.
 */
export interface MosaicLayout {
  grid: number;
  fill: number;
}

interface Placement {
  index: number;
  image: RgbImage;
  left: number;
  top: number;
  scale: number;
}

/**
 * Runs the face detector once on a mosaic of `members` (indices into `images`, at most grid² of them), each scaled
 * into its cell with a mirrored border, and maps the boxes back to image pixels. The SSD costs the same
 * for one image or a mosaic, so this divides its cost by grid² for small images.
 */
export async function detectInMosaic(
  models: FaceModels,
  images: readonly RgbImage[],
  members: readonly number[],
  layout: MosaicLayout,
  minConfidence: number,
): Promise<MosaicDetection[]> {
  const { grid, fill } = layout;
  // Whole-pixel cells: the mosaic is written by index. A grid that does not divide 512 leaves a strip unused.
  const cell = Math.floor(DETECTOR_SIZE / grid);
  const mosaic = new Uint8Array(DETECTOR_SIZE * DETECTOR_SIZE * 3);
  const placements: Placement[] = members.map((index, slot) => {
    const image = images[index] as RgbImage;
    const origin = { x: (slot % grid) * cell, y: Math.floor(slot / grid) * cell };
    return { index, image, ...placeInCell(mosaic, image, origin, cell, fill) };
  });
  const input = tf.tensor3d(mosaic, [DETECTOR_SIZE, DETECTOR_SIZE, 3], 'int32');
  const found = await models.detector
    .locateFaces(input, { minConfidence, maxResults: 4 * grid * grid })
    .finally(() => input.dispose());
  return found.flatMap(({ box, score }) => {
    const column = Math.floor((box.x + box.width / 2) / cell);
    const row = Math.floor((box.y + box.height / 2) / cell);
    const place = column < grid && row < grid ? placements[row * grid + column] : undefined;
    if (!place) return [];
    const mapped = {
      x: (box.x - place.left) / place.scale,
      y: (box.y - place.top) / place.scale,
      width: box.width / place.scale,
      height: box.height / place.scale,
    };
    // The mirrored border holds reflections of the face; only boxes centred on the image itself are real.
    const centre = { x: mapped.x + mapped.width / 2, y: mapped.y + mapped.height / 2 };
    if (centre.x < 0 || centre.y < 0 || centre.x > place.image.width || centre.y > place.image.height) return [];
    return [{ image: place.index, box: clipBox(mapped, place.image), score }];
  });
}

/** `box` cut to the image. */
export function clipBox(box: Box, image: RgbImage): Box {
  const x = Math.max(0, Math.min(image.width - 1, box.x));
  const y = Math.max(0, Math.min(image.height - 1, box.y));
  return {
    x,
    y,
    width: Math.max(1, Math.min(image.width, box.x + box.width) - x),
    height: Math.max(1, Math.min(image.height, box.y + box.height) - y),
  };
}

/**
 * Draws `image` scaled into the cell at `origin`, centred, with the border filled by mirroring the image
 * (bilinear sampling); returns where the image's top-left corner landed and its scale.
 */
function placeInCell(
  mosaic: Uint8Array,
  image: RgbImage,
  origin: { x: number; y: number },
  cell: number,
  fill: number,
) {
  const scale = (cell * fill) / Math.max(image.width, image.height);
  const left = origin.x + (cell - image.width * scale) / 2;
  const top = origin.y + (cell - image.height * scale) / 2;
  for (let y = 0; y < cell; y++) {
    const sy = mirror((origin.y + y + 0.5 - top) / scale - 0.5, image.height);
    for (let x = 0; x < cell; x++) {
      const sx = mirror((origin.x + x + 0.5 - left) / scale - 0.5, image.width);
      sampleInto(mosaic, ((origin.y + y) * DETECTOR_SIZE + origin.x + x) * 3, image, sx, sy);
    }
  }
  return { left, top, scale };
}

/** Reflects a coordinate that falls outside [0, size-1] back inside, as a mirrored border does. */
function mirror(value: number, size: number): number {
  const max = size - 1;
  let v = value < 0 ? -value : value;
  if (v > max) v = Math.max(0, 2 * max - v);
  return Math.min(max, v);
}

function sampleInto(target: Uint8Array, at: number, image: RgbImage, sx: number, sy: number): void {
  const x0 = Math.floor(sx);
  const y0 = Math.floor(sy);
  const x1 = Math.min(image.width - 1, x0 + 1);
  const y1 = Math.min(image.height - 1, y0 + 1);
  const fx = sx - x0;
  const fy = sy - y0;
  const { data, width } = image;
  for (let c = 0; c < 3; c++) {
    const top = (data[(y0 * width + x0) * 3 + c] ?? 0) * (1 - fx) + (data[(y0 * width + x1) * 3 + c] ?? 0) * fx;
    const bottom = (data[(y1 * width + x0) * 3 + c] ?? 0) * (1 - fx) + (data[(y1 * width + x1) * 3 + c] ?? 0) * fx;
    target[at + c] = Math.round(top * (1 - fy) + bottom * fy);
  }
}
