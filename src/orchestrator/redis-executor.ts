import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { PipelineError } from '../errors.js';
import {
  jobIdFor,
  QUEUE_NAMES,
  queueFor,
  type QueueJobData,
  type QueueJobResult,
  type QueueName,
} from '../queue/queue-protocol.js';
import type { NodeRecord, Plan, PlanNode, StageProgress } from '../types.js';
import type { ExecuteOptions, Executor } from './executor.js';
import { enqueueJob, waitForJob, type WaitContext, type Waiter } from './job-waiting.js';
import { NodeTransport } from './node-transport.js';
import { openSweepSession, type SweepSession } from './sweep-session.js';
import { walkPlan } from './walk-plan.js';
import { startWorkerWatch, type PendingJobs } from './worker-watch.js';

export interface RedisExecutorOptions {
  connection: Redis;
  prefix: string;
  /** `redis://host:port` without credentials, for messages. */
  where: string;
  /** How often job states are polled, since BullMQ's events are best-effort. */
  pollMs?: number;
  /** The run's `--set` flags: with its sweep file, the identity `pipeline cancel` finds it by. */
  overrides: string[];
  /** `--node-store`: the MLflow server whose artifact proxy carries nodes to and from workers; none: a shared disk. */
  nodeStore?: string;
  /** `--wait-for-workers`: give up on a queue no worker serves after this many seconds; none: wait. */
  waitForWorkersS?: number;
  warn(line: string): void;
}

type Queues = Map<QueueName, Queue<QueueJobData, QueueJobResult>>;

/**
 * Runs a plan through BullMQ: the orchestrator keeps the DAG and enqueues a node once all its needs are done,
 * with the node's cache key as job id, then waits for a worker to build it and brings its output into the
 * workspace. Killing the orchestrator and running again re-attaches to the same jobs; `pipeline cancel` stops it
 * (exit 130); a queue no live worker can serve is reported within seconds.
 */
export function createRedisExecutor(options: RedisExecutorOptions): Executor {
  return {
    async execute(plan: Plan, execute: ExecuteOptions) {
      const transport = await NodeTransport.open(execute.store, options.nodeStore, options.prefix);
      const stop = new AbortController();
      const abort = () => stop.abort();
      execute.signal.addEventListener('abort', abort, { once: true });
      const jobIds = plan.nodes.map((node) => jobIdFor(node.cacheKey, false));
      const session = await openSweepSession(
        options.connection,
        options.prefix,
        { file: plan.sweep, overrides: options.overrides },
        jobIds,
        () => {
          options.warn(`${plan.sweep}: cancelled by pipeline cancel`);
          abort();
        },
      );
      const waiters = new Map<string, Waiter>();
      const pending: PendingJobs = new Map();
      const { queues, close } = openQueues(options, waiters);
      const watch = startWorkerWatch(pending, {
        ...options,
        ...(transport.ref.kind === 'shared' ? { workspaceId: transport.ref.workspaceId } : {}),
        status: (node, message) => execute.events.nodeProgress?.(node, { message }),
        giveUp: (queue, message) => {
          for (const [jobId, job] of pending) {
            if (job.queue === queue) waiters.get(jobId)?.fail(new PipelineError('WORKERS_UNAVAILABLE', message));
          }
        },
      });
      const run: ExecuteOptions = { ...execute, signal: stop.signal };
      const wait: WaitContext = {
        transport,
        waiters,
        signal: stop.signal,
        pollMs: options.pollMs ?? 1000,
        cancelRequested: () => session.cancelRequested(),
        onProgress: (node, update) => execute.events.nodeProgress?.(node, update),
      };
      try {
        const ctx: QueueRun = { queues, pending, session, wait, transport, warn: (line) => options.warn(line) };
        return await walkPlan(plan, run, (node) => runJob(plan, node, run, ctx));
      } finally {
        watch.stop();
        execute.signal.removeEventListener('abort', abort);
        await close();
        await session.close().catch(() => undefined);
      }
    },
  };
}

/** The two queues, and queue events that wake a node's waiter when its job completes, fails or reports progress. */
function openQueues(options: RedisExecutorOptions, waiters: Map<string, Waiter>) {
  const queues: Queues = new Map();
  const events: QueueEvents[] = [];
  const owned: Redis[] = [];
  for (const name of QUEUE_NAMES) {
    queues.set(
      name,
      new Queue<QueueJobData, QueueJobResult>(name, { connection: options.connection, prefix: options.prefix }),
    );
    // BullMQ leaves connections it was given open on close; this one is ours to quit.
    const eventsConnection = options.connection.duplicate();
    owned.push(eventsConnection);
    const queueEvents = new QueueEvents(name, { connection: eventsConnection, prefix: options.prefix });
    queueEvents.on('error', () => undefined);
    const wake = ({ jobId }: { jobId: string }) => waiters.get(jobId)?.check();
    queueEvents.on('completed', wake);
    queueEvents.on('failed', wake);
    queueEvents.on('removed', wake);
    queueEvents.on('progress', ({ jobId, data }) => waiters.get(jobId)?.progress(data as StageProgress));
    events.push(queueEvents);
  }
  const close = async () => {
    await Promise.all([...events.map((e) => e.close()), ...[...queues.values()].map((q) => q.close())]);
    await Promise.all(owned.map((connection) => connection.quit().catch(() => undefined)));
  };
  return { queues, close };
}

interface QueueRun {
  queues: Queues;
  pending: PendingJobs;
  session: SweepSession;
  wait: WaitContext;
  transport: NodeTransport;
  warn(line: string): void;
}

/**
 * Queues one node and waits for it. A job that vanished from Redis without a result (Redis lost its data) is
 * queued once more with a warning; a second loss fails the node.
 */
async function runJob(plan: Plan, node: PlanNode, run: ExecuteOptions, ctx: QueueRun): Promise<NodeRecord> {
  const queueName = queueFor(node);
  const queue = ctx.queues.get(queueName);
  if (!queue) throw new PipelineError('STAGE_FAILED', `no queue for ${node.id}`);
  const data = await ctx.transport.jobData(plan, node, run);
  for (let lost = 0; ; lost++) {
    // Asked here too, not only by the session's poll, so a cancelled run queues nothing more.
    if (run.signal.aborted || (await ctx.session.cancelRequested())) {
      throw new PipelineError('CANCELLED', `${node.id}: cancelled`);
    }
    const jobId = await enqueueJob(queue, data);
    await ctx.session.addJob(jobId);
    ctx.pending.set(jobId, { node, queue: queueName });
    let end;
    try {
      end = await waitForJob(queue, jobId, node, data, ctx.wait);
    } finally {
      ctx.pending.delete(jobId);
    }
    if ('record' in end) return end.record;
    if (lost > 0) throw new PipelineError('STAGE_FAILED', `${node.id}: ${end.gone}, twice; giving up on it`);
    ctx.warn(`warning: ${node.id}: ${end.gone}; queued again`);
  }
}
