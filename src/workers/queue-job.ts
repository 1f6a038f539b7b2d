import { DelayedError, UnrecoverableError, WaitingError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { messageOf, nodeContext, PipelineError } from '../errors.js';
import { jobLockKey, stopKey } from '../queue/queue-keys.js';
import {
  encodeFailure,
  NON_RETRYABLE,
  type QueueJobData,
  type QueueJobResult,
  type QueueName,
} from '../queue/queue-protocol.js';
import type { WorkspaceStore } from '../store/workspace-store.js';
import { buildNode } from './build-node.js';
import { findBuilt, prepareTask, refusalOf, remoteStoreFor } from './job-workspace.js';

/** A refused job waits this long before any worker may take it again, so a worker that can build it gets it. */
const REFUSAL_DELAY_MS = 1000;

/** A job this worker is running. */
export interface ActiveJob {
  controller: AbortController;
  nodeId: string;
  queue: QueueName;
  since: number;
  /** Why the worker stopped this job itself, if it did: it is stopping (hand the job back) or lost the job's lock. */
  stopped?: 'worker stopping' | 'lock lost';
}

/** What processing a job needs from its worker. */
export interface JobContext {
  connection: Redis;
  prefix: string;
  store: WorkspaceStore;
  /** `--node-store`: where this worker reaches the node store, instead of the address a job names. */
  nodeStore?: string;
  /** Environment of the stage process (the pinned device). */
  env: Record<string, string>;
  queue: QueueName;
  running: Map<string, ActiveJob>;
  /** Called when `running` changed, so the worker's heartbeat says so at once. */
  runningChanged(): void;
  /** Job ids already refused once, so a refusal is logged once. */
  refused: Set<string>;
  log(line: string): void;
  verbose?: boolean;
}

/**
 * Builds one job in this worker's workspace: refuses (without spending an attempt) a job it must not build, returns
 * an output that exists already, else pulls the inputs, builds the node and, with a remote node store, pushes it.
 */
export async function processQueueJob(
  job: Job<QueueJobData, QueueJobResult>,
  token: string | undefined,
  ctx: JobContext,
): Promise<QueueJobResult> {
  const jobId = job.id ?? job.name;
  const active: ActiveJob = {
    controller: new AbortController(),
    nodeId: job.name,
    queue: ctx.queue,
    since: Date.now(),
  };
  ctx.running.set(jobId, active);
  try {
    const refusal = await refusalOf(job.data, ctx.store);
    if (refusal) {
      if (!ctx.refused.has(jobId)) ctx.log(`refusing ${job.name}: ${refusal}`);
      ctx.refused.add(jobId);
      await job.moveToDelayed(Date.now() + REFUSAL_DELAY_MS, token);
      throw new DelayedError();
    }
    active.nodeId = job.data.task.nodeId;
    ctx.runningChanged();
    return await buildJob(job, token, active, ctx);
  } finally {
    ctx.running.delete(jobId);
    ctx.runningChanged();
  }
}

async function buildJob(
  job: Job<QueueJobData, QueueJobResult>,
  token: string | undefined,
  active: ActiveJob,
  ctx: JobContext,
): Promise<QueueJobResult> {
  const { task, force } = job.data;
  const context = nodeContext(task);
  const started = Date.now();
  try {
    await throwIfStopRequested(job, ctx);
    const remote = remoteStoreFor(job.data, ctx.nodeStore);
    const done = force ? undefined : await findBuilt(job.data, ctx.store, remote);
    if (done) return done; // an earlier attempt finished before its worker died, or another run built it
    ctx.log(`▶ ${task.nodeId} (attempt ${job.attemptsMade + 1})`);
    const prepared = await prepareTask(job.data, ctx.store, remote);
    const record = await buildNode(ctx.store, prepared.task, {
      signal: active.controller.signal,
      env: ctx.env,
      ...(prepared.cwd === undefined ? {} : { cwd: prepared.cwd }),
      onLog: (message) => {
        if (ctx.verbose) ctx.log(`  [${task.nodeId}] ${message}`);
        void job.log(message).catch(() => undefined);
      },
      onProgress: (update) => void job.updateProgress(update).catch(() => undefined),
    });
    // Fencing: a worker that lost the job's lock (frozen or cut off past it) may have been replaced by another; only
    // the lock holder's build goes to the node store (a completion BullMQ refuses would not name it anyway).
    if (remote && !(await holdsLock(job, token, ctx))) active.stopped = 'lock lost';
    if (active.stopped === 'lock lost') {
      throw new PipelineError('CANCELLED', `${context}: this worker lost the job's lock; output not pushed`);
    }
    const attempt = remote ? await remote.pushNode(ctx.store, task.cacheKey) : undefined;
    ctx.log(`✔ ${task.nodeId} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return attempt === undefined ? { record } : { record, attempt };
  } catch (error) {
    if (active.stopped === 'worker stopping') return await handBack(job, token, ctx);
    if (active.stopped === 'lock lost') {
      // The job is another worker's now: nothing to report to BullMQ, which would refuse it for want of the lock.
      ctx.log(`✖ ${task.nodeId}: lost the job's lock (frozen or cut off from Redis); stopped, nothing committed`);
      throw new DelayedError();
    }
    const failure = describeFailure(error, context, active.controller.signal.aborted);
    ctx.log(`✖ ${task.nodeId}: ${failure.code}: ${failure.message}`);
    // The stop request was for a worker that had not started the job yet; this one acted on it.
    if (active.controller.signal.aborted) await ctx.connection.del(stopKey(ctx.prefix, job.id ?? '')).catch(() => 0);
    const reason = encodeFailure(failure);
    throw NON_RETRYABLE.has(failure.code) ? new UnrecoverableError(reason) : new Error(reason);
  }
}

/**
 * Puts a job this worker stopped because it is shutting down back in its queue without counting the attempt;
 * another worker resumes it from its last checkpoint.
 */
async function handBack(
  job: Job<QueueJobData, QueueJobResult>,
  token: string | undefined,
  ctx: JobContext,
): Promise<never> {
  await job.moveToWait(token);
  ctx.log(`↩ ${job.data.task.nodeId}: handed back to the queue (worker stopping; the attempt is not counted)`);
  throw new WaitingError();
}

/** Whether this worker still holds the job's BullMQ lock (its token is the lock's value). */
async function holdsLock(
  job: Job<QueueJobData, QueueJobResult>,
  token: string | undefined,
  ctx: JobContext,
): Promise<boolean> {
  const holder = await ctx.connection.get(jobLockKey(ctx.prefix, ctx.queue, job.id ?? ''));
  return token !== undefined && holder === token;
}

/** A `pipeline cancel` that found this job running before this worker started it leaves a stop request for it. */
async function throwIfStopRequested(job: Job<QueueJobData, QueueJobResult>, ctx: JobContext): Promise<void> {
  const key = stopKey(ctx.prefix, job.id ?? '');
  if ((await ctx.connection.get(key)) !== String(job.timestamp)) return;
  await ctx.connection.del(key);
  throw new PipelineError('CANCELLED', `${nodeContext(job.data.task)}: cancelled`);
}

/** The error a failed attempt reports: a stage's own PipelineError as it is, anything else wrapped with its context. */
function describeFailure(error: unknown, context: string, cancelled: boolean): PipelineError {
  if (error instanceof PipelineError && (error.code === 'CANCELLED' || !cancelled)) return error;
  if (cancelled) return new PipelineError('CANCELLED', `${context}: cancelled`, { cause: error });
  return new PipelineError('STAGE_FAILED', `${context}: ${messageOf(error)}`, { cause: error });
}
