import { decodeImage } from '../image/decode-image.js';
import type { RgbImage } from '../image/rgb-image.js';

/** Smallest side, in pixels, a source image needs for the 68 landmarks to mean anything. */
export const MIN_SOURCE_SIDE = 48;
/** Largest channel difference (0..255) that still counts as grey. */
const GREY_TOLERANCE = 4;

/**
 * Reads an image at full resolution (scaled down to at most `maxSide` on its longer side), decoded as ingest decodes
 * it before resizing. Returns the reason instead when the image cannot carry a synthesized mask: unreadable, too
 * small, or grey-scale (a coloured mask on a grey photo would give the class away, and a grey one would be a guess).
 */
export async function readSourceImage(file: string, maxSide: number): Promise<RgbImage | string> {
  const image = await decodeImage(file, { within: maxSide });
  if (typeof image === 'string') return image === 'not an image' ? image : `unreadable: ${image}`;
  if (Math.min(image.width, image.height) < MIN_SOURCE_SIDE) {
    return `too small for landmarks (${image.width}×${image.height} px, needs ${MIN_SOURCE_SIDE} px a side)`;
  }
  return isGrey(image) ? 'grey-scale image' : image;
}

/** Whether every sampled pixel has (nearly) equal red, green and blue. */
function isGrey(image: RgbImage): boolean {
  const pixels = image.width * image.height;
  const step = Math.max(1, Math.floor(pixels / 8192));
  for (let p = 0; p < pixels; p += step) {
    const [r = 0, g = 0, b = 0] = image.data.subarray(p * 3, p * 3 + 3);
    if (Math.max(Math.abs(r - g), Math.abs(g - b), Math.abs(r - b)) > GREY_TOLERANCE) return false;
  }
  return true;
}
