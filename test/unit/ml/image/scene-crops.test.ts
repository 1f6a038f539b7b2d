import { describe, expect, it } from 'vitest';
import { cropFaces, marginBox, TRAINING_CROP_MARGIN } from '../../../../src/ml/faces/scene-faces.js';

describe('marginBox', () => {
  it('grows a box by the margin on every side, in whole pixels, clipped to the image', () => {
    const image = { width: 200, height: 100 };
    // 0.1 × 50 = 5 px left and right, 0.2 × 40 = 8 px above and below.
    expect(marginBox({ x: 20, y: 30, width: 50, height: 40 }, image, { x: 0.1, y: 0.2 })).toEqual({
      x: 15,
      y: 22,
      width: 60,
      height: 56,
    });
    expect(marginBox({ x: 2, y: 90, width: 50, height: 10 }, image, { x: 0.1, y: 0.2 })).toEqual({
      x: 0,
      y: 88,
      width: 57,
      height: 12,
    });
  });
});

describe('cropFaces', () => {
  it('cuts each face with the training margin and stretches it to the model size, uint8 NHWC', async () => {
    // Left half red, right half blue; one face box in each half, clear of the middle even with the margin.
    const width = 100;
    const height = 60;
    const data = new Uint8Array(width * height * 3);
    for (let p = 0; p < width * height; p++) data.set(p % width < 50 ? [255, 0, 0] : [0, 0, 255], p * 3);
    const boxes = [
      { x: 10, y: 10, width: 20, height: 30 },
      { x: 65, y: 5, width: 25, height: 40 },
    ];
    const crops = await cropFaces({ data, width, height }, boxes, 8);
    expect(crops.length).toBe(2 * 8 * 8 * 3);
    expect([...crops.subarray(0, 3)]).toEqual([255, 0, 0]);
    expect([...crops.subarray(8 * 8 * 3, 8 * 8 * 3 + 3)]).toEqual([0, 0, 255]);
    expect(TRAINING_CROP_MARGIN).toEqual({ x: 0.07, y: 0.08 });
  });
});
