import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { latestNodeCheckpoint } from '../../ml/train/checkpoint-files.js';
import { armGate, writeGateVerdict } from '../../stages/early-stop-gate.js';
import type { WorkspaceStore } from '../../store/workspace-store.js';
import type { EarlyStopSpec, ExecutionEvents, NodeOutcome, Plan, PlanNode, StageProgress } from '../../types.js';
import { bracketOf, decideStop, milestones, type TrialCurve } from './decide-stop.js';

interface Tracked {
  node: PlanNode;
  /** Place in the sweep's order: when its train node first started or was found built. */
  order: number;
  values: number[];
  ended: boolean;
  /** Milestones still to judge, ascending; empty once judged through or stopped. */
  waiting: number[];
}

/**
 * Early stopping as execution events, so it runs the same under any executor (local pool or queue): it watches the
 * per-epoch metric of every train node, judges each trial at its milestones against the trials before it
 * ({@link decideStop}) and hands the verdict to the waiting train stage through its checkpoint folder. A stopped
 * trial completes normally with the model and metrics of its last epoch, so evaluate still runs on it and a rerun
 * finds it built.
 */
export function createEarlyStopEvents(plan: Plan, spec: EarlyStopSpec, store: WorkspaceStore): ExecutionEvents {
  const tracked = new Map<string, Tracked>();
  const track = (node: PlanNode): Tracked | undefined => {
    if (node.kind !== 'train' || node.trial === null) return undefined;
    let entry = tracked.get(node.id);
    if (!entry) {
      entry = { node, order: tracked.size, values: [], ended: false, waiting: [] };
      tracked.set(node.id, entry);
    }
    return entry;
  };
  const judge = () => {
    const ordered = [...tracked.values()].sort((a, b) => a.order - b.order);
    for (const entry of ordered) {
      while (!entry.ended && entry.waiting.length > 0) {
        const epoch = entry.waiting[0] ?? 0;
        const bracket = bracketOf(spec, entry.order);
        const earlier = ordered.filter((o) => o.order < entry.order && bracketOf(spec, o.order) === bracket);
        const verdict = decideStop(spec, curve(entry), earlier.map(curve), epoch);
        if (!verdict) break;
        writeGateVerdict(store.checkpointDir(entry.node.cacheKey), {
          stop: verdict.stop,
          epoch,
          reason: verdict.reason,
        });
        entry.waiting = verdict.stop ? [] : entry.waiting.slice(1);
      }
    }
  };
  return {
    nodeStarted(node) {
      const entry = track(node);
      if (!entry) return;
      const checkpointDir = store.checkpointDir(node.cacheKey);
      // A resumed run continues after its checkpoint (its newest attempt's); the epochs before it count as reported.
      const resumed = latestNodeCheckpoint<Record<string, number | null>>(checkpointDir);
      entry.values = curveOf(resumed?.state.history ?? [], spec.metric);
      const epochs = typeof node.params.epochs === 'number' ? node.params.epochs : 0;
      entry.waiting = milestones(spec, bracketOf(spec, entry.order), epochs);
      // Armed synchronously: the executor starts the stage right after this event.
      armGate(checkpointDir, entry.waiting);
      judge();
    },
    nodeProgress(node: PlanNode, update: StageProgress) {
      const entry = tracked.get(node.id);
      const value = update.metrics?.[spec.metric];
      if (!entry || update.epoch === undefined || value === undefined) return;
      entry.values[update.epoch - 1] = value;
      judge();
    },
    nodeFinished(node: PlanNode, outcome: NodeOutcome) {
      const entry = track(node);
      if (!entry) return;
      const file = path.join(store.nodeDir(node.cacheKey), 'history.json');
      if ((outcome.state === 'done' || outcome.state === 'cached') && existsSync(file)) {
        entry.values = curveOf(JSON.parse(readFileSync(file, 'utf8')) as Record<string, number | null>[], spec.metric);
      }
      entry.ended = true;
      entry.waiting = [];
      judge();
    },
  };
}

function curve(entry: Tracked): TrialCurve {
  return { values: entry.values, ended: entry.ended };
}

/** The watched metric per epoch of a train history. */
function curveOf(history: readonly Record<string, number | null>[], metric: EarlyStopSpec['metric']): number[] {
  // JSON writes NaN as null; a diverged epoch stays NaN, the worst value.
  return history.map((row) => row[metric] ?? NaN);
}
