import type { Queue } from 'bullmq';
import { nodeContext, PipelineError } from '../errors.js';
import {
  decodeFailure,
  jobIdFor,
  QUEUE_PROTOCOL,
  type QueueJobData,
  type QueueJobResult,
} from '../queue/queue-protocol.js';
import type { NodeRecord, PlanNode, StageProgress } from '../types.js';
import type { NodeTransport } from './node-transport.js';

/** A job being waited for: woken by queue events, fed progress, failed from outside (no worker came). */
export interface Waiter {
  check(): void;
  progress(update: StageProgress): void;
  fail(error: PipelineError): void;
}

/** How waiting for a job ended without an error: the node's record, or why the job is gone without one. */
export type JobEnd = { record: NodeRecord } | { gone: string };

/** What waiting needs from the run. */
export interface WaitContext {
  transport: NodeTransport;
  waiters: Map<string, Waiter>;
  signal: AbortSignal;
  pollMs: number;
  /** Whether `pipeline cancel` asked this run to stop (cancel asks before it removes jobs). */
  cancelRequested(): Promise<boolean>;
  onProgress(node: PlanNode, update: StageProgress): void;
}

/**
 * Adds the node's job unless one with its id is queued, running or completed; a failed one, or a waiting one an
 * orchestrator of another queue protocol left, is replaced. Completed jobs are kept an hour, so a run that
 * re-attaches reads which build a worker pushed.
 */
export async function enqueueJob(queue: Queue<QueueJobData, QueueJobResult>, data: QueueJobData): Promise<string> {
  const jobId = jobIdFor(data.task.cacheKey, data.force);
  const existing = await queue.getJob(jobId);
  if (existing) {
    const state = await existing.getState();
    const stale = (existing.data as Partial<QueueJobData>).protocol !== QUEUE_PROTOCOL && state !== 'active';
    if (state === 'failed' || stale) await existing.remove();
  }
  await queue.add(data.task.nodeId.replaceAll(':', '-'), data, {
    jobId,
    attempts: 3,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: 3600 },
    removeOnFail: { age: 7 * 24 * 3600 },
  });
  return jobId;
}

/**
 * Waits for a job: resolves with the node's record once it completed and its output is in the workspace, or with
 * why it is gone without one (Redis lost it); rejects with the worker's error if it failed, or CANCELLED when the
 * run stops. A job that disappears is "cancelled" only if `pipeline cancel` asked for it.
 */
export function waitForJob(
  queue: Queue<QueueJobData, QueueJobResult>,
  jobId: string,
  node: PlanNode,
  data: QueueJobData,
  ctx: WaitContext,
): Promise<JobEnd> {
  return new Promise((resolve, reject) => {
    let checking = false;
    const settle = (end: JobEnd | PipelineError) => {
      clearInterval(timer);
      ctx.waiters.delete(jobId);
      ctx.signal.removeEventListener('abort', guardedCheck);
      if (end instanceof PipelineError) reject(end);
      else resolve(end);
    };
    const guardedCheck = () => {
      if (checking) return;
      checking = true;
      judgeJob(queue, jobId, node, data, ctx)
        .then((end) => end && ctx.waiters.has(jobId) && settle(end))
        .catch(() => undefined) // Redis briefly away: the next poll tries again
        .finally(() => (checking = false));
    };
    const timer = setInterval(guardedCheck, ctx.pollMs);
    ctx.waiters.set(jobId, {
      check: guardedCheck,
      progress: (update) => ctx.onProgress(node, update),
      fail: (error) => settle(error),
    });
    ctx.signal.addEventListener('abort', guardedCheck, { once: true });
    guardedCheck();
  });
}

/** How the job stands now: ended (with the node's record, gone, or an error), or undefined while it is under way. */
async function judgeJob(
  queue: Queue<QueueJobData, QueueJobResult>,
  jobId: string,
  node: PlanNode,
  data: QueueJobData,
  ctx: WaitContext,
): Promise<JobEnd | PipelineError | undefined> {
  const context = nodeContext(data.task);
  if (ctx.signal.aborted) return new PipelineError('CANCELLED', `${node.id}: detached; the job stays queued`);
  const state = await queue.getJobState(jobId);
  if (state === 'failed') return decodeFailure((await queue.getJob(jobId))?.failedReason, context);
  if (state !== 'completed' && state !== 'unknown') return undefined;
  const job = state === 'completed' ? await queue.getJob(jobId) : undefined;
  let record: NodeRecord | undefined;
  try {
    record = await ctx.transport.accept(node, job?.returnvalue, data.force);
  } catch (error) {
    return error instanceof PipelineError ? error : new PipelineError('STORE_INVALID', `${context}: ${String(error)}`);
  }
  if (record) return { record };
  if (state === 'completed') {
    await job?.remove();
    return { gone: 'its job completed, but its output is not in the workspace or the node store' };
  }
  if (await ctx.cancelRequested()) return new PipelineError('CANCELLED', `${node.id}: cancelled`);
  return {
    gone: 'its job vanished from Redis without a result (did Redis lose its data: a FLUSHALL, a restart without persistence, a failover?)',
  };
}
