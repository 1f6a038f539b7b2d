import sharp from 'sharp';
import { landmarkOf, type Point, type RgbImage } from './face-landmarks.js';
import { outlineMask, type MaskVariant } from './mask-geometry.js';
import { maskSvg, type MaskDrawing } from './mask-svg.js';
import type { MaskStyle } from './mask-style.js';

/** One mask to put on one face. */
export interface MaskRequest {
  landmarks: readonly Point[];
  variant: MaskVariant;
  style: MaskStyle;
}

/** The image with masks drawn, and how much of each pixel the masks cover (0..255). */
export interface DrawnMasks {
  image: RgbImage;
  coverage: Uint8Array;
}

/** Luminance of a face that a mask keeps its own colour on; darker faces darken the mask, brighter ones lighten it. */
const REFERENCE_LUMA = 165;

/**
 * Draws masks onto a copy of `image`: each outline is built from its face's landmarks ({@link outlineMask}), drawn as
 * SVG ({@link maskSvg}), rasterised by sharp (librsvg) and alpha-blended here, so the coverage map comes for free.
 * The shading follows the brightness measured on each side of the face.
 */
export async function drawMasks(image: RgbImage, requests: readonly MaskRequest[]): Promise<DrawnMasks> {
  const drawings: MaskDrawing[] = requests.map((request) => ({
    outline: outlineMask(request.variant, request.landmarks),
    style: request.style,
    lighting: measureLighting(image, request.landmarks),
  }));
  const svg = maskSvg(drawings, image.width, image.height);
  const layer = await sharp(Buffer.from(svg), { density: 72 })
    .resize(image.width, image.height, { fit: 'fill' })
    .ensureAlpha()
    .raw()
    .toBuffer();
  return blend(image, layer);
}

/** Alpha-blends an RGBA layer of the same size over `image`. */
function blend(image: RgbImage, layer: Uint8Array): DrawnMasks {
  const pixels = image.width * image.height;
  const out = new Uint8Array(image.data);
  const coverage = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p++) {
    const alpha = layer[p * 4 + 3] ?? 0;
    coverage[p] = alpha;
    if (alpha === 0) continue;
    const a = alpha / 255;
    for (let c = 0; c < 3; c++) {
      out[p * 3 + c] = Math.round((layer[p * 4 + c] ?? 0) * a + (image.data[p * 3 + c] ?? 0) * (1 - a));
    }
  }
  return { image: { data: out, width: image.width, height: image.height }, coverage };
}

/**
 * Brightness of the cheeks on each side of the nose relative to {@link REFERENCE_LUMA}, clamped to [0.3, 1.15]:
 * the mask's shading gradient runs between the two values.
 */
export function measureLighting(image: RgbImage, landmarks: readonly Point[]): { left: number; right: number } {
  const nose = landmarkOf(landmarks, 'noseTip');
  const radius = Math.max(
    1,
    0.1 * Math.hypot(nose.x - landmarkOf(landmarks, 'chin').x, nose.y - landmarkOf(landmarks, 'chin').y),
  );
  const cheek = (jaw: Point) => meanLuma(image, { x: (jaw.x + nose.x) / 2, y: (jaw.y + nose.y) / 2 }, radius);
  const clamp = (value: number) => Math.max(0.3, Math.min(1.15, value / REFERENCE_LUMA));
  return {
    left: clamp(cheek(landmarkOf(landmarks, 'jawLeftMouth'))),
    right: clamp(cheek(landmarkOf(landmarks, 'jawRightMouth'))),
  };
}

function meanLuma(image: RgbImage, centre: Point, radius: number): number {
  let sum = 0;
  let count = 0;
  const x0 = Math.max(0, Math.floor(centre.x - radius));
  const x1 = Math.min(image.width - 1, Math.ceil(centre.x + radius));
  const y0 = Math.max(0, Math.floor(centre.y - radius));
  const y1 = Math.min(image.height - 1, Math.ceil(centre.y + radius));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const at = (y * image.width + x) * 3;
      sum += 0.299 * (image.data[at] ?? 0) + 0.587 * (image.data[at + 1] ?? 0) + 0.114 * (image.data[at + 2] ?? 0);
      count++;
    }
  }
  return count === 0 ? REFERENCE_LUMA : sum / count;
}
