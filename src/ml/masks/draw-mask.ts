import sharp from 'sharp';
import { landmarkOf } from '../faces/landmarks.js';
import type { Point, RgbImage } from '../image/rgb-image.js';
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
 * The shading follows the brightness measured on each side of the face. Here too, because it is cheaper than in
 * librsvg: the soft edge (the alpha eased inwards by a box blur) and the fabric grain (seeded per-pixel noise).
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
  const mean = (pick: (d: MaskDrawing) => number) =>
    drawings.reduce((sum, d) => sum + pick(d), 0) / Math.max(1, drawings.length);
  softenEdges(layer, image.width, image.height, Math.round(mean((d) => d.style.softness * d.outline.frame.scale)));
  const grain = { amount: mean((d) => d.style.grain), seed: drawings[0]?.style.grainSeed ?? 0 };
  return blend(image, layer, grain);
}

/**
 * Eases the alpha of an RGBA layer inwards over `radius` pixels: alpha becomes min(alpha, box-blurred alpha), so the
 * edge fades without spreading colour outside the drawn shape.
 */
function softenEdges(layer: Uint8Array, width: number, height: number, radius: number): void {
  if (radius < 1) return;
  const alpha = new Float32Array(width * height);
  for (let p = 0; p < alpha.length; p++) alpha[p] = layer[p * 4 + 3] ?? 0;
  const blurred = boxBlur(boxBlur(alpha, width, height, radius, 1, width), width, height, radius, width, 1);
  for (let p = 0; p < alpha.length; p++) layer[p * 4 + 3] = Math.min(alpha[p] ?? 0, Math.round(blurred[p] ?? 0));
}

/** A 1-D box blur along rows (`step` 1, `stride` width) or columns (`step` width, `stride` 1), edges clamped. */
function boxBlur(values: Float32Array, width: number, height: number, radius: number, step: number, stride: number) {
  const out = new Float32Array(values.length);
  const lines = step === 1 ? height : width;
  const length = step === 1 ? width : height;
  for (let line = 0; line < lines; line++) {
    const base = line * stride;
    const at = (i: number) => values[base + Math.max(0, Math.min(length - 1, i)) * step] ?? 0;
    let sum = 0;
    for (let i = -radius; i <= radius; i++) sum += at(i);
    for (let i = 0; i < length; i++) {
      out[base + i * step] = sum / (2 * radius + 1);
      sum += at(i + radius + 1) - at(i - radius);
    }
  }
  return out;
}

/** Alpha-blends an RGBA layer of the same size over `image`, with fabric grain where the layer covers it. */
function blend(image: RgbImage, layer: Uint8Array, grain: { amount: number; seed: number }): DrawnMasks {
  const pixels = image.width * image.height;
  const out = new Uint8Array(image.data);
  const coverage = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p++) {
    const alpha = layer[p * 4 + 3] ?? 0;
    coverage[p] = alpha;
    if (alpha === 0) continue;
    const a = alpha / 255;
    const texture = 1 + grain.amount * (noiseAt(p, grain.seed) - 0.5);
    for (let c = 0; c < 3; c++) {
      const fabric = Math.min(255, (layer[p * 4 + c] ?? 0) * texture);
      out[p * 3 + c] = Math.round(fabric * a + (image.data[p * 3 + c] ?? 0) * (1 - a));
    }
  }
  return { image: { data: out, width: image.width, height: image.height }, coverage };
}

/** Uniform [0, 1) noise for pixel `p`: an integer hash, the same on every platform. */
function noiseAt(p: number, seed: number): number {
  let h = Math.imul(p ^ Math.imul(seed, 0x9e3779b1), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
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
