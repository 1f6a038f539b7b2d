import type { Executor } from '../orchestrator/executor.js';
import { createLocalExecutor } from '../orchestrator/local-executor.js';
import { createRedisExecutor } from '../orchestrator/redis-executor.js';
import { checkEvictionPolicy, connectRedis } from '../queue/redis-connection.js';

export interface QueueFlags {
  /** Redis URL; REDIS_URL when not given. Without either, nodes run locally. */
  queue?: string;
  queuePrefix: string;
}

/** An executor and how to release it: the local pool, or BullMQ queues on Redis. */
export interface OpenExecutor {
  executor: Executor;
  where: string;
  close(): Promise<void>;
}

/** Picks the executor the flags ask for, connecting to Redis (and warning about its eviction policy) if needed. */
export async function openExecutor(flags: QueueFlags, warn: (line: string) => void): Promise<OpenExecutor> {
  const url = flags.queue ?? process.env.REDIS_URL;
  if (!url) return { executor: createLocalExecutor(), where: 'local', close: () => Promise.resolve() };
  const connection = await connectRedis(url);
  const warning = await checkEvictionPolicy(connection);
  if (warning) warn(warning);
  return {
    executor: createRedisExecutor({ connection, prefix: flags.queuePrefix }),
    where: `queue ${url}`,
    close: async () => void (await connection.quit().catch(() => undefined)),
  };
}
