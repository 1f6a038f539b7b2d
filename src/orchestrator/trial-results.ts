import { describeTrial } from '../util/describe-trial.js';
import type { WorkspaceStore } from '../store/workspace-store.js';
import type { NodeOutcome, NodeRecord, Plan, TrialRow, TrialState } from '../types.js';

/** What is known of each node: this run's outcome, or its stored record from an earlier run. */
export type NodeKnowledge = Map<string, NodeOutcome | { state: 'stored'; record: NodeRecord }>;

/** What the workspace holds for a plan: the stored record of every node that has completed. */
export async function readStoredKnowledge(plan: Plan, store: WorkspaceStore): Promise<NodeKnowledge> {
  const known: NodeKnowledge = new Map();
  for (const node of plan.nodes) {
    const record = await store.readRecord(node.cacheKey);
    if (record) known.set(node.id, { state: 'stored', record });
  }
  return known;
}

/**
 * Rows per trial, sorted by the objective (best first, trials without a value last), the best one marked.
 * Metrics of later stages override earlier ones with the same name.
 */
export function collectTrialRows(plan: Plan, known: NodeKnowledge): TrialRow[] {
  const rows = plan.trials.map((trial): TrialRow => {
    const nodes = plan.nodes.filter((node) => node.trials.includes(trial.id));
    const metrics: Record<string, number> = {};
    let state: TrialState = 'done';
    let error: string | undefined;
    let stopped: string | undefined;
    for (const node of nodes) {
      const entry = known.get(node.id);
      if (entry && 'record' in entry) {
        Object.assign(metrics, entry.record.metrics);
        stopped ??= earlyStopOf(entry.record);
      }
      if (entry?.state === 'failed') {
        state = 'failed';
        error ??= `${node.stage}: ${entry.error}`;
      } else if (entry?.state === 'skipped' && state !== 'failed' && state !== 'cancelled') {
        state = entry.reason === 'cancelled' ? 'cancelled' : 'skipped';
      } else if (!entry && state === 'done') {
        state = 'pending';
      }
    }
    if (stopped !== undefined && state === 'done') state = 'stopped';
    const value = metrics[plan.objective.metric];
    return {
      id: trial.id,
      label: describeTrial(trial),
      params: trial.params,
      state,
      objective: value !== undefined && Number.isFinite(value) ? value : undefined,
      metrics,
      ...(error === undefined ? {} : { error }),
      ...(stopped === undefined ? {} : { stopped }),
      best: false,
    };
  });
  const sign = plan.objective.goal === 'maximize' ? -1 : 1;
  rows.sort((a, b) => {
    if (a.objective === undefined || b.objective === undefined) return a.objective === undefined ? 1 : -1;
    return sign * (a.objective - b.objective);
  });
  const first = rows[0];
  if (first?.objective !== undefined) first.best = true;
  return rows;
}

/** Why early stopping ended a train node, as its record's summary says (see stages/train.ts). */
function earlyStopOf(record: NodeRecord): string | undefined {
  const reason = record.summary.earlyStop;
  return typeof reason === 'string' ? reason : undefined;
}
