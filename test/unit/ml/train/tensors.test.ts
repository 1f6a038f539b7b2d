import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/ml/backend.js';
import { imagesArray, imagesTensor, labelsTensor } from '../../../../src/ml/train/tensors.js';

describe('training tensors', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('takes the images at the indices, in that order, scaled to [0, 1]', () => {
    const images = Uint8Array.from([0, 51, 255, 10, 20, 30, 102, 204, 153]);
    const batch = imagesArray(images, [1, 1, 3], [2, 0], 'unit');
    expect([...batch]).toEqual([102 / 255, 204 / 255, 153 / 255, 0, 51 / 255, 1].map(Math.fround));
    expect(imagesTensor(images, [1, 1, 3], [1], 'unit').shape).toEqual([1, 1, 1, 3]);
  });

  it('labels: a 0/1 column for two classes, one-hot rows for more', () => {
    expect(labelsTensor([1, 0, 1], 2).arraySync()).toEqual([[1], [0], [1]]);
    expect(labelsTensor([2, 0], 3).arraySync()).toEqual([
      [0, 0, 1],
      [1, 0, 0],
    ]);
  });
});
