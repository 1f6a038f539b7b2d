import type { NodeOutcome, NodeRecord, PlanNode, Trial, TrialRow } from '../types.js';

/** The artifact path of a run's document: everything about it that is not a param, metric or one of few tags. */
export const RUN_DOCUMENT = 'pipeline.json';

/** A node as it ended in this invocation. */
export interface NodeEnd {
  node: PlanNode;
  outcome: NodeOutcome;
}

/**
 * One stage's entry in a run's document: its cache key, how it ended, where and how long it ran, on which
 * backend, and every param (presentation ones included, which the run's params leave out).
 */
export function stageEntry({ node, outcome }: NodeEnd, host: string): Record<string, unknown> {
  const record = 'record' in outcome ? (outcome.record as NodeRecord & { host?: unknown }) : undefined;
  const recordHost = record?.host;
  return {
    stage: node.stage,
    kind: node.kind,
    cacheKey: node.cacheKey,
    state: outcome.state,
    ...(outcome.state === 'failed' ? { error: outcome.error } : {}),
    ...(outcome.state === 'skipped' ? { reason: outcome.reason } : {}),
    ...(record
      ? {
          host: typeof recordHost === 'string' ? recordHost : host,
          backend: record.backend ?? null,
          startedAt: record.startedAt,
          finishedAt: record.finishedAt,
          durationMs: record.durationMs,
          metrics: record.metrics,
        }
      : {}),
    params: node.params,
  };
}

/** A trial run's `pipeline.json`: the trial, the attempt, the workspace, and every stage it used (shared ones too). */
export function trialDocument(
  trial: Trial | undefined,
  attempt: number,
  workspace: string | undefined,
  stages: readonly NodeEnd[],
  host: string,
): Record<string, unknown> {
  return {
    trial: trial ? { id: trial.id, params: trial.params } : null,
    attempt,
    workspace: workspace ?? null,
    stages: Object.fromEntries(stages.map((end) => [end.node.id, stageEntry(end, host)])),
  };
}

/**
 * The parent run's `pipeline.json`: the sweep's files and grid, the workspace, the best trial with its grid
 * values, each trial's journal run and standing, and the shared stages.
 */
export function sweepDocument(options: {
  sweepName: string;
  sweepFacts: Record<string, unknown>;
  workspace: string | undefined;
  rows: readonly TrialRow[];
  runOf: (trialId: string) => string | undefined;
  shared: readonly NodeEnd[];
  host: string;
}): Record<string, unknown> {
  const best = options.rows.find((row) => row.best);
  return {
    sweep: options.sweepName,
    ...options.sweepFacts,
    workspace: options.workspace ?? null,
    best: best ? { trial: best.id, params: best.params, objective: best.objective ?? null } : null,
    trials: Object.fromEntries(
      options.rows.map((row) => [
        row.id,
        { run: options.runOf(row.id) ?? null, state: row.state, objective: row.objective ?? null },
      ]),
    ),
    stages: Object.fromEntries(options.shared.map((end) => [end.node.id, stageEntry(end, options.host)])),
  };
}
