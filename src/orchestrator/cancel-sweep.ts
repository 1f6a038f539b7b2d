import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { PipelineError } from '../errors.js';
import { cancelChannel, stopKey } from '../queue/queue-keys.js';
import { cacheKeyOfJob, QUEUE_NAMES, type QueueJobData } from '../queue/queue-protocol.js';
import {
  isRunLive,
  listSweepRuns,
  requestSweepCancel,
  unregisterSweepRun,
  type SweepRun,
} from '../queue/sweep-registry.js';

/** Longer than an orchestrator takes to notice a cancel request (it looks every second). */
const SECOND_PASS_MS = 1500;

/** Where the sweep's jobs are queued. */
export interface CancelSweepOptions {
  connection: Redis;
  prefix: string;
}

/** Which runs to cancel: every registered run of a sweep file, or only those started with exactly `overrides`. */
export interface CancelTarget {
  /** The sweep file's real path. */
  file: string;
  overrides?: string[];
}

/** What cancelling did. */
export interface CancelReport {
  runs: SweepRun[];
  /** Queued jobs taken off the queue. */
  removed: number;
  /** Running jobs whose workers were told to stop. */
  stopped: number;
  /** Unfinished jobs left alone because another registered sweep needs their nodes. */
  kept: number;
}

/**
 * Cancels the runs of a sweep by its identity, as they registered it when they started (sweep file and `--set`
 * flags): asks their orchestrators to stop (they exit 130), removes their queued jobs and stops their running ones,
 * except jobs of nodes another registered sweep needs. Leaves no marks behind: requests expire within a minute.
 */
export async function cancelSweep(target: CancelTarget, options: CancelSweepOptions): Promise<CancelReport> {
  const { connection, prefix } = options;
  const all = await listSweepRuns(connection, prefix);
  const runs = all.filter((run) => run.file === target.file && sameOverrides(run.overrides, target.overrides));
  if (runs.length === 0) throw nothingToCancel(target, prefix, all);
  // Orchestrators are asked first, so a job that disappears below is read as cancelled, never as lost.
  for (const run of runs) await requestSweepCancel(connection, prefix, run.id);
  const needed = new Set(
    all.filter((run) => !runs.includes(run)).flatMap((run) => run.jobIds.map((jobId) => cacheKeyOfJob(jobId))),
  );
  const queues = QUEUE_NAMES.map((name) => new Queue<QueueJobData>(name, { connection, prefix }));
  const pass = {
    jobIds: new Set(runs.flatMap((run) => run.jobIds)),
    needed,
    stopped: new Set<string>(),
    kept: new Set<string>(),
  };
  let removed = 0;
  try {
    removed += await withdrawJobs(queues, pass, options);
    // A live orchestrator may have queued a job between its last look at the request and the pass above.
    if (runs.some((run) => isRunLive(run))) {
      await new Promise((resolve) => setTimeout(resolve, SECOND_PASS_MS));
      removed += await withdrawJobs(queues, pass, options);
    }
  } finally {
    await Promise.all(queues.map((queue) => queue.close()));
  }
  for (const run of runs) await unregisterSweepRun(connection, prefix, run.id);
  return { runs, removed, stopped: pass.stopped.size, kept: pass.kept.size };
}

interface Pass {
  jobIds: Set<string>;
  /** Cache keys of nodes other registered sweeps need. */
  needed: Set<string>;
  stopped: Set<string>;
  kept: Set<string>;
}

/** One look at the runs' jobs: removes queued ones, stops running ones, keeps those other sweeps need. */
async function withdrawJobs(queues: Queue<QueueJobData>[], pass: Pass, options: CancelSweepOptions): Promise<number> {
  let removed = 0;
  for (const jobId of pass.jobIds) {
    for (const queue of queues) {
      const job = await queue.getJob(jobId);
      const state = job ? await job.getState() : 'unknown';
      if (!job || state === 'completed' || state === 'failed' || state === 'unknown') continue;
      if (pass.needed.has(cacheKeyOfJob(jobId))) pass.kept.add(jobId);
      else if (
        state !== 'active' &&
        (await job.remove().then(
          () => true,
          () => false,
        ))
      )
        removed += 1;
      else if (!pass.stopped.has(jobId)) {
        await stopJob(job, options);
        pass.stopped.add(jobId);
      }
    }
  }
  return removed;
}

/** Tells workers to stop a running job, and leaves a short-lived request for a worker that is only starting it. */
async function stopJob(job: Job<QueueJobData>, { connection, prefix }: CancelSweepOptions): Promise<void> {
  const jobId = job.id ?? '';
  await connection.set(stopKey(prefix, jobId), String(job.timestamp), 'EX', 60);
  await connection.publish(cancelChannel(prefix), jobId);
}

function sameOverrides(recorded: string[], wanted: string[] | undefined): boolean {
  if (wanted === undefined) return true;
  return JSON.stringify([...recorded].sort()) === JSON.stringify([...wanted].sort());
}

function nothingToCancel(target: CancelTarget, prefix: string, all: SweepRun[]): PipelineError {
  const flags = target.overrides === undefined ? '' : ` with --set ${target.overrides.join(' --set ') || '(none)'}`;
  const registered = all.map((run) => [run.file, ...run.overrides.map((o) => `--set ${o}`)].join(' '));
  const listing = registered.length > 0 ? `; registered: ${registered.join(', ')}` : '';
  return new PipelineError(
    'NOT_FOUND',
    `nothing to cancel: no run of ${target.file}${flags} is registered on queue prefix ${prefix}${listing}`,
  );
}
