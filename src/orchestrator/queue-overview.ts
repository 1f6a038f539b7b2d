import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES, type QueueName } from '../queue/queue-protocol.js';
import { isRunLive, listSweepRuns, type SweepRun } from '../queue/sweep-registry.js';
import { listWorkers, type WorkerInfo } from '../queue/worker-registry.js';

/** Job counts of one queue, by state. */
export type QueueCounts = Record<'waiting' | 'active' | 'delayed' | 'failed' | 'completed', number>;

/** What a queue prefix holds now: jobs per queue, live workers and what they run, registered sweep runs. */
export interface QueueOverview {
  prefix: string;
  queues: Record<QueueName, QueueCounts>;
  workers: WorkerInfo[];
  sweeps: (SweepRun & { live: boolean })[];
}

/** Reads a prefix's queues, worker heartbeats and sweep registrations. */
export async function readQueueOverview(connection: Redis, prefix: string): Promise<QueueOverview> {
  const entries = await Promise.all(
    QUEUE_NAMES.map(async (name) => {
      const queue = new Queue(name, { connection, prefix });
      try {
        const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed');
        const get = (state: string) => counts[state] ?? 0;
        const row: QueueCounts = {
          waiting: get('waiting') + get('prioritized'),
          active: get('active'),
          delayed: get('delayed'),
          failed: get('failed'),
          completed: get('completed'),
        };
        return [name, row] as const;
      } finally {
        await queue.close();
      }
    }),
  );
  const now = Date.now();
  const workers = await listWorkers(connection, prefix);
  const sweeps = (await listSweepRuns(connection, prefix)).map((run) => ({
    ...run,
    live: isRunLive(run, now),
  }));
  return {
    prefix,
    queues: Object.fromEntries(entries) as Record<QueueName, QueueCounts>,
    workers: workers.sort((a, b) => a.id.localeCompare(b.id)),
    sweeps: sweeps.sort((a, b) => a.startedAt - b.startedAt),
  };
}
