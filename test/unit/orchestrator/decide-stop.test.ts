import { describe, expect, it } from 'vitest';
import {
  bracketOf,
  decideStop,
  milestones,
  percentile,
  type TrialCurve,
} from '../../../src/orchestrator/early-stop/decide-stop.js';
import type { EarlyStopSpec } from '../../../src/types.js';

const asha: EarlyStopSpec = {
  method: 'asha',
  metric: 'val_accuracy',
  goal: 'maximize',
  minEpochs: 1,
  reductionFactor: 3,
  brackets: 1,
};
const median: EarlyStopSpec = { ...asha, method: 'median' };
const done = (...values: number[]): TrialCurve => ({ values, ended: true });
const running = (...values: number[]): TrialCurve => ({ values, ended: false });

describe('milestones', () => {
  it('asha rungs at min_epochs·rf^k below the last epoch, later brackets start higher', () => {
    expect(milestones(asha, 0, 20)).toEqual([1, 3, 9]);
    expect(milestones(asha, 1, 20)).toEqual([3, 9]);
    expect(milestones({ ...asha, minEpochs: 2, reductionFactor: 2 }, 0, 16)).toEqual([2, 4, 8]);
    expect(milestones(asha, 0, 1)).toEqual([]);
  });
  it('median judges every epoch from min_epochs on', () => {
    expect(milestones({ ...median, minEpochs: 3 }, 0, 6)).toEqual([3, 4, 5]);
  });
  it('deals trials round-robin into brackets', () => {
    const spec = { ...asha, brackets: 2 };
    expect([0, 1, 2, 3].map((order) => bracketOf(spec, order))).toEqual([0, 1, 0, 1]);
    expect(bracketOf(median, 5)).toBe(0);
  });
});

describe('percentile', () => {
  it('interpolates linearly like numpy', () => {
    // numpy.percentile([0.5, 0.7, 0.9, 0.6], 100 * (1 - 1/3)) = 0.7; ([0.8, 0.7, 0.75], 66.67) = 0.7667
    expect(percentile([0.5, 0.7, 0.9, 0.6], 2 / 3)).toBeCloseTo(0.7, 10);
    expect(percentile([0.8, 0.7, 0.75], 2 / 3)).toBeCloseTo(0.76667, 4);
    expect(percentile([3, 1, 2], 0.5)).toBe(2);
    expect(percentile([4], 0.9)).toBe(4);
  });
});

describe('decideStop (asha)', () => {
  it('lets the first trial at a rung go on', () => {
    expect(decideStop(asha, running(0.5), [], 1)).toMatchObject({ stop: false });
  });
  it('stops a flat curve below the top third of the trials before it, with the numbers', () => {
    const earlier = [done(0.8, 0.85, 0.9), done(0.7, 0.8, 0.82), done(0.75, 0.8, 0.86)];
    const verdict = decideStop(asha, running(0.5), earlier, 1);
    expect(verdict?.stop).toBe(true);
    expect(verdict?.threshold).toBeCloseTo(percentile([0.8, 0.7, 0.75], 2 / 3), 10);
    expect(verdict?.reason).toMatch(/^asha rung 1: val_accuracy 0\.5 below cutoff 0\.7667 \(top 1\/3 of 3 earlier/);
  });
  it('lets a trial in the top third go on', () => {
    const earlier = [done(0.6), done(0.7), done(0.65)];
    expect(decideStop(asha, running(0.72), earlier, 1)?.stop).toBe(false);
  });
  it('waits while an earlier trial has neither reached the rung nor ended', () => {
    expect(decideStop(asha, running(0.5, 0.5, 0.5), [running(0.9, 0.9)], 3)).toBeUndefined();
    // Once it ended short of the rung (stopped before it), it no longer counts there.
    expect(decideStop(asha, running(0.5, 0.5, 0.5), [done(0.9, 0.9)], 3)).toMatchObject({ stop: false });
  });
  it('waits for its own value at the rung', () => {
    expect(decideStop(asha, running(0.5), [done(0.9, 0.9)], 2)).toBeUndefined();
  });
  it('minimizes a loss: a higher loss is the worse one', () => {
    const spec: EarlyStopSpec = { ...asha, metric: 'val_loss', goal: 'minimize' };
    const earlier = [done(0.3), done(0.4), done(0.35)];
    expect(decideStop(spec, running(0.9), earlier, 1)).toMatchObject({ stop: true });
    expect(decideStop(spec, running(0.2), earlier, 1)).toMatchObject({ stop: false });
  });
  it('a diverged (NaN) trial is the worst, and NaN earlier values are ignored', () => {
    expect(decideStop(asha, running(NaN), [done(0.5), done(0.6)], 1)?.stop).toBe(true);
    expect(decideStop(asha, running(0.5), [done(NaN)], 1)?.stop).toBe(false);
  });
});

describe('decideStop (median)', () => {
  it('needs three earlier trials at the epoch', () => {
    expect(decideStop(median, running(0.1), [done(0.9), done(0.9)], 1)).toMatchObject({ stop: false });
  });
  it('stops below the median of the earlier trials at that epoch', () => {
    const earlier = [done(0.6, 0.7), done(0.8, 0.9), done(0.7, 0.75)];
    expect(decideStop(median, running(0.5, 0.72), earlier, 1)).toMatchObject({ stop: true, threshold: 0.7 });
    expect(decideStop(median, running(0.7, 0.72), earlier, 2)).toMatchObject({ stop: true, threshold: 0.75 });
    expect(decideStop(median, running(0.7, 0.8), earlier, 2)).toMatchObject({ stop: false });
  });
});

describe('a whole sweep of synthetic curves, judged in order', () => {
  // 12 trials of 9 epochs: four flat at 0.5 (a too-high learning rate), the rest rising at different speeds.
  const curves = Array.from({ length: 12 }, (_, i) =>
    Array.from({ length: 9 }, (_, e) => (i % 3 === 0 ? 0.5 : 1 - 0.5 / (1 + (e + 1) * (0.2 + i / 12)))),
  );
  /** Epochs each trial trains when trials run one after the other. */
  function simulate(spec: EarlyStopSpec): number[] {
    const trained: TrialCurve[] = [];
    return curves.map((full, order) => {
      const bracket = bracketOf(spec, order);
      const earlier = trained.filter((_, j) => bracketOf(spec, j) === bracket);
      let epochs = full.length;
      for (const epoch of milestones(spec, bracket, full.length)) {
        if (decideStop(spec, running(...full.slice(0, epoch)), earlier, epoch)?.stop) {
          epochs = epoch;
          break;
        }
      }
      trained.push(done(...full.slice(0, epochs)));
      return epochs;
    });
  }
  it('asha stops every flat trial after the first at rung 1 and keeps the best one to the end', () => {
    const epochs = simulate(asha);
    const best = curves.reduce((b, c, i) => ((c.at(-1) ?? 0) > (curves[b]?.at(-1) ?? 0) ? i : b), 0);
    expect(epochs[best]).toBe(9);
    for (const flat of [3, 6, 9]) expect(epochs[flat]).toBe(1);
    expect(epochs.reduce((a, b) => a + b)).toBeLessThan(12 * 9);
  });
  it('median stops the flat trials once three trials are known', () => {
    const epochs = simulate(median);
    expect(epochs[0]).toBe(9);
    expect(epochs[6]).toBe(1);
    expect(epochs[9]).toBe(1);
  });
});
