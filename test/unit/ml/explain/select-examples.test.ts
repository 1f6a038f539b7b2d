import { describe, expect, it } from 'vitest';
import { camExamples, featureExamples, worstMistakes } from '../../../../src/ml/explain/select-examples.js';

// index: truth → predicted (confidence)
const examples = [
  { index: 0, truth: 0, predicted: 0, confidence: 0.9 },
  { index: 1, truth: 0, predicted: 1, confidence: 0.6 },
  { index: 2, truth: 0, predicted: 1, confidence: 0.95 },
  { index: 3, truth: 0, predicted: 0, confidence: 0.7 },
  { index: 4, truth: 1, predicted: 1, confidence: 0.8 },
  { index: 5, truth: 1, predicted: 1, confidence: 0.99 },
  { index: 6, truth: 1, predicted: 0, confidence: 0.55 },
  { index: 7, truth: 0, predicted: 0, confidence: 0.9 },
];

describe('choosing validation images', () => {
  it('worst mistakes: wrong only, most confident first', () => {
    expect(worstMistakes(examples, 2).map((e) => e.index)).toEqual([2, 1]);
    expect(worstMistakes(examples, 10).map((e) => e.index)).toEqual([2, 1, 6]);
  });

  it('CAM images: both classes take turns, mistakes first, ties by index', () => {
    expect(camExamples(examples, 4).map((e) => e.index)).toEqual([2, 6, 1, 5]);
    expect(camExamples(examples, 8).map((e) => e.index)).toEqual([2, 6, 1, 5, 0, 4, 7, 3]);
    expect(
      camExamples(examples, 2)
        .map((e) => e.truth)
        .sort(),
    ).toEqual([0, 1]);
    expect(camExamples(examples, 0)).toEqual([]);
  });

  it('feature-map images: the most confident correct one per class', () => {
    expect(featureExamples(examples).map((e) => e.index)).toEqual([0, 5]);
    expect(featureExamples([{ index: 3, truth: 1, predicted: 0, confidence: 0.9 }]).map((e) => e.index)).toEqual([3]);
  });
});
