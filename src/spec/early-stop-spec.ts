import { z } from 'zod';
import type { EarlyStopSpec, Goal, PipelineSpec } from '../types.js';
import type { YamlSource } from './yaml-source.js';

/** Metrics the train stage reports after every epoch: the only ones an early-stop rule can watch. */
export const EPOCH_METRICS = ['loss', 'accuracy', 'val_loss', 'val_accuracy'] as const;

/** `early_stop:` as written in a sweep file. */
export const EarlyStopFileSchema = z
  .strictObject({
    method: z
      .enum(['asha', 'median'])
      .describe('asha: successive halving at epoch rungs; median: stop below the median of earlier trials.'),
    metric: z
      .string()
      .min(1)
      .optional()
      .describe(`Per-epoch metric to watch (${EPOCH_METRICS.join(', ')}); default: the objective's metric.`),
    goal: z.enum(['maximize', 'minimize']).optional().describe("Default: the objective's goal."),
    min_epochs: z
      .number()
      .int()
      .positive()
      .default(1)
      .describe('First epoch at which a trial may be stopped (default 1).'),
    reduction_factor: z
      .number()
      .gt(1, 'must be greater than 1')
      .optional()
      .describe('asha only: rungs at min_epochs·rf^k; the best 1/rf go on at each (default 3).'),
    brackets: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        'asha only: trials are dealt round-robin into brackets whose first rung is min_epochs·rf^s (default 1).',
      ),
  })
  .describe('Stops hopeless trials early, from the metrics train reports every epoch.');

export type EarlyStopFile = z.infer<typeof EarlyStopFileSchema>;

/**
 * Normalizes `early_stop:` (defaults from the objective) and checks it against the pipeline: one error per problem,
 * each naming its field.
 */
export function normalizeEarlyStop(
  raw: EarlyStopFile,
  objective: { metric: string; goal: Goal },
  pipeline: PipelineSpec,
  source: YamlSource,
): EarlyStopSpec {
  const at = (field: string) => ['early_stop', field];
  const metric = raw.metric ?? objective.metric;
  if (!isEpochMetric(metric)) {
    const where = raw.metric === undefined ? 'the objective metric ' : '';
    throw source.error(
      raw.metric === undefined ? ['early_stop'] : at('metric'),
      `${where}${metric} is not reported every epoch; early_stop can watch ${EPOCH_METRICS.join(', ')}`,
    );
  }
  if (raw.method === 'median') {
    if (raw.reduction_factor !== undefined) throw source.error(at('reduction_factor'), 'only method: asha has rungs');
    if (raw.brackets !== undefined) throw source.error(at('brackets'), 'only method: asha has brackets');
  }
  if (!pipeline.stages.some((stage) => stage.kind === 'train')) {
    throw source.error(['early_stop'], `pipeline ${pipeline.file} has no train stage to stop`);
  }
  return {
    method: raw.method,
    metric,
    goal:
      raw.goal ?? (metric === objective.metric ? objective.goal : metric.endsWith('loss') ? 'minimize' : 'maximize'),
    minEpochs: raw.min_epochs,
    reductionFactor: raw.reduction_factor ?? 3,
    brackets: raw.brackets ?? 1,
  };
}

function isEpochMetric(metric: string): metric is EarlyStopSpec['metric'] {
  return (EPOCH_METRICS as readonly string[]).includes(metric);
}
