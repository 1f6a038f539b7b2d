import type { PipelineSpec, StageKind } from '../types.js';

/**
 * The metrics each stage kind reports (its result's `metrics`); `<class>` stands for any class name. Kept beside the
 * stages' code by a test that runs them (test/integration/cli.test.ts compares a real run's metrics with this table).
 */
export const STAGE_METRICS: Record<StageKind, readonly string[]> = {
  ingest: ['images', 'skipped'],
  synthesize: ['images_tried', 'images_synthesized', 'faces_found', 'yield', 'faces_per_second'],
  split: ['train_images', 'val_images'],
  embed: [],
  train: ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'best_val_accuracy'],
  evaluate: ['accuracy', 'macro_f1', 'weighted_f1', 'precision_<class>', 'recall_<class>', 'f1_<class>'],
  visualize: [],
};

/** Whether `metric` is one the table lists (a `<class>` pattern matches any class name). */
export function isReportedMetric(metric: string, names: readonly string[]): boolean {
  return names.some((name) => {
    if (!name.endsWith('<class>')) return name === metric;
    const prefix = name.slice(0, -'<class>'.length);
    return metric.startsWith(prefix) && metric.length > prefix.length;
  });
}

/**
 * The error for an objective metric no stage of the pipeline reports (the sweep would run to the end and name no best
 * trial), or undefined when one does.
 */
export function checkObjectiveMetric(metric: string, pipeline: PipelineSpec): string | undefined {
  const names = [...new Set(pipeline.stages.flatMap((stage) => STAGE_METRICS[stage.kind]))];
  if (isReportedMetric(metric, names)) return undefined;
  return `no stage of ${pipeline.name} reports '${metric}'; its stages report ${names.join(', ')}`;
}
