import type { StageKind } from '../stages/catalog.js';
import type { Plan, PlanNode } from '../types.js';
import type { ExecuteOptions, Executor } from './executor.js';
import { runInChild } from './run-in-child.js';
import { walkPlan } from './walk-plan.js';

/** The embedded default: every node runs in a child process on this machine, up to `parallel` at once. */
export function createLocalExecutor(): Executor {
  return {
    execute: (plan: Plan, options: ExecuteOptions) =>
      walkPlan(plan, options, async (node: PlanNode) => {
        const { store } = options;
        const outDir = await store.begin(node.cacheKey);
        const startedAt = new Date();
        try {
          const { result, backend } = await runInChild(
            {
              nodeId: node.id,
              kind: node.kind,
              params: node.params,
              inputs: inputDirs(plan, node, options),
              outDir,
              backend: options.backend,
            },
            {
              signal: options.signal,
              onLog: (message) => options.events.nodeLog?.(node, message),
              onProgress: (update) => options.events.nodeProgress?.(node, update),
            },
          );
          const finishedAt = new Date();
          const record = {
            ...result,
            cacheKey: node.cacheKey,
            stage: node.stage,
            kind: node.kind,
            params: node.params,
            startedAt: startedAt.toISOString(),
            finishedAt: finishedAt.toISOString(),
            durationMs: finishedAt.getTime() - startedAt.getTime(),
            backend,
          };
          await store.commit(outDir, record);
          return record;
        } catch (error) {
          await store.discard(outDir);
          throw error;
        }
      }),
  };
}

/** Output folders of a node's upstream nodes, keyed by their stage kind. */
export function inputDirs(
  plan: Plan,
  node: PlanNode,
  options: Pick<ExecuteOptions, 'store'>,
): Partial<Record<StageKind, string>> {
  const byId = new Map(plan.nodes.map((candidate) => [candidate.id, candidate]));
  const inputs: Partial<Record<StageKind, string>> = {};
  for (const id of node.needs) {
    const upstream = byId.get(id);
    if (upstream) inputs[upstream.kind] = options.store.nodeDir(upstream.cacheKey);
  }
  return inputs;
}
