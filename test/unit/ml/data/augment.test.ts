import { describe, expect, it } from 'vitest';
import { augmentBatch, drawTransform, isAugmenting, warpImage, type AugmentOptions } from '../../../../src/ml/data/augment.js';
import { createRandom } from '../../../../src/util/random.js';

/** Everything off, but what `ranges` switches on. */
const options = (ranges: Partial<AugmentOptions> = {}): AugmentOptions => ({
  rotation: 0,
  widthShift: 0,
  heightShift: 0,
  shear: 0,
  zoom: 0,
  horizontalFlip: false,
  ...ranges,
});

describe('augmentation', () => {
  it('is on when any range is non-zero or flips are asked for', () => {
    expect(isAugmenting(undefined)).toBe(false);
    expect(isAugmenting(options())).toBe(false);
    expect(isAugmenting(options({ zoom: 0.1 }))).toBe(true);
    expect(isAugmenting(options({ horizontalFlip: true }))).toBe(true);
  });

  const image = (h: number, w: number) => Float32Array.from({ length: h * w }, (_, i) => i);

  it('with everything off the transform is the identity', () => {
    const t = drawTransform(options(), 8, 8, createRandom(1));
    t.forEach((v, i) => expect(v).toBeCloseTo([1, 0, 0, 0, 1, 0, 0, 0][i] ?? NaN, 12));
  });

  it('a horizontal flip mirrors each row', () => {
    const source = image(2, 3);
    const target = new Float32Array(6);
    warpImage(source, target, 2, 3, 1, [-1, 0, 2, 0, 1, 0, 0, 0]);
    expect([...target]).toEqual([2, 1, 0, 5, 4, 3]);
  });

  it('a shift past the edge repeats the edge pixel (nearest fill)', () => {
    const target = new Float32Array(6);
    warpImage(image(2, 3), target, 2, 3, 1, [1, 0, 5, 0, 1, 0, 0, 0]);
    expect([...target]).toEqual([2, 2, 2, 5, 5, 5]);
  });

  it('is reproducible from the seed and changes pixels', () => {
    const params = options({ rotation: 20, widthShift: 0.1, zoom: 0.1, shear: 10, horizontalFlip: true });
    const run = (seed: number) => {
      const batch = Float32Array.from({ length: 2 * 8 * 8 * 3 }, (_, i) => (i * 37) % 255);
      augmentBatch(batch, [2, 8, 8, 3], params, createRandom(seed));
      return batch;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });
});
