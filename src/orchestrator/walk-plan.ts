import { messageOf, PipelineError } from '../errors.js';
import type { NodeOutcome, NodeRecord, Plan, PlanNode } from '../types.js';
import { findDamage } from '../store/node-integrity.js';
import type { ExecuteOptions } from './executor.js';

/** Runs one node to completion, returning its stored record. */
export type RunNode = (node: PlanNode) => Promise<NodeRecord>;

/**
 * Walks the DAG: a node starts when all its needs are done, at most `parallel` at once; cached nodes (not forced)
 * complete at once; a failed node skips everything downstream of it while independent branches go on.
 */
export async function walkPlan(
  plan: Plan,
  options: ExecuteOptions,
  runNode: RunNode,
): Promise<Map<string, NodeOutcome>> {
  const outcomes = new Map<string, NodeOutcome>();
  const readSoon = nodesReadSoon(plan, options);
  const running = new Map<string, Promise<void>>();
  const pending = new Set(plan.nodes.map((node) => node.id));
  const finish = (node: PlanNode, outcome: NodeOutcome) => {
    outcomes.set(node.id, outcome);
    pending.delete(node.id);
    options.events.nodeFinished?.(node, outcome);
  };

  while (pending.size > 0 || running.size > 0) {
    let progressed = false;
    for (const node of plan.nodes) {
      if (!pending.has(node.id) || running.has(node.id)) continue;
      const needs = node.needs.map((id) => outcomes.get(id));
      const broken = needs.find((outcome) => outcome && outcome.state !== 'done' && outcome.state !== 'cached');
      if (broken || options.signal.aborted) {
        const cancelled = options.signal.aborted || (broken?.state === 'skipped' && broken.reason === 'cancelled');
        finish(node, { state: 'skipped', reason: cancelled ? 'cancelled' : 'an upstream stage failed' });
        progressed = true;
        continue;
      }
      if (needs.some((outcome) => outcome === undefined)) continue;
      if (!options.force.has(node.id) && options.store.has(node.cacheKey)) {
        const record = await options.store.readRecord(node.cacheKey);
        const depth = readSoon.has(node.id) ? 'hash' : 'size';
        const damage = record && (await findDamage(options.store.nodeDir(node.cacheKey), record, depth));
        if (record && !damage) {
          finish(node, { state: 'cached', record });
          progressed = true;
          continue;
        }
        if (damage) {
          options.warn?.(`warning: ${node.id}: its cached output is damaged (${damage}); building it again`);
          await options.store.discardNode(node.cacheKey);
        }
      }
      if (running.size >= options.parallel) continue;
      options.events.nodeStarted?.(node);
      const task = runNode(node).then(
        (record) => finish(node, { state: 'done', record }),
        (error: unknown) => {
          const code = error instanceof PipelineError ? error.code : 'STAGE_FAILED';
          if (code === 'CANCELLED') finish(node, { state: 'skipped', reason: 'cancelled' });
          else finish(node, { state: 'failed', error: messageOf(error), code });
        },
      );
      running.set(
        node.id,
        task.finally(() => running.delete(node.id)),
      );
      progressed = true;
    }
    if (!progressed && running.size > 0) await Promise.race(running.values());
    else if (!progressed) break;
  }
  return outcomes;
}

/**
 * Cached nodes that a stage of this run will read (a dependent that is not built yet, or forced): their files are
 * hashed before reuse, the others only checked for presence and size.
 */
function nodesReadSoon(plan: Plan, options: ExecuteOptions): Set<string> {
  const soon = new Set<string>();
  for (const node of plan.nodes) {
    if (options.force.has(node.id) || !options.store.has(node.cacheKey)) node.needs.forEach((id) => soon.add(id));
  }
  return soon;
}
