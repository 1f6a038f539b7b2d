import type { Redis } from 'ioredis';
import { prefixOfWorkersKey, readRegistered, workerKey, workersKey, WORKERS_KEY_PATTERN } from './queue-keys.js';
import type { QueueName } from './queue-protocol.js';

/** How often a worker renews its heartbeat; it counts as gone three periods after its last one. */
export const HEARTBEAT_MS = 2000;
const HEARTBEAT_TTL_MS = 3 * HEARTBEAT_MS;

/** A job a worker is running, as its heartbeat lists it. */
export interface RunningJob {
  jobId: string;
  nodeId: string;
  queue: QueueName;
  /** When it started, ms since the epoch. */
  since: number;
}

/** What a live worker announces about itself every {@link HEARTBEAT_MS}. */
export interface WorkerInfo {
  /** `host:pid`, unique while it runs. */
  id: string;
  host: string;
  pid: number;
  /** `cpu`, or `gpu:0`, `gpu:1`, … */
  devices: string[];
  queues: QueueName[];
  /** The queue protocol it speaks and its stage code versions, to refuse jobs it would build wrongly. */
  protocol: number;
  stageVersions: Record<string, string>;
  /** Its workspace folder (as it sees it) and that workspace's id, if the folder has one. */
  workspace: string;
  workspaceId?: string;
  running: RunningJob[];
  startedAt: number;
}

/** A heartbeat being renewed; `beatNow` announces a change at once, `stop` withdraws the worker at once. */
export interface Heartbeat {
  beatNow(): void;
  stop(): Promise<void>;
}

/**
 * Announces a worker on a prefix: a key holding its description, expiring unless renewed, plus its id in the
 * prefix's worker set. Expiring keys need no clock agreement between machines, and a Redis that lost its data (a
 * restart without persistence, a failover) learns of every worker again at its next beat.
 */
export function startHeartbeat(
  connection: Redis,
  prefix: string,
  describe: () => Promise<WorkerInfo>,
  onError: (error: unknown) => void,
): Heartbeat {
  let id: string | undefined;
  const beat = async () => {
    const info = await describe();
    id = info.id;
    await connection
      .multi()
      .set(workerKey(prefix, info.id), JSON.stringify(info), 'PX', HEARTBEAT_TTL_MS)
      .sadd(workersKey(prefix), info.id)
      .exec();
  };
  let pending = beat().catch(onError);
  const timer = setInterval(() => {
    pending = pending.then(() => beat().catch(onError));
  }, HEARTBEAT_MS);
  let stopped = false;
  return {
    beatNow() {
      if (!stopped) pending = pending.then(() => beat().catch(onError));
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await pending;
      if (id) await connection.multi().del(workerKey(prefix, id)).srem(workersKey(prefix), id).exec();
    },
  };
}

/** The live workers of a prefix; ids whose heartbeat expired are dropped from the set. */
export async function listWorkers(connection: Redis, prefix: string): Promise<WorkerInfo[]> {
  const values = await readRegistered(connection, workersKey(prefix), (id) => workerKey(prefix, id));
  return values.map((value) => JSON.parse(value) as WorkerInfo);
}

/** Prefixes other than `prefix` that have live workers: a hint when a run's prefix has none. */
export async function otherPrefixesWithWorkers(connection: Redis, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await connection.scan(cursor, 'MATCH', WORKERS_KEY_PATTERN, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const other = prefixOfWorkersKey(key);
      if (other !== prefix && (await listWorkers(connection, other)).length > 0) found.push(other);
    }
  } while (cursor !== '0');
  return found.sort();
}

/** What a run's jobs on one queue need from a worker: its protocol, stage versions, and (shared disk) workspace. */
export interface WorkerDemand {
  queue: QueueName;
  /** Versions of the stages of the run's jobs waiting on the queue. */
  stageVersions: Record<string, string>;
  protocol: number;
  /** With a shared workspace: its id. */
  workspaceId?: string;
}

/** Why `worker` cannot take these jobs, in a few words, or undefined when it can. */
export function whyIncompatible(worker: WorkerInfo, demand: WorkerDemand): string | undefined {
  if (worker.protocol !== demand.protocol) {
    return `speaks queue protocol ${worker.protocol} (this run: ${demand.protocol}); run the same pipeline version`;
  }
  const stale = Object.entries(demand.stageVersions).filter(([kind, v]) => worker.stageVersions[kind] !== v);
  if (stale.length > 0) {
    const list = stale.map(([kind, v]) => `${kind} ${worker.stageVersions[kind] ?? 'none'} (this run: ${v})`);
    return `has stage versions ${list.join(', ')}; update it to this run's pipeline version`;
  }
  if (demand.workspaceId !== undefined && worker.workspaceId !== demand.workspaceId) {
    return `works in another workspace (${worker.workspace}); give it the run's shared folder with --workspace, or run with --node-store`;
  }
  return undefined;
}
