import type { BackendChoice } from '../ml/backend-names.js';
import type { WorkspaceStore } from '../store/workspace-store.js';
import type { ExecutionEvents, NodeOutcome, Plan } from '../types.js';

export interface ExecuteOptions {
  store: WorkspaceStore;
  /** Node ids to recompute even when their output is cached. */
  force: ReadonlySet<string>;
  /** Nodes running at once. */
  parallel: number;
  backend: BackendChoice;
  events: ExecutionEvents;
  signal: AbortSignal;
  /** Prints a warning line (a damaged cached node being rebuilt, a job Redis lost). */
  warn?: (line: string) => void;
}

/** Runs a plan: the local process pool (embedded default) and the Redis/BullMQ queue both implement this. */
export interface Executor {
  execute(plan: Plan, options: ExecuteOptions): Promise<Map<string, NodeOutcome>>;
}
