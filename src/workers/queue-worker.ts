import os from 'node:os';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { messageOf, PipelineError } from '../errors.js';
import {
  cancelChannel,
  cancelledKey,
  encodeFailure,
  NON_RETRYABLE,
  type QueueJobData,
  type QueueName,
} from '../queue/queue-protocol.js';
import { WorkspaceStore, type NodeRecord } from '../store/workspace-store.js';
import { buildNode } from './build-node.js';

export interface QueueWorkerOptions {
  connection: Redis;
  prefix: string;
  /** `['cpu']`, or GPU devices like `['gpu:0', 'gpu:1']` (one job per device). */
  devices: string[];
  /** Jobs at once on a CPU worker. */
  concurrency: number;
  /** How long a job's lock lasts without renewal; a killed worker's job is retried after about this long. */
  lockMs: number;
  log(line: string): void;
  /** Also print each stage's own log lines. */
  verbose?: boolean;
}

/** A running worker; `close` lets running jobs finish. */
export interface QueueWorker {
  close(): Promise<void>;
}

/**
 * Serves the queues: GPU devices each take one job at a time from the `gpu` queue with the device pinned for the
 * stage process; a CPU worker takes up to `concurrency` jobs from either queue. Stages run in child processes,
 * so a crash fails one attempt, not the worker.
 */
export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const running = new Map<string, AbortController>();
  const subscriber = options.connection.duplicate();
  subscriber.on('error', () => undefined);
  await subscriber.subscribe(cancelChannel(options.prefix));
  subscriber.on('message', (_channel: string, jobId: string) => running.get(jobId)?.abort());

  const workers: Worker<QueueJobData, NodeRecord>[] = [];
  // BullMQ leaves connections it was given open on close; these are ours to quit.
  const connections: Redis[] = [subscriber];
  const add = (queue: QueueName, concurrency: number, env: Record<string, string>) => {
    const connection = options.connection.duplicate();
    connections.push(connection);
    const worker = new Worker<QueueJobData, NodeRecord>(queue, (job) => processJob(job, env, running, options), {
      connection,
      prefix: options.prefix,
      concurrency,
      lockDuration: options.lockMs,
      stalledInterval: Math.max(1000, Math.floor(options.lockMs / 2)),
      maxStalledCount: 2,
    });
    worker.on('error', (error) => options.log(`worker error: ${error.message}`));
    workers.push(worker);
  };
  const gpus = options.devices.filter((device) => device.startsWith('gpu:'));
  for (const device of gpus) add('gpu', 1, { CUDA_VISIBLE_DEVICES: device.slice(4) });
  if (gpus.length === 0) {
    // A CPU-only worker serves both queues, `concurrency` jobs each. Train and evaluate (the heavy stages) share the
    // gpu queue, so they stay within `concurrency`; a shared limit would let a busy worker hoard jobs an idle one could take.
    add('cpu', options.concurrency, { CUDA_VISIBLE_DEVICES: '' });
    add('gpu', options.concurrency, { CUDA_VISIBLE_DEVICES: '' });
  }
  options.log(
    `worker ${os.hostname()}:${process.pid} serving ${gpus.length > 0 ? gpus.join(', ') : `cpu ×${options.concurrency}`}`,
  );
  return {
    async close() {
      await Promise.all(workers.map((worker) => worker.close()));
      await Promise.all(connections.map((connection) => connection.quit().catch(() => undefined)));
    },
  };
}

async function processJob(
  job: Job<QueueJobData, NodeRecord>,
  env: Record<string, string>,
  running: Map<string, AbortController>,
  options: QueueWorkerOptions,
): Promise<NodeRecord> {
  const { task, workspace, force } = job.data;
  const jobId = job.id ?? task.cacheKey;
  if (await options.connection.exists(cancelledKey(options.prefix, jobId))) {
    throw new UnrecoverableError(encodeFailure('CANCELLED', `${task.nodeId}: cancelled`));
  }
  const store = new WorkspaceStore(workspace);
  const done = force ? undefined : await store.readRecord(task.cacheKey);
  if (done) return done; // an earlier attempt committed before its worker died
  const controller = new AbortController();
  running.set(jobId, controller);
  options.log(`▶ ${task.nodeId} (attempt ${job.attemptsMade + 1})`);
  const started = Date.now();
  try {
    const record = await buildNode(store, task, {
      signal: controller.signal,
      env,
      onLog: (message) => {
        if (options.verbose) options.log(`  [${task.nodeId}] ${message}`);
        void job.log(message).catch(() => undefined);
      },
      onProgress: (update) => void job.updateProgress(update).catch(() => undefined),
    });
    options.log(`✔ ${task.nodeId} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return record;
  } catch (error) {
    const code = controller.signal.aborted ? 'CANCELLED' : error instanceof PipelineError ? error.code : 'STAGE_FAILED';
    const reason = encodeFailure(code, messageOf(error));
    options.log(`✖ ${task.nodeId}: ${reason}`);
    throw NON_RETRYABLE.has(code) ? new UnrecoverableError(reason) : new Error(reason);
  } finally {
    running.delete(jobId);
  }
}
