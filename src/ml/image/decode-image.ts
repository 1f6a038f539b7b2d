import sharp, { type ResizeOptions } from 'sharp';
import type { RgbImage } from './rgb-image.js';

/** How a decoded image is sized: stretched to exactly `fill`×`fill`, or scaled down to at most `within` a side. */
export type DecodeSize = { fill: number } | { within: number };

/**
 * Decodes an image file to RGB pixels: EXIF rotation applied, transparency flattened onto white, sRGB, resized as
 * `size` says; grey-scale images get three equal channels. Returns the reason instead when sharp cannot read it:
 * `not an image`, or the first line of sharp's message. This is the one decode chain of the project, so the dataset,
 * the synthesized copies and `pipeline predict` see the same pixels for the same file.
 */
export async function decodeImage(file: string, size: DecodeSize): Promise<RgbImage | string> {
  const [side, resize]: [number, ResizeOptions] =
    'fill' in size ? [size.fill, { fit: 'fill' }] : [size.within, { fit: 'inside', withoutEnlargement: true }];
  try {
    const { data, info } = await sharp(file, { failOn: 'error' })
      .rotate()
      .flatten({ background: '#ffffff' })
      .resize(side, side, resize)
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.length);
    return { data: toRgb(pixels, info.channels), width: info.width, height: info.height };
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? 'unreadable';
    return message.includes('unsupported image format') ? 'not an image' : message;
  }
}

/** Resizes pixels to `width`×`height` the way {@link decodeImage} does with `fill` (stretched, no letterboxing). */
export async function resizeImage(image: RgbImage, width: number, height: number): Promise<Uint8Array> {
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  const data = await sharp(image.data, { raw }).resize(width, height, { fit: 'fill' }).raw().toBuffer();
  return new Uint8Array(data);
}

/** Grey (one channel after removeAlpha) to RGB; RGB as it is. */
function toRgb(data: Uint8Array, channels: number): Uint8Array {
  if (channels === 3) return data;
  const pixels = data.length / channels;
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) rgb.fill(data[p * channels] ?? 0, p * 3, p * 3 + 3);
  return rgb;
}
