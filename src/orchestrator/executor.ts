import type { BackendChoice } from '../ml/backend.js';
import type { NodeRecord, WorkspaceStore } from '../store/workspace-store.js';
import type { Plan, PlanNode, StageProgress } from '../types.js';

/** How a node ended. */
export type NodeOutcome =
  | { state: 'cached' | 'done'; record: NodeRecord }
  | { state: 'failed'; error: string; code: string }
  | { state: 'skipped'; reason: string };

/** What an executor reports while it works; the CLI's display and trackers listen here. */
export interface ExecutionEvents {
  nodeStarted?(node: PlanNode): void;
  nodeProgress?(node: PlanNode, update: StageProgress): void;
  nodeLog?(node: PlanNode, message: string): void;
  nodeFinished?(node: PlanNode, outcome: NodeOutcome): void;
}

export interface ExecuteOptions {
  store: WorkspaceStore;
  /** Node ids to recompute even when their output is cached. */
  force: ReadonlySet<string>;
  /** Nodes running at once. */
  parallel: number;
  backend: BackendChoice;
  events: ExecutionEvents;
  signal: AbortSignal;
}

/** Runs a plan: the local process pool (embedded default) and the Redis/BullMQ queue both implement this. */
export interface Executor {
  execute(plan: Plan, options: ExecuteOptions): Promise<Map<string, NodeOutcome>>;
}
