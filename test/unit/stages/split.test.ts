import { describe, expect, it } from 'vitest';
import { stratifiedSplit } from '../../../src/stages/split.js';

describe('stratifiedSplit', () => {
  const labels = [...new Array<number>(100).fill(0), ...new Array<number>(30).fill(1), ...new Array<number>(7).fill(2)];

  it('holds out each class in proportion, disjoint and complete', () => {
    const { train, val } = stratifiedSplit(labels, 3, 0.2, 42);
    const count = (indices: number[], k: number) => indices.filter((i) => labels[i] === k).length;
    expect([count(val, 0), count(val, 1), count(val, 2)]).toEqual([20, 6, 1]);
    expect(new Set([...train, ...val]).size).toBe(labels.length);
    expect(train.filter((i) => val.includes(i))).toEqual([]);
  });

  it('same seed, same split; another seed, another split', () => {
    expect(stratifiedSplit(labels, 3, 0.2, 42)).toEqual(stratifiedSplit(labels, 3, 0.2, 42));
    expect(stratifiedSplit(labels, 3, 0.2, 43).val).not.toEqual(stratifiedSplit(labels, 3, 0.2, 42).val);
  });

  it('never empties a class of two or more from training', () => {
    const { train, val } = stratifiedSplit([0, 0, 1, 1], 2, 0.9, 1);
    expect(train).toHaveLength(2);
    expect(val).toHaveLength(2);
  });
});

describe('stratifiedSplit with groups', () => {
  it('keeps every group on one side and matches the ungrouped split when groups are single images', () => {
    const labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
    expect(
      stratifiedSplit(
        labels,
        2,
        0.4,
        9,
        labels.map((_, i) => `img${i}`),
      ),
    ).toEqual(stratifiedSplit(labels, 2, 0.4, 9));
    // Images 5..9 are masked copies of images 0..4 (another class): each copy must follow its source.
    const groups = labels.map((_, i) => `face${i % 5}`);
    const { train, val } = stratifiedSplit(labels, 2, 0.4, 9, groups);
    expect(val).toHaveLength(4);
    for (const index of val) expect(val).toContain(index < 5 ? index + 5 : index - 5);
    expect(new Set([...train, ...val]).size).toBe(10);
  });
});
