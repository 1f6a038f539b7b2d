import sharp, { type ResizeOptions } from 'sharp';
import type { RgbImage } from './rgb-image.js';

/** How a decoded image is sized: stretched to exactly `fill`×`fill`, or scaled down to at most `within` a side. */
export type DecodeSize = { fill: number } | { within: number };

/**
 * Decodes an image file to RGB pixels: EXIF rotation applied, transparency flattened onto white, sRGB, resized as
 * `size` says; grey-scale images get three equal channels. Returns the reason instead when sharp cannot read it:
 * `not an image`, or the first line of sharp's message for this file. This is the one decode chain of the project, so the dataset,
 * the synthesized copies and `pipeline predict` see the same pixels for the same file.
 */
export async function decodeImage(file: string, size: DecodeSize): Promise<RgbImage | string> {
  const first = await gate.shared(() => decodeOnce(file, size));
  if (typeof first !== 'string') return first;
  // libvips keeps one error buffer for concurrent operations, so a failure's message may be another file's
  // ("pngload: end of stream" for a truncated JPEG). Failures are rare: decode again with nothing else decoding,
  // and report that message, which is this file's own.
  return gate.alone(() => decodeOnce(file, size));
}

async function decodeOnce(file: string, size: DecodeSize): Promise<RgbImage | string> {
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

/** Lets decodes run together (`shared`) or one run with no other in flight (`alone`). */
function createGate() {
  let active = 0;
  let closed: Promise<void> | undefined;
  const idle: (() => void)[] = [];
  return {
    async shared<T>(run: () => Promise<T>): Promise<T> {
      while (closed) await closed;
      active += 1;
      try {
        return await run();
      } finally {
        active -= 1;
        if (active === 0) for (const wake of idle.splice(0)) wake();
      }
    },
    async alone<T>(run: () => Promise<T>): Promise<T> {
      while (closed) await closed;
      let open = () => undefined as void;
      closed = new Promise<void>((resolve) => (open = resolve));
      try {
        while (active > 0) await new Promise<void>((resolve) => idle.push(resolve));
        return await run();
      } finally {
        closed = undefined;
        open();
      }
    },
  };
}

const gate = createGate();

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
