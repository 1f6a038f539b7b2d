import { Queue } from 'bullmq';
import { cancelChannel, cancelledKey, jobIdFor, queueFor, type QueueJobData } from '../queue/queue-protocol.js';
import { connectRedis } from '../queue/redis-connection.js';
import { PipelineError } from '../errors.js';
import { startQueueWorker } from '../workers/queue-worker.js';
import { openSweep, type SweepCommandOptions } from './open-sweep.js';
import type { QueueFlags } from './open-executor.js';

export interface WorkerOptions extends QueueFlags {
  devices: string;
  concurrency: number;
  lockMs: number;
  verbose?: boolean;
}

/** `pipeline worker`: serves the queues until SIGINT/SIGTERM, then lets running jobs finish. */
export async function workerCommand(options: WorkerOptions): Promise<number> {
  const url = requireQueue(options);
  const devices = options.devices.split(',').map((d) => d.trim());
  if (!devices.every((d) => d === 'cpu' || /^gpu:\d+$/.test(d))) {
    throw new PipelineError('USAGE', `--devices ${options.devices}: expected cpu or gpu:0,gpu:1,...`);
  }
  const connection = await connectRedis(url);
  const log = (line: string) => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  const worker = await startQueueWorker({ ...options, prefix: options.queuePrefix, connection, devices, log });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log('stopping: waiting for running jobs');
  await worker.close();
  await connection.quit().catch(() => undefined);
  return 0;
}

/** `pipeline cancel`: removes the sweep's queued jobs and tells workers to stop its running ones. */
export async function cancelCommand(arg: string, options: SweepCommandOptions & QueueFlags): Promise<number> {
  const url = requireQueue(options);
  const { plan } = await openSweep(arg, options);
  const connection = await connectRedis(url);
  const queues = {
    cpu: new Queue<QueueJobData>('cpu', { connection, prefix: options.queuePrefix }),
    gpu: new Queue<QueueJobData>('gpu', { connection, prefix: options.queuePrefix }),
  };
  let removed = 0;
  let stopped = 0;
  try {
    for (const node of plan.nodes) {
      const jobId = jobIdFor(node.cacheKey, false);
      const queue = queues[queueFor(node)];
      // Marked even when not queued yet, so the orchestrator will not queue it later.
      await connection.set(cancelledKey(options.queuePrefix, jobId), '1', 'EX', 24 * 3600);
      const state = await queue.getJobState(jobId);
      if (state === 'unknown' || state === 'completed' || state === 'failed') continue;
      if (state === 'active') {
        await connection.publish(cancelChannel(options.queuePrefix), jobId);
        stopped += 1;
      } else {
        await queue.remove(jobId);
        removed += 1;
      }
    }
  } finally {
    await Promise.all([queues.cpu.close(), queues.gpu.close()]);
    await connection.quit().catch(() => undefined);
  }
  process.stdout.write(
    `${plan.trials.length} trials: ${removed} queued jobs removed, ${stopped} running jobs told to stop\n`,
  );
  return 0;
}

function requireQueue(options: QueueFlags): string {
  const url = options.queue ?? process.env.REDIS_URL;
  if (!url) throw new PipelineError('USAGE', 'no queue: pass --queue redis://host:port or set REDIS_URL');
  return url;
}
