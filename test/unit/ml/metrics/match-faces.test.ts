import { describe, expect, it } from 'vitest';
import { emptyTruthTable, iou, matchFaces, tallyMatches } from '../../../../src/ml/metrics/match-faces.js';

const box = (x: number, y: number, width: number, height: number) => ({ x, y, width, height });

describe('iou', () => {
  it('is intersection over union, worked by hand', () => {
    // 10×10 boxes offset by 5 in x: intersection 50, union 150.
    expect(iou(box(0, 0, 10, 10), box(5, 0, 10, 10))).toBeCloseTo(1 / 3, 12);
    expect(iou(box(0, 0, 10, 10), box(0, 0, 10, 10))).toBe(1);
    expect(iou(box(0, 0, 10, 10), box(10, 0, 10, 10))).toBe(0);
    // one inside the other: 4×4 in 8×8 → 16 / 64.
    expect(iou(box(0, 0, 8, 8), box(2, 2, 4, 4))).toBeCloseTo(0.25, 12);
  });
});

describe('matchFaces', () => {
  it('pairs boxes one to one, closest first, and reports missed truth faces and extra detections', () => {
    const truth = [
      { box: box(0, 0, 10, 10), label: 'a' },
      { box: box(100, 100, 10, 10), label: 'b' },
      { box: box(300, 300, 10, 10), label: 'a' },
    ];
    const detections = [
      { box: box(101, 101, 10, 10), label: 'b' },
      { box: box(1, 0, 10, 10), label: 'b' },
      { box: box(2, 0, 10, 10), label: 'a' },
      { box: box(500, 500, 10, 10), label: 'a' },
    ];
    // Truth 0 overlaps detections 1 (IoU 0.82) and 2 (0.67): the closer wins; 2 and 3 are left over.
    expect(matchFaces(truth, detections)).toEqual({ matches: [1, 0, -1], extra: [2, 3] });
  });

  it('matches a truth point inside a detection box, the nearest centre first', () => {
    const detections = [
      { box: box(0, 0, 20, 20), label: 'a' },
      { box: box(15, 0, 20, 20), label: 'a' },
    ];
    expect(matchFaces([{ point: { x: 18, y: 10 }, label: 'a' }], detections)).toEqual({ matches: [1], extra: [0] });
    expect(matchFaces([{ point: { x: 50, y: 50 }, label: 'a' }], detections).matches).toEqual([-1]);
  });

  it('matches boxes that overlap little but contain each other’s centres (a loose hand-drawn box)', () => {
    const truth = [{ box: box(0, 0, 100, 100), label: 'a' }];
    const detections = [{ box: box(40, 40, 20, 20), label: 'a' }]; // IoU 0.04
    expect(matchFaces(truth, detections).matches).toEqual([0]);
  });
});

describe('truth table', () => {
  it('counts matched faces by true and predicted class, missed per true class and extra per predicted class', () => {
    const table = emptyTruthTable(['with_mask', 'without_mask']);
    const truth = [
      { box: box(0, 0, 10, 10), label: 'with_mask' },
      { box: box(50, 0, 10, 10), label: 'with_mask' },
      { box: box(100, 0, 10, 10), label: 'without_mask' },
      { box: box(150, 0, 10, 10), label: 'without_mask' },
    ];
    const detections = [
      { box: box(0, 0, 10, 10), label: 'with_mask' },
      { box: box(50, 0, 10, 10), label: 'without_mask' },
      { box: box(100, 0, 10, 10), label: 'without_mask' },
      { box: box(400, 0, 10, 10), label: 'with_mask' },
    ];
    tallyMatches(table, truth, detections, matchFaces(truth, detections));
    expect(table.counts).toEqual([
      [1, 1],
      [0, 1],
    ]);
    expect(table.missed).toEqual([0, 1]);
    expect(table.extra).toEqual([1, 0]);
    expect(table.matched).toBe(3);
    expect(table.truthFaces).toBe(4);
    expect(table.accuracy).toBeCloseTo(2 / 3, 12);
  });
});
