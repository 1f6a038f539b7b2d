import {
  deserializeError,
  parseSerializedError,
  PipelineError,
  serializeError,
  type ErrorCode,
  type SerializedError,
} from '../errors.js';
import type { NodeRecord, PlanNode, StageKind } from '../types.js';
import type { NodeTask } from '../workers/build-node.js';

/** The two queues: stages that want a GPU, and the rest. */
export type QueueName = 'gpu' | 'cpu';

/** Both queues, in the order they are shown. */
export const QUEUE_NAMES: readonly QueueName[] = ['cpu', 'gpu'];

/**
 * The version of the job format below. Orchestrators and workers of different protocols do not take each other's
 * jobs; a worker refuses such a job (and a job for a stage whose code version differs from its own) with one line.
 */
export const QUEUE_PROTOCOL = 2;

/**
 * Where a job's inputs are and where its output goes. `shared`: the workspace with this id (a folder every worker
 * mounts, wherever); `remote`: the node store in the MLflow server's artifact proxy at `uri`, under `storeId`.
 */
export type NodeStoreRef = { kind: 'shared'; workspaceId: string } | { kind: 'remote'; uri: string; storeId: string };

/** An upstream node a job reads: its cache key and, with a remote node store, which pushed build of it. */
export interface InputRef {
  cacheKey: string;
  attempt?: string;
}

/** A node to build as a job carries it: no paths, inputs by cache key. */
export interface QueueTask extends Omit<NodeTask, 'inputs'> {
  inputs: Partial<Record<StageKind, InputRef>>;
}

/** What a queued job carries: plain data with no absolute paths, so any worker can build it in its own workspace. */
export interface QueueJobData {
  /** {@link QUEUE_PROTOCOL} of the orchestrator that queued it. */
  protocol: number;
  task: QueueTask;
  /** The code version of the node's stage in the orchestrator's catalogue (part of the node's cache key). */
  stageVersion: string;
  store: NodeStoreRef;
  /** Fingerprints of the data folders the node reads, published as `data/<fingerprint>/` in the node store. */
  data: string[];
  /** Recompute even if the store already has the output (a rerun). */
  force: boolean;
}

/** What a completed job returns: the node's record and, with a remote node store, the attempt it pushed. */
export interface QueueJobResult {
  record: NodeRecord;
  attempt?: string;
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

/** The cache key of the node a job id (from {@link jobIdFor}) builds. */
export function cacheKeyOfJob(jobId: string): string {
  return jobId.split('-rerun-')[0] ?? jobId;
}

/**
 * A job's failure reason: the worker's error serialized as JSON (code, message, stack, cause chain), so the
 * orchestrator rebuilds it whole. The message already names the node and its trial.
 */
export function encodeFailure(error: PipelineError): string {
  return JSON.stringify(serializeError(error));
}

/**
 * Rebuilds the error a worker reported in a job's failure reason. A reason BullMQ wrote itself (a job that stalled
 * too often) is not JSON; it becomes STAGE_FAILED, headed by `context`.
 */
export function decodeFailure(reason: string | undefined, context: string): PipelineError {
  let data: SerializedError | undefined;
  try {
    data = parseSerializedError(JSON.parse(reason ?? ''));
  } catch {
    data = undefined;
  }
  if (data) return deserializeError(data);
  return new PipelineError('STAGE_FAILED', `${context}: ${reason ?? 'failed on a worker'}`);
}
