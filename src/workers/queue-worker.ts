import os from 'node:os';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { cancelChannel } from '../queue/queue-keys.js';
import { QUEUE_PROTOCOL, type QueueJobData, type QueueJobResult, type QueueName } from '../queue/queue-protocol.js';
import { startHeartbeat, type Heartbeat, type WorkerInfo } from '../queue/worker-registry.js';
import { STAGES } from '../stages/catalog.js';
import { readWorkspaceId } from '../store/workspace-id.js';
import { WorkspaceStore } from '../store/workspace-store.js';
import { processQueueJob, type ActiveJob } from './queue-job.js';
import { remoteStoreFor } from './job-workspace.js';
import { drainStagePool } from './stage-pool.js';
import { stageThreadEnv } from './stage-threads.js';

export interface QueueWorkerOptions {
  connection: Redis;
  prefix: string;
  /** `['cpu']`, or GPU devices like `['gpu:0', 'gpu:1']` (one job per device). */
  devices: string[];
  /** Jobs at once on a CPU worker. */
  concurrency: number;
  /** How long a job's lock lasts without renewal; a killed worker's job is retried after about this long. */
  lockMs: number;
  /** This worker's workspace: the run's shared folder, or a private one when nodes travel through a node store. */
  workspace: string;
  /** `--node-store`: where this worker reaches the node store, instead of the address a job names. */
  nodeStore?: string;
  log(line: string): void;
  /** Also print each stage's own log lines. */
  verbose?: boolean;
}

/** A running worker. */
export interface QueueWorker {
  /** Stops taking jobs and lets running ones finish, however long they take. */
  close(): Promise<void>;
  /**
   * Graceful stop: takes no new jobs, gives running ones `graceMs` to finish, then stops their stage processes and
   * hands the jobs back to the queue without counting the attempt (another worker resumes them from their last
   * checkpoint), and closes.
   */
  stop(graceMs: number): Promise<void>;
  /** Quits now: stops the stage processes and drops the connections; running jobs are retried once their locks expire. */
  abandon(): void;
}

/** How long stopped jobs get to reach the queue again before the worker closes regardless. */
const HAND_BACK_MS = 5000;

/**
 * Serves the queues: GPU devices each take one job at a time from the `gpu` queue with the device pinned for the
 * stage process; a CPU worker takes up to `concurrency` jobs from either queue. Stages run in child processes,
 * so a crash fails one attempt, not the worker. A heartbeat tells orchestrators which queues are served, by whom,
 * with which stage versions, and what each worker is running.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const store = new WorkspaceStore(options.workspace);
  const running = new Map<string, ActiveJob>();
  const refused = new Set<string>();
  const subscriber = options.connection.duplicate();
  subscriber.on('error', () => undefined);
  await subscriber.subscribe(cancelChannel(options.prefix));
  subscriber.on('message', (_channel: string, jobId: string) => running.get(jobId)?.controller.abort());

  const workers: Worker<QueueJobData, QueueJobResult>[] = [];
  // Started once the worker can describe itself; jobs starting and ending announce themselves through it at once.
  const announce: { heartbeat?: Heartbeat } = {};
  // BullMQ leaves connections it was given open on close; these are ours to quit.
  const connections: Redis[] = [subscriber];
  const add = (queue: QueueName, concurrency: number, env: Record<string, string>) => {
    const connection = options.connection.duplicate();
    connections.push(connection);
    const runningChanged = () => announce.heartbeat?.beatNow();
    const context = { ...options, store, env, queue, running, refused, runningChanged };
    const worker = new Worker<QueueJobData, QueueJobResult>(
      queue,
      (job, token) => processQueueJob(job, token, context),
      {
        connection,
        prefix: options.prefix,
        concurrency,
        lockDuration: options.lockMs,
        stalledInterval: Math.max(1000, Math.floor(options.lockMs / 2)),
        maxStalledCount: 2,
      },
    );
    worker.on('error', (error) => {
      // A lost lock is reported once, by the job itself (queue-job.ts), not once per renewal attempt.
      if (!/could not renew lock|Missing lock/.test(error.message)) options.log(`worker error: ${error.message}`);
    });
    // Frozen or cut off past its lock: the job may be running elsewhere already. Stop its stage process now.
    worker.on('lockRenewalFailed', (jobIds) => {
      for (const jobId of jobIds) {
        const job = running.get(jobId);
        if (!job || job.stopped) continue;
        job.stopped = 'lock lost';
        job.controller.abort();
      }
    });
    // Only a completion BullMQ accepted (this worker still held the job's lock) names the node store's build.
    worker.on('completed', (job, result) => {
      const remote = remoteStoreFor(job.data, options.nodeStore);
      if (remote && result.attempt) {
        remote.markCommitted(job.data.task.cacheKey, result.attempt).catch(() => undefined);
      }
    });
    workers.push(worker);
  };
  const gpus = options.devices.filter((device) => device.startsWith('gpu:'));
  for (const device of gpus) add('gpu', 1, { CUDA_VISIBLE_DEVICES: device.slice(4) });
  if (gpus.length === 0) {
    // A CPU-only worker serves both queues, `concurrency` jobs each. Train and evaluate (the heavy stages) share the
    // gpu queue, so they stay within `concurrency`; a shared limit would let a busy worker hoard jobs an idle one could take.
    // One environment for both queues, so their jobs share warm stage processes (stage-pool.ts).
    const env = { CUDA_VISIBLE_DEVICES: '', ...stageThreadEnv(options.concurrency) };
    add('cpu', options.concurrency, env);
    add('gpu', options.concurrency, env);
  }
  const startedAt = Date.now();
  const describe = async (): Promise<WorkerInfo> => {
    const workspaceId = await readWorkspaceId(store);
    return {
      id: `${os.hostname()}:${process.pid}`,
      host: os.hostname(),
      pid: process.pid,
      devices: gpus.length > 0 ? gpus : [`cpu×${options.concurrency}`],
      queues: gpus.length > 0 ? ['gpu'] : ['cpu', 'gpu'],
      protocol: QUEUE_PROTOCOL,
      stageVersions: Object.fromEntries(Object.values(STAGES).map((stage) => [stage.kind, stage.version])),
      workspace: store.root,
      ...(workspaceId === undefined ? {} : { workspaceId }),
      running: [...running].map(([jobId, job]) => ({ jobId, nodeId: job.nodeId, queue: job.queue, since: job.since })),
      startedAt,
    };
  };
  const heartbeat = startHeartbeat(options.connection, options.prefix, describe, (error) =>
    options.log(`heartbeat failed: ${(error as Error).message}`),
  );
  announce.heartbeat = heartbeat;
  options.log(
    `worker ${os.hostname()}:${process.pid} serving ${gpus.length > 0 ? gpus.join(', ') : `cpu ×${options.concurrency}`} on prefix ${options.prefix}, workspace ${store.root}`,
  );
  const close = async (force = false) => {
    await Promise.all(workers.map((worker) => worker.close(force)));
    drainStagePool();
    await heartbeat.stop().catch(() => undefined);
    await Promise.all(connections.map((connection) => connection.quit().catch(() => undefined)));
  };
  return {
    close: () => close(),
    async stop(graceMs) {
      await Promise.all(workers.map((worker) => worker.pause(true)));
      await waitUntilIdle(running, graceMs);
      for (const job of running.values()) {
        job.stopped ??= 'worker stopping';
        job.controller.abort();
      }
      await close(!(await waitUntilIdle(running, HAND_BACK_MS)));
    },
    abandon() {
      for (const job of running.values()) job.controller.abort();
      drainStagePool();
      void heartbeat.stop().catch(() => undefined);
      for (const worker of workers) void worker.close(true).catch(() => undefined);
      for (const connection of connections) connection.disconnect();
    },
  };
}

/** Waits until no job runs, for at most `ms`; says whether none does. */
async function waitUntilIdle(running: Map<string, ActiveJob>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (running.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  return running.size === 0;
}
