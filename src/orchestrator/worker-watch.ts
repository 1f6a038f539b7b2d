import type { Redis } from 'ioredis';
import { QUEUE_NAMES, QUEUE_PROTOCOL, type QueueName } from '../queue/queue-protocol.js';
import {
  listWorkers,
  otherPrefixesWithWorkers,
  whyIncompatible,
  type WorkerDemand,
  type WorkerInfo,
} from '../queue/worker-registry.js';
import { STAGES } from '../stages/catalog.js';
import type { PlanNode } from '../types.js';

const CHECK_MS = 1000;
/** Workers starting together with the run get this long to announce themselves before the run says none serves. */
const GRACE_MS = 2000;
/** While nothing serves a queue, its waiting nodes' status is refreshed this often. */
const STATUS_MS = 5000;

export interface WorkerWatchOptions {
  connection: Redis;
  prefix: string;
  /** `redis://host:port` without credentials, for the hint on how to start a worker. */
  where: string;
  /** With a shared workspace: its id, which workers must have. */
  workspaceId?: string;
  /** Give up on a queue nobody serves after this many seconds; undefined: wait as long as it takes. */
  waitForWorkersS?: number;
  warn(line: string): void;
  /** A waiting node's status (shown in the progress display). */
  status(node: PlanNode, message: string): void;
  /** Gives up on the nodes waiting on a queue that no worker served for `waitForWorkersS`. */
  giveUp(queue: QueueName, message: string): void;
}

/** The run's unfinished jobs, by queue; the watch reads it, the executor keeps it. */
export type PendingJobs = Map<string, { node: PlanNode; queue: QueueName }>;

interface QueueState {
  since?: number;
  told?: string;
  lastStatus?: number;
}

/**
 * Watches the worker heartbeats while the run has jobs on a queue: says within seconds when no live worker serves
 * a queue, or none can take its jobs (another stage version or workspace), keeps the waiting nodes' status fresh,
 * says when a worker turns up, and gives up after `--wait-for-workers` seconds when asked to.
 */
export function startWorkerWatch(pending: PendingJobs, options: WorkerWatchOptions): { stop(): void } {
  const states = new Map<QueueName, QueueState>(QUEUE_NAMES.map((queue) => [queue, {}]));
  const toldWorkers = new Set<string>();
  let busy = false;
  const tick = async () => {
    const workers = await listWorkers(options.connection, options.prefix);
    for (const queue of QUEUE_NAMES) {
      const nodes = [...pending.values()].filter((job) => job.queue === queue).map((job) => job.node);
      await checkQueue(queue, nodes, workers, states.get(queue) ?? {}, options);
      if (nodes.length > 0) tellIncompatible(queue, nodes, workers, toldWorkers, options);
    }
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    tick()
      .catch(() => undefined) // Redis briefly away: the next tick tries again
      .finally(() => (busy = false));
  }, CHECK_MS);
  return { stop: () => clearInterval(timer) };
}

/** Names, once per run, each worker that serves a queue but refuses the run's jobs (others may still take them). */
function tellIncompatible(
  queue: QueueName,
  nodes: PlanNode[],
  workers: WorkerInfo[],
  told: Set<string>,
  options: WorkerWatchOptions,
): void {
  const demand = demandOf(queue, nodes, options);
  for (const worker of workers) {
    const why = worker.queues.includes(queue) ? whyIncompatible(worker, demand) : undefined;
    if (why === undefined || told.has(worker.id)) continue;
    told.add(worker.id);
    options.warn(`warning: worker ${worker.id} refuses this run's jobs: it ${why}`);
  }
}

function demandOf(queue: QueueName, nodes: PlanNode[], options: WorkerWatchOptions): WorkerDemand {
  return {
    queue,
    protocol: QUEUE_PROTOCOL,
    stageVersions: Object.fromEntries(nodes.map((node) => [node.kind, STAGES[node.kind].version])),
    ...(options.workspaceId === undefined ? {} : { workspaceId: options.workspaceId }),
  };
}

async function checkQueue(
  queue: QueueName,
  nodes: PlanNode[],
  workers: WorkerInfo[],
  state: QueueState,
  options: WorkerWatchOptions,
): Promise<void> {
  const now = Date.now();
  const demand = demandOf(queue, nodes, options);
  const serving = workers.filter((worker) => worker.queues.includes(queue));
  const able = serving.filter((worker) => whyIncompatible(worker, demand) === undefined);
  if (nodes.length === 0 || able.length > 0) {
    if (state.told && able.length > 0)
      options.warn(`queue ${queue}: served now by ${able.map((w) => w.id).join(', ')}`);
    Object.assign(state, { since: undefined, told: undefined, lastStatus: undefined });
    return;
  }
  state.since ??= now;
  const waited = now - state.since;
  if (waited < GRACE_MS) return;
  const problem = await describeProblem(queue, serving, demand, options);
  if (state.told !== problem) {
    options.warn(
      `${problem}; waiting${options.waitForWorkersS === undefined ? '' : ` up to ${options.waitForWorkersS} s (--wait-for-workers)`}`,
    );
    state.told = problem;
  }
  if (state.lastStatus === undefined || now - state.lastStatus >= STATUS_MS) {
    state.lastStatus = now;
    const seconds = Math.round(waited / 1000);
    for (const node of nodes) options.status(node, `waiting ${seconds} s for a worker on queue ${queue}`);
  }
  if (options.waitForWorkersS !== undefined && waited >= options.waitForWorkersS * 1000) {
    options.giveUp(
      queue,
      `${problem}; gave up after ${options.waitForWorkersS} s (--wait-for-workers); its jobs stay queued for a worker to take`,
    );
  }
}

/** "no worker serves queue cpu (prefix p)" with what to do about it, or why the workers serving it cannot help. */
async function describeProblem(
  queue: QueueName,
  serving: WorkerInfo[],
  demand: WorkerDemand,
  options: WorkerWatchOptions,
): Promise<string> {
  const head = `no worker serves queue ${queue} (prefix ${options.prefix})`;
  if (serving.length > 0) {
    const reasons = serving.map((worker) => `worker ${worker.id} ${whyIncompatible(worker, demand) ?? ''}`);
    return `no worker can take queue ${queue}'s jobs (prefix ${options.prefix}): ${reasons.join('; ')}`;
  }
  const others = await otherPrefixesWithWorkers(options.connection, options.prefix);
  if (others.length > 0) {
    return `${head}; workers are live on prefix ${others.join(', ')}: is --queue-prefix right?`;
  }
  const devices = queue === 'gpu' ? '--devices gpu:0 (or cpu)' : '--devices cpu';
  return `${head}; start one: pipeline worker --queue ${options.where} --queue-prefix ${options.prefix} ${devices}`;
}
