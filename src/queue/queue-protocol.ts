import { PipelineError, type ErrorCode } from '../errors.js';
import type { PlanNode } from '../types.js';
import type { NodeTask } from '../workers/build-node.js';

/** The two queues: stages that want a GPU, and the rest. */
export type QueueName = 'gpu' | 'cpu';

/** What a queued job carries. Paths point into a workspace every worker and the orchestrator can reach. */
export interface QueueJobData {
  task: NodeTask;
  workspace: string;
  /** Recompute even if the store already has the output (a rerun). */
  force: boolean;
}

/** Error codes that retrying cannot fix: the worker fails these once, without burning attempts. */
export const NON_RETRYABLE: ReadonlySet<string> = new Set<ErrorCode>(['DATA_INVALID', 'SPEC_INVALID', 'CANCELLED']);

/** The queue a node goes to, by the resources its stage declares. */
export function queueFor(node: Pick<PlanNode, 'resources'>): QueueName {
  return node.resources.gpu > 0 ? 'gpu' : 'cpu';
}

/** The job id of a node: its cache key, so a node is queued once across runs and sweeps; reruns get a fresh id. */
export function jobIdFor(cacheKey: string, force: boolean): string {
  return force ? `${cacheKey}-rerun-${Date.now().toString(36)}` : cacheKey;
}

/** Redis pub/sub channel telling workers to stop running jobs. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:pipeline:cancel`;
}

/** Redis key marking a job id cancelled, so a worker that picks it up late does not start it. */
export function cancelledKey(prefix: string, jobId: string): string {
  return `${prefix}:pipeline:cancelled:${jobId}`;
}

/** A job's failure reason carries our error code in front: `CODE: message`. */
export function encodeFailure(code: string, message: string): string {
  return `${code}: ${message}`;
}

/** Rebuilds the error a worker reported in a job's failure reason. */
export function decodeFailure(reason: string | undefined, nodeId: string): PipelineError {
  const match = /^([A-Z_]+): ([\s\S]*)$/.exec(reason ?? '');
  if (!match) return new PipelineError('STAGE_FAILED', `${nodeId}: ${reason ?? 'failed on a worker'}`);
  return new PipelineError(match[1] as ErrorCode, match[2] ?? '');
}
