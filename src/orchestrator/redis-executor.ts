import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { PipelineError } from '../errors.js';
import {
  cancelledKey,
  decodeFailure,
  jobIdFor,
  queueFor,
  type QueueJobData,
  type QueueName,
} from '../queue/queue-protocol.js';
import type { NodeRecord } from '../store/workspace-store.js';
import type { Plan, PlanNode, StageProgress } from '../types.js';
import type { ExecuteOptions, Executor } from './executor.js';
import { nodeTask } from './local-executor.js';
import { walkPlan } from './walk-plan.js';

export interface RedisExecutorOptions {
  connection: Redis;
  prefix: string;
  /** How often job states are polled, since BullMQ's events are best-effort. */
  pollMs?: number;
}

interface Waiter {
  check(): void;
  progress(update: StageProgress): void;
}

/**
 * Runs a plan through BullMQ: the orchestrator keeps the DAG and enqueues a node once all its needs are done,
 * with the node's cache key as job id, then waits for a worker to commit the output into the shared workspace.
 * Killing the orchestrator and running again re-attaches to the same jobs.
 */
export function createRedisExecutor(options: RedisExecutorOptions): Executor {
  return {
    async execute(plan: Plan, execute: ExecuteOptions) {
      const queues = new Map<QueueName, Queue<QueueJobData>>();
      const events: QueueEvents[] = [];
      const waiters = new Map<string, Waiter>();
      const owned: Redis[] = [];
      for (const name of ['cpu', 'gpu'] as const) {
        queues.set(name, new Queue<QueueJobData>(name, { connection: options.connection, prefix: options.prefix }));
        // BullMQ leaves connections it was given open on close; this one is ours to quit.
        const eventsConnection = options.connection.duplicate();
        owned.push(eventsConnection);
        const queueEvents = new QueueEvents(name, {
          connection: eventsConnection,
          prefix: options.prefix,
        });
        queueEvents.on('error', () => undefined);
        const wake = ({ jobId }: { jobId: string }) => waiters.get(jobId)?.check();
        queueEvents.on('completed', wake);
        queueEvents.on('failed', wake);
        queueEvents.on('removed', wake);
        queueEvents.on('progress', ({ jobId, data }) => waiters.get(jobId)?.progress(data as StageProgress));
        events.push(queueEvents);
      }
      // Running a sweep again is asking for it to run: lift the marks an earlier `pipeline cancel` left.
      const marks = plan.nodes.map((node) => cancelledKey(options.prefix, jobIdFor(node.cacheKey, false)));
      await options.connection.del(...marks);
      try {
        return await walkPlan(plan, execute, async (node) => {
          const queue = queues.get(queueFor(node));
          if (!queue) throw new PipelineError('STAGE_FAILED', `no queue for ${node.id}`);
          if (await options.connection.exists(cancelledKey(options.prefix, jobIdFor(node.cacheKey, false)))) {
            throw new PipelineError('CANCELLED', `${node.id}: cancelled`);
          }
          const jobId = await enqueue(queue, plan, node, execute);
          return waitForJob(queue, jobId, node, execute, waiters, options.pollMs ?? 1000);
        });
      } finally {
        await Promise.all([...events.map((e) => e.close()), ...[...queues.values()].map((q) => q.close())]);
        await Promise.all(owned.map((connection) => connection.quit().catch(() => undefined)));
      }
    },
  };
}

/** Adds the node's job unless one with its id is already queued or running; a failed one is replaced. */
async function enqueue(
  queue: Queue<QueueJobData>,
  plan: Plan,
  node: PlanNode,
  execute: ExecuteOptions,
): Promise<string> {
  const force = execute.force.has(node.id);
  const jobId = jobIdFor(node.cacheKey, force);
  const existing = await queue.getJob(jobId);
  if (existing && (await existing.isFailed())) await existing.remove();
  const data: QueueJobData = { task: nodeTask(plan, node, execute), workspace: execute.store.root, force };
  await queue.add(node.id.replaceAll(':', '-'), data, {
    jobId,
    attempts: 3,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: true,
    removeOnFail: { age: 7 * 24 * 3600 },
  });
  return jobId;
}

/** Resolves with the stored record once the job completes; rejects with the worker's error if it fails. */
function waitForJob(
  queue: Queue<QueueJobData>,
  jobId: string,
  node: PlanNode,
  execute: ExecuteOptions,
  waiters: Map<string, Waiter>,
  pollMs: number,
): Promise<NodeRecord> {
  return new Promise((resolve, reject) => {
    let checking = false;
    const settle = (outcome: NodeRecord | PipelineError) => {
      clearInterval(timer);
      waiters.delete(jobId);
      execute.signal.removeEventListener('abort', guardedCheck);
      if (outcome instanceof PipelineError) reject(outcome);
      else resolve(outcome);
    };
    const check = async () => {
      const state = await queue.getJobState(jobId);
      // Completed jobs are removed at once: the store is the record of what finished.
      const record =
        state === 'completed' || state === 'unknown' ? await execute.store.readRecord(node.cacheKey) : undefined;
      if (record) return settle(record);
      if (state === 'failed') return settle(decodeFailure((await queue.getJob(jobId))?.failedReason, node.id));
      if (state === 'unknown')
        return settle(new PipelineError('CANCELLED', `${node.id}: job was removed from the queue`));
      if (execute.signal.aborted) settle(new PipelineError('CANCELLED', `${node.id}: detached; the job stays queued`));
    };
    const guardedCheck = () => {
      if (checking) return;
      checking = true;
      check()
        .catch(() => undefined) // Redis briefly away: the next poll tries again
        .finally(() => (checking = false));
    };
    const timer = setInterval(guardedCheck, pollMs);
    waiters.set(jobId, { check: guardedCheck, progress: (update) => execute.events.nodeProgress?.(node, update) });
    execute.signal.addEventListener('abort', guardedCheck, { once: true });
    guardedCheck();
  });
}
