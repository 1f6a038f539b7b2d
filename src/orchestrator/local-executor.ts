import path from 'node:path';
import { STAGES } from '../stages/catalog.js';
import { describeTrial } from '../util/describe-trial.js';
import type { WorkspaceStore } from '../store/workspace-store.js';
import type { Plan, PlanNode, StageKind } from '../types.js';
import { buildNode, type NodeTask } from '../workers/build-node.js';
import { stageThreadEnv } from '../workers/stage-threads.js';
import type { ExecuteOptions, Executor } from './executor.js';
import { walkPlan } from './walk-plan.js';

/** The embedded default: every node runs in a child process on this machine, up to `parallel` at once. */
export function createLocalExecutor(): Executor {
  return {
    execute: (plan: Plan, options: ExecuteOptions) =>
      walkPlan(plan, options, (node: PlanNode) =>
        buildNode(options.store, nodeTask(plan, node, options), {
          signal: options.signal,
          env: stageThreadEnv(options.parallel),
          onLog: (message) => options.events.nodeLog?.(node, message),
          onProgress: (update) => options.events.nodeProgress?.(node, update),
        }),
      ),
  };
}

/** The plain-data task for a node: its params and the output folders of its upstream nodes. */
export function nodeTask(plan: Plan, node: PlanNode, options: Pick<ExecuteOptions, 'store' | 'backend'>): NodeTask {
  const trial = plan.trials.find((candidate) => candidate.id === node.trial);
  const trialLabel = trial ? describeTrial(trial) : '';
  return {
    nodeId: node.id,
    ...(trialLabel ? { trialLabel } : {}),
    stage: node.stage,
    kind: node.kind,
    cacheKey: node.cacheKey,
    params: node.params,
    inputs: inputDirs(plan, node, options.store),
    ...sourceDataOf(plan, node),
    backend: options.backend,
  };
}

/** The data folder of `node`'s ingest input, when its stage re-reads the original images. */
function sourceDataOf(plan: Plan, node: PlanNode): { sourceData?: string } {
  if (!STAGES[node.kind].readsSourceData) return {};
  const ingest = plan.nodes.find((candidate) => candidate.kind === 'ingest' && node.needs.includes(candidate.id));
  const dataDir = ingest?.params.dataDir;
  return typeof dataDir === 'string' ? { sourceData: path.resolve(dataDir) } : {};
}

function inputDirs(plan: Plan, node: PlanNode, store: WorkspaceStore): Partial<Record<StageKind, string>> {
  const byId = new Map(plan.nodes.map((candidate) => [candidate.id, candidate]));
  const inputs: Partial<Record<StageKind, string>> = {};
  for (const id of node.needs) {
    const upstream = byId.get(id);
    if (upstream) inputs[upstream.kind] = store.nodeDir(upstream.cacheKey);
  }
  return inputs;
}
