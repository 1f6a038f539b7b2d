import type { EarlyStopSpec } from '../../types.js';

/** Median stopping needs this many earlier trials at an epoch before it judges anyone there. */
export const MEDIAN_MIN_SAMPLES = 3;

/** One trial as early stopping sees it: the watched metric per epoch (index 0 = epoch 1), and whether it ended. */
export interface TrialCurve {
  values: readonly number[];
  /** No more epochs will come (finished, stopped, failed or skipped). */
  ended: boolean;
}

/** The verdict at one milestone: go on, or stop with the rule and the numbers that stopped it. */
export interface StopDecision {
  stop: boolean;
  epoch: number;
  value: number;
  /** The bar the trial had to reach (asha cutoff or median); absent when there was nothing to compare with. */
  threshold?: number;
  /** One line: the rule and its numbers, e.g. `asha rung 3: val_accuracy 0.5 < cutoff 0.81 of 4 earlier trials`. */
  reason: string;
}

/**
 * Epochs at which a trial of `bracket` is judged. asha: min_epochs·rf^(s+k) below `maxEpochs` (as Ray Tune's
 * AsyncHyperBand places its rungs); median: every epoch from min_epochs on, below `maxEpochs`.
 */
export function milestones(spec: EarlyStopSpec, bracket: number, maxEpochs: number): number[] {
  const epochs: number[] = [];
  if (spec.method === 'median') {
    for (let epoch = spec.minEpochs; epoch < maxEpochs; epoch++) epochs.push(epoch);
    return epochs;
  }
  for (let k = bracket; ; k++) {
    const epoch = Math.round(spec.minEpochs * spec.reductionFactor ** k);
    if (epoch >= maxEpochs) break;
    if (epochs.at(-1) !== epoch) epochs.push(epoch);
  }
  return epochs;
}

/** The bracket of the trial that is `order`-th (0-based) in the sweep. */
export function bracketOf(spec: EarlyStopSpec, order: number): number {
  return spec.method === 'asha' ? order % spec.brackets : 0;
}

/**
 * Judges `trial` at `epoch` against the trials before it in the sweep's order (`earlier`, same bracket for asha).
 * Undefined while one of them has neither reached `epoch` nor ended: the verdict would depend on timing, so it
 * waits. Comparing with earlier trials only is what makes the outcome the same for any parallelism: it is the
 * decision asynchronous ASHA takes when trials run one after the other.
 */
export function decideStop(
  spec: EarlyStopSpec,
  trial: TrialCurve,
  earlier: readonly TrialCurve[],
  epoch: number,
): StopDecision | undefined {
  const value = trial.values[epoch - 1];
  if (value === undefined) return undefined;
  if (earlier.some((other) => other.values.length < epoch && !other.ended)) return undefined;
  // Flip minimized metrics so that larger is always better below.
  const sign = spec.goal === 'maximize' ? 1 : -1;
  const recorded = earlier.flatMap((other) => {
    const v = other.values[epoch - 1];
    return v === undefined || Number.isNaN(v) ? [] : [sign * v];
  });
  const own = Number.isNaN(value) ? -Infinity : sign * value;
  const name = `${spec.metric} ${format(value)}`;
  if (spec.method === 'asha') {
    if (recorded.length === 0) return { stop: false, epoch, value, reason: `asha rung ${epoch}: first trial here` };
    const cutoff = percentile(recorded, 1 - 1 / spec.reductionFactor);
    const stop = own < cutoff;
    const bar = `cutoff ${format(sign * cutoff)} (top 1/${spec.reductionFactor} of ${recorded.length} earlier trials)`;
    return {
      stop,
      epoch,
      value,
      threshold: sign * cutoff,
      reason: `asha rung ${epoch}: ${name} ${stop ? 'below' : 'reaches'} ${bar}`,
    };
  }
  if (recorded.length < MEDIAN_MIN_SAMPLES) {
    return { stop: false, epoch, value, reason: `median epoch ${epoch}: ${recorded.length} earlier trials, too few` };
  }
  const median = percentile(recorded, 0.5);
  const stop = own < median;
  const bar = `median ${format(sign * median)} of ${recorded.length} earlier trials`;
  return {
    stop,
    epoch,
    value,
    threshold: sign * median,
    reason: `median epoch ${epoch}: ${name} ${stop ? 'below' : 'reaches'} ${bar}`,
  };
}

/** The q-quantile with linear interpolation between order statistics (numpy's default). */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const lower = sorted[low] ?? NaN;
  const upper = sorted[Math.min(low + 1, sorted.length - 1)] ?? NaN;
  return lower + (upper - lower) * (position - low);
}

function format(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value);
}
