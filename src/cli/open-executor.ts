import type { Executor } from '../orchestrator/executor.js';
import { createLocalExecutor } from '../orchestrator/local-executor.js';
import { createRedisExecutor } from '../orchestrator/redis-executor.js';
import { ArtifactProxyClient } from '../store/artifact-proxy-client.js';
import { checkEvictionPolicy, connectRedis, redisAddress } from '../queue/redis-connection.js';

export interface QueueFlags {
  /** Redis URL (`--queue`, else `$REDIS_URL`); without one, nodes run locally. */
  queue?: string;
  queuePrefix: string;
}

/** The flags of `run` and `rerun` that shape a queued run. */
export interface QueueRunFlags extends QueueFlags {
  /** `--set` flags: with the sweep file, the run's identity for `pipeline cancel`. */
  set?: string[];
  /** `--node-store`: MLflow server carrying nodes to and from workers without the shared workspace. */
  nodeStore?: string;
  /** `--wait-for-workers`: seconds to wait for a worker on a queue nobody serves; none: keep waiting. */
  waitForWorkers?: number;
}

/** An executor and how to release it: the local pool, or BullMQ queues on Redis. */
export interface OpenExecutor {
  executor: Executor;
  where: string;
  close(): Promise<void>;
}

/** Picks the executor the flags ask for, connecting to Redis (and warning about its eviction policy) if needed. */
export async function openExecutor(flags: QueueRunFlags, warn: (line: string) => void): Promise<OpenExecutor> {
  const url = flags.queue;
  if (!url) return { executor: createLocalExecutor(), where: 'local', close: () => Promise.resolve() };
  // Before anything is queued or written: a node store that cannot serve is one line and exit 4.
  if (flags.nodeStore !== undefined) await new ArtifactProxyClient({ uri: flags.nodeStore }).checkServing();
  const connection = await connectRedis(url);
  const warning = await checkEvictionPolicy(connection);
  if (warning) warn(warning);
  const where = redisAddress(url);
  const executor = createRedisExecutor({
    connection,
    prefix: flags.queuePrefix,
    where,
    overrides: flags.set ?? [],
    warn,
    ...(flags.nodeStore === undefined ? {} : { nodeStore: flags.nodeStore }),
    ...(flags.waitForWorkers === undefined ? {} : { waitForWorkersS: flags.waitForWorkers }),
  });
  return {
    executor,
    where: `queue ${where} (prefix ${flags.queuePrefix}${flags.nodeStore ? `, node store ${flags.nodeStore}` : ''})`,
    close: async () => void (await connection.quit().catch(() => undefined)),
  };
}
