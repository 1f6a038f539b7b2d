import { describe, expect, it } from 'vitest';
import { NonRetryableStageError } from '../../../src/errors.js';
import { SynthesizeParamsSchema } from '../../../src/stages/catalog.js';
import { copyFileName, copySeed, planSynthesis, sourceFileOf, variantOf } from '../../../src/stages/synthesis-plan.js';

/** An ingest output's classes and labels: 3 with_mask images, then 4 without_mask ones. */
const DATASET = { classes: ['with_mask', 'without_mask'], labels: [0, 0, 0, 1, 1, 1, 1] };
const params = (extra: Record<string, unknown>) =>
  SynthesizeParamsSchema.parse({ sources: ['without_mask'], variants: { proper: 'with_mask' }, ...extra });

describe('planSynthesis', () => {
  it('plans the same whatever order the variants are written in, as the cache key hashes them sorted', () => {
    const plan = (variants: Record<string, string>) => planSynthesis(DATASET, params({ variants }));
    const a = plan({ 'improper-mouth': 'improper_mask', proper: 'with_mask', 'improper-nose': 'nose_out' });
    const b = plan({ 'improper-nose': 'nose_out', 'improper-mouth': 'improper_mask', proper: 'with_mask' });
    expect(a).toEqual(b);
    expect(a.classes).toEqual(['with_mask', 'without_mask', 'nose_out', 'improper_mask']);
    expect(a.variants).toEqual([
      { variant: 'proper', label: 0 },
      { variant: 'improper-nose', label: 2 },
      { variant: 'improper-mouth', label: 3 },
    ]);
  });

  it('takes the images of the source classes in dataset order, at most maxSources of them', () => {
    expect(planSynthesis(DATASET, params({})).sources).toEqual([3, 4, 5, 6]);
    expect(planSynthesis(DATASET, params({ maxSources: 2 })).sources).toEqual([3, 4]);
    expect(planSynthesis(DATASET, params({ sources: ['with_mask', 'without_mask'] })).sources).toHaveLength(7);
  });

  it('rejects a source class the ingest output does not have, as bad data', () => {
    const plan = () => planSynthesis(DATASET, params({ sources: ['unmasked'] }));
    expect(plan).toThrow(NonRetryableStageError);
    expect(plan).toThrow(/synthesize\.sources: unmasked not among the ingest classes \(with_mask, without_mask\)/);
  });
});

describe('copies', () => {
  const plan = planSynthesis(
    DATASET,
    params({ variants: { proper: 'with_mask', 'improper-nose': 'without_mask', 'improper-chin': 'improper' } }),
  );

  it('n copies of a source wear each of the n variants once, and sources start on successive variants', () => {
    const worn = (ordinal: number) => [0, 1, 2].map((copy) => variantOf(plan, ordinal, copy).variant);
    expect(worn(0)).toEqual(['proper', 'improper-nose', 'improper-chin']);
    expect(worn(1)).toEqual(['improper-nose', 'improper-chin', 'proper']);
    expect(new Set(worn(5))).toEqual(new Set(worn(0)));
    expect(variantOf(plan, 2, 0)).toEqual({ variant: 'improper-chin', label: 2 });
  });

  it('seeds each copy from the run seed, its source and its number, all three mattering', () => {
    const seeds = [copySeed(42, 3, 0), copySeed(42, 3, 1), copySeed(42, 4, 0), copySeed(43, 3, 0)];
    expect(new Set(seeds).size).toBe(4);
    expect(copySeed(42, 3, 0)).toBe(seeds[0]);
    for (const seed of seeds) expect(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32).toBe(true);
  });

  it('names a copy after its source, and finds the source again from the name', () => {
    const name = copyFileName('without_mask/p1/a.jpg', 'improper-nose', 0);
    expect(name).toBe('without_mask/p1/a.jpg#improper-nose-1');
    expect(sourceFileOf(copyFileName('without_mask/x.jpg', 'proper', 1))).toBe('without_mask/x.jpg');
    expect(sourceFileOf('with_mask/y.png')).toBe('with_mask/y.png');
  });
});
