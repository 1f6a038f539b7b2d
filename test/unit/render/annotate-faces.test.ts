import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { annotateFaces, annotationScale, FACE_CLASS_COLOURS } from '../../../src/render/annotate-faces.js';

const hex = (colour: string) => [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));

async function pixels(png: Buffer) {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    at: (x: number, y: number) => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)],
    info,
  };
}

describe('annotateFaces', () => {
  it('draws each box in its class colour along its edges and leaves the inside and the rest of the photo alone', async () => {
    const width = 400;
    const height = 300;
    const image = { data: new Uint8Array(width * height * 3).fill(128), width, height };
    const faces = [
      { box: { x: 40, y: 100, width: 80, height: 100 }, label: 'with_mask', confidence: 0.9 },
      { box: { x: 200, y: 100, width: 80, height: 100 }, label: 'without_mask', confidence: 0.8 },
      { box: { x: 300, y: 0, width: 60, height: 60 }, label: 'improper_mask', confidence: 0.7 },
    ];
    const { at, info } = await pixels(await annotateFaces(image, faces));
    expect([info.width, info.height]).toEqual([width, height]);
    const { line } = annotationScale(width, height);
    for (const face of faces) {
      const colour = hex(FACE_CLASS_COLOURS[face.label] ?? '');
      const { x, y, width: w, height: h } = face.box;
      const mid = Math.round(line / 2);
      // left, right and bottom edges (the top one carries the label tag)
      for (const [px, py] of [
        [x + mid, y + h / 2],
        [x + w - 1 - mid, y + h / 2],
        [x + w / 2, y + h - 1 - mid],
      ] as const) {
        expect(at(Math.round(px), Math.round(py))).toEqual(colour);
      }
      expect(at(x + w / 2, y + h / 2 + 10)).toEqual([128, 128, 128]);
    }
    // Label tags (their top-left corner, clear of the text) sit above boxes with room, inside the one at the top.
    const tag = Math.round(annotationScale(width, height).font * 1.3);
    expect(at(41, 100 - tag + 1)).toEqual(hex(FACE_CLASS_COLOURS.with_mask ?? ''));
    expect(at(301, line + 1)).toEqual(hex(FACE_CLASS_COLOURS.improper_mask ?? ''));
    expect(at(10, 10)).toEqual([128, 128, 128]);
  });

  it('scales lines and text with the image', () => {
    expect(annotationScale(200, 150)).toEqual({ line: 2, font: 11 });
    const large = annotationScale(4000, 3000);
    expect(large.line).toBe(12);
    expect(large.font).toBe(79);
  });
});
