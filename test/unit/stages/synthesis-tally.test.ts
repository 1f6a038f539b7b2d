import { describe, expect, it } from 'vitest';
import { SynthesizeParamsSchema } from '../../../src/stages/catalog.js';
import { planSynthesis } from '../../../src/stages/synthesis-plan.js';
import { SynthesisTally } from '../../../src/stages/synthesis-tally.js';

const params = SynthesizeParamsSchema.parse({
  sources: ['without_mask'],
  variants: { proper: 'with_mask', 'improper-chin': 'improper' },
  seed: 7,
});
const plan = planSynthesis({ classes: ['with_mask', 'without_mask'], labels: [0, 1, 1, 1] }, params);

describe('SynthesisTally', () => {
  it('counts every source once, as skipped or with faces, and every copy by variant and class', () => {
    const tally = new SynthesisTally();
    tally.add({ kind: 'skipped', file: 'a.jpg', reason: 'grey-scale image' });
    tally.add({ kind: 'faces', methods: ['detector', 'detector'] });
    tally.add({ kind: 'copy', variant: 'proper', label: 0, masks: 2 });
    tally.add({ kind: 'faces', methods: ['whole-image'] });
    tally.add({ kind: 'copy', variant: 'improper-chin', label: 2, masks: 1 });
    tally.add({ kind: 'copy', variant: 'proper', label: 0, masks: 1 });
    const report = tally.toReport(plan, params, 'tensorflow', 2);
    expect(report).toMatchObject({
      seed: 7,
      backend: 'tensorflow',
      classes: ['with_mask', 'without_mask', 'improper'],
      imagesTried: 3,
      imagesWithFaces: 2,
      faces: { total: 3, detector: 2, wholeImage: 1 },
      masksMade: 4,
      imagesSynthesized: 3,
      perVariant: { proper: 2, 'improper-chin': 1 },
      perClassAdded: { with_mask: 2, without_mask: 0, improper: 1 },
      facesPerSecond: 1.5,
      failures: [{ file: 'a.jpg', reason: 'grey-scale image' }],
    });
    expect(report.yield).toBeCloseTo(2 / 3, 12);
    expect(tally.progressLine(10, 1.5)).toBe('3/10 images: 2 with faces, 3 synthesized, 1.5 faces/s');
  });

  it('explains a run without a single mask by its most common reasons', () => {
    const tally = new SynthesisTally();
    for (const reason of [
      'no face found',
      'grey-scale image',
      'no face found',
      'not an image',
      'too small',
      'too small',
    ]) {
      tally.add({ kind: 'skipped', file: 'x', reason });
    }
    expect(tally.masksMade).toBe(0);
    expect(tally.noFaceMessage()).toBe(
      'synthesize: no usable face in any of the 6 source images (2× no face found; 2× too small; 1× grey-scale image)',
    );
    expect(new SynthesisTally().noFaceMessage()).toMatch(/any of the 0 source images \(no source images\)$/);
  });
});
