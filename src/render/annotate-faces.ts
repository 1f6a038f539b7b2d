import sharp from 'sharp';
import type { Box, RgbImage } from '../ml/image/rgb-image.js';
import { escapeXml } from './svg-charts.js';

/** One face to draw: its box, the class it was given and the classifier's confidence. */
export interface FaceAnnotation {
  box: Box;
  label: string;
  confidence: number;
}

/** Box colours by class: green with a mask, red without, amber worn improperly; other classes blue. */
export const FACE_CLASS_COLOURS: Readonly<Record<string, string>> = {
  with_mask: '#00c853',
  without_mask: '#ff1744',
  improper_mask: '#ffab00',
};
const OTHER_CLASS_COLOUR = '#2979ff';
const FONT = 'DejaVu Sans, Arial, Helvetica, sans-serif';
/** Average advance of a DejaVu Sans Bold glyph, as a share of the font size, to size the label's background. */
const GLYPH_WIDTH = 0.68;

/** The colour a face of class `label` is drawn in. */
export function faceColour(label: string): string {
  return FACE_CLASS_COLOURS[label] ?? OTHER_CLASS_COLOUR;
}

/**
 * Line width and font size for an image: both grow with its shorter side, so the labels stay legible on a 4,000 px
 * photo and do not swamp a 200 px one.
 */
export function annotationScale(width: number, height: number): { line: number; font: number } {
  const side = Math.min(width, height);
  return { line: Math.max(2, Math.round(side / 250)), font: Math.max(11, Math.round(side / 38)) };
}

/**
 * The photo as a PNG with a box round every face in its class colour and `label 97.3%` on a filled tag above it
 * (inside the box when there is no room above).
 */
export async function annotateFaces(image: RgbImage, faces: readonly FaceAnnotation[]): Promise<Buffer> {
  const { line, font } = annotationScale(image.width, image.height);
  const shapes = faces.map((face) => faceShapes(face, line, font, image.width)).join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}">` +
    `<g font-family="${FONT}" font-weight="bold" font-size="${font}">${shapes}</g></svg>`;
  const raw = { width: image.width, height: image.height, channels: 3 as const };
  return (
    sharp(image.data, { raw })
      .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
      // Level 2 instead of 6: on a 1920 px photo, 1.75× faster to encode for a 4% larger file.
      .png({ compressionLevel: 2 })
      .toBuffer()
  );
}

function faceShapes(face: FaceAnnotation, line: number, font: number, imageWidth: number): string {
  const colour = faceColour(face.label);
  const { x, y, width, height } = face.box;
  const half = line / 2;
  const rect =
    `<rect x="${x + half}" y="${y + half}" width="${Math.max(1, width - line)}" ` +
    `height="${Math.max(1, height - line)}" fill="none" stroke="${colour}" stroke-width="${line}"/>`;
  const text = `${face.label} ${(face.confidence * 100).toFixed(1)}%`;
  const tagHeight = Math.round(font * 1.3);
  const tagWidth = Math.round(text.length * font * GLYPH_WIDTH + font * 0.6);
  const tagX = Math.max(0, Math.min(x, imageWidth - tagWidth));
  const tagY = y - tagHeight >= 0 ? y - tagHeight : y + line;
  const ink = colour === FACE_CLASS_COLOURS.with_mask || colour === FACE_CLASS_COLOURS.improper_mask ? '#000' : '#fff';
  return (
    rect +
    `<rect x="${tagX}" y="${tagY}" width="${tagWidth}" height="${tagHeight}" fill="${colour}"/>` +
    `<text x="${tagX + font * 0.3}" y="${tagY + font * 1.02}" fill="${ink}">${escapeXml(text)}</text>`
  );
}
