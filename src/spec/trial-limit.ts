import type { YamlSource } from './yaml-source.js';

/** Trials a sweep may expand to unless its file (`maxTrials:`) or `--max-trials` allows more. */
export const DEFAULT_MAX_TRIALS = 10_000;

/** How many trials a grid expands to: the product of its value counts, or the samples drawn from it (method random). */
export function countTrials(valueCounts: readonly number[], samples?: number): number {
  const points = valueCounts.reduce((product, count) => product * count, 1);
  return samples === undefined ? points : Math.min(samples, points);
}

/**
 * Refuses a sweep with more trials than `limit` before anything is expanded, planned or hashed (a 10^6-trial grid
 * would otherwise sit for minutes), with one line naming the sweep file's grid and both ways out.
 */
export function checkTrialLimit(source: YamlSource, trials: number, limit: number, fromFlag: boolean): void {
  if (trials <= limit) return;
  const raise = fromFlag ? 'a larger --max-trials' : 'maxTrials: N in the sweep file or --max-trials N';
  throw source.error(
    ['grid'],
    `the grid expands to ${trials.toLocaleString('en-US')} trials, more than maxTrials ${limit.toLocaleString('en-US')}; narrow it, draw some with method: random and samples, or allow more with ${raise}`,
  );
}
