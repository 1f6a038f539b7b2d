/** One validation image's true class and the model's decision about it. */
export interface ScoredExample {
  index: number;
  truth: number;
  predicted: number;
  /** The model's probability for its predicted class. */
  confidence: number;
}

const byConfidence = (a: ScoredExample, b: ScoredExample) => b.confidence - a.confidence || a.index - b.index;

/** The mistakes, the most confident first: the misclassified gallery. */
export function worstMistakes(examples: readonly ScoredExample[], count: number): ScoredExample[] {
  return examples
    .filter((e) => e.truth !== e.predicted)
    .sort(byConfidence)
    .slice(0, count);
}

/**
 * `count` images for the CAM grid, deterministically: classes take turns (so every class appears when it has images),
 * each giving its most confident mistakes first, then its most confident correct decisions; mistakes come first in
 * the result.
 */
export function camExamples(examples: readonly ScoredExample[], count: number): ScoredExample[] {
  const classes = [...new Set(examples.map((e) => e.truth))].sort((a, b) => a - b);
  const queues = classes.map((k) => {
    const own = examples.filter((e) => e.truth === k);
    return [
      ...own.filter((e) => e.truth !== e.predicted).sort(byConfidence),
      ...own.filter((e) => e.truth === e.predicted).sort(byConfidence),
    ];
  });
  const chosen: ScoredExample[] = [];
  for (let round = 0; chosen.length < count && queues.some((q) => round < q.length); round++) {
    for (const queue of queues) {
      const next = queue[round];
      if (next && chosen.length < count) chosen.push(next);
    }
  }
  const wrong = chosen.filter((e) => e.truth !== e.predicted);
  return [...wrong, ...chosen.filter((e) => e.truth === e.predicted)];
}

/** One image per class for the feature maps: its most confident correct decision, else its first image. */
export function featureExamples(examples: readonly ScoredExample[]): ScoredExample[] {
  const classes = [...new Set(examples.map((e) => e.truth))].sort((a, b) => a - b);
  return classes.flatMap((k) => {
    const own = examples.filter((e) => e.truth === k);
    const best = own.filter((e) => e.truth === e.predicted).sort(byConfidence)[0] ?? own[0];
    return best ? [best] : [];
  });
}
