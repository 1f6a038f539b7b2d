import sharp from 'sharp';
import type { RgbImage } from './face-landmarks.js';

/** Smallest side, in pixels, a source image needs for the 68 landmarks to mean anything. */
export const MIN_SOURCE_SIDE = 48;
/** Largest channel difference (0..255) that still counts as grey. */
const GREY_TOLERANCE = 4;

/**
 * Reads an image at full resolution (scaled down to at most `maxSide` on its longer side), decoded exactly as ingest
 * decodes it before resizing: EXIF rotation applied, transparency flattened onto white, sRGB. Returns the reason
 * instead when the image cannot carry a synthesized mask: unreadable, too small, or grey-scale (a coloured mask on a
 * grey photo would give the class away, and a grey one would be a guess).
 */
export async function readSourceImage(file: string, maxSide: number): Promise<RgbImage | string> {
  let decoded;
  try {
    decoded = await sharp(file, { failOn: 'error' })
      .rotate()
      .flatten({ background: '#ffffff' })
      .resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? 'unreadable';
    return message.includes('unsupported image format') ? 'not an image' : `unreadable: ${message}`;
  }
  const { data, info } = decoded;
  if (Math.min(info.width, info.height) < MIN_SOURCE_SIDE) {
    return `too small for landmarks (${info.width}×${info.height} px, needs ${MIN_SOURCE_SIDE} px a side)`;
  }
  const image = { data: toRgb(new Uint8Array(data), info.channels), width: info.width, height: info.height };
  return isGrey(image) ? 'grey-scale image' : image;
}

/** Resizes drawn pixels to the dataset's image size the way ingest does (`fill`, no letterboxing). */
export async function resizeImage(image: RgbImage, width: number, height: number): Promise<Uint8Array> {
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  const data = await sharp(image.data, { raw }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  return new Uint8Array(data);
}

function toRgb(data: Uint8Array, channels: number): Uint8Array {
  if (channels === 3) return data;
  const pixels = data.length / channels;
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) rgb.fill(data[p * channels] ?? 0, p * 3, p * 3 + 3);
  return rgb;
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
