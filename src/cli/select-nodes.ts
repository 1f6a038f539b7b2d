import { PipelineError } from '../errors.js';
import type { Plan } from '../types.js';

export interface NodeSelection {
  stage: string;
  trial?: string;
  downstream?: boolean;
}

/** Node ids of `stage` (in `trial` if given), plus everything depending on them when `downstream` is set. */
export function selectNodes(plan: Plan, selection: NodeSelection): Set<string> {
  const stages = [...new Set(plan.nodes.map((node) => node.stage))];
  if (!stages.includes(selection.stage)) {
    throw new PipelineError('USAGE', `--stage ${selection.stage}: no such stage (stages: ${stages.join(', ')})`);
  }
  if (selection.trial !== undefined && !plan.trials.some((trial) => trial.id === selection.trial)) {
    throw new PipelineError(
      'USAGE',
      `--trial ${selection.trial}: no such trial (${plan.trials.map((t) => t.id).join(', ')})`,
    );
  }
  const selected = new Set(
    plan.nodes
      .filter(
        (node) =>
          node.stage === selection.stage && (selection.trial === undefined || node.trials.includes(selection.trial)),
      )
      .map((node) => node.id),
  );
  if (selection.downstream) {
    // Nodes come in dependency order, so one pass reaches everything downstream.
    for (const node of plan.nodes) {
      const inTrial = selection.trial === undefined || node.trials.includes(selection.trial);
      if (inTrial && node.needs.some((need) => selected.has(need))) selected.add(node.id);
    }
  }
  return selected;
}
