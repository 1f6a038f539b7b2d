import sharp from 'sharp';
import { decodeImage } from './decode-image.js';
import type { RgbImage } from './rgb-image.js';

/** A photo as decoded for face search, and how its pixels relate to the file's. */
export interface Photo {
  image: RgbImage;
  /** Decoded pixels per pixel of the file (after EXIF rotation): 1 unless the photo was scaled down. */
  scale: number;
}

/**
 * Decodes a photo through the project's one decode chain ({@link decodeImage}), scaled down to at most `maxSide`
 * pixels a side so a very large photo costs bounded memory rather than being refused, and says by how much, so
 * boxes can be reported in the file's own pixels. Returns the reason when the file cannot be read.
 */
export async function readPhoto(file: string, maxSide: number): Promise<Photo | string> {
  const image = await decodeImage(file, { within: maxSide });
  if (typeof image === 'string') return image;
  const meta = await sharp(file).metadata();
  const width = meta.autoOrient.width;
  return { image, scale: width > 0 ? image.width / width : 1 };
}
