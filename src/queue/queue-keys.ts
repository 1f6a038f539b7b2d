import type { Redis } from 'ioredis';

/**
 * Redis keys the tool keeps beside BullMQ's, all under `<prefix>:pipeline:` so one prefix is one deployment.
 * None of them outlives its purpose: heartbeats and registrations expire, stop and cancel requests are deleted by
 * whoever acts on them and expire within a minute otherwise.
 */
const base = (prefix: string) => `${prefix}:pipeline`;

/** Pub/sub channel telling workers to stop a running job (the message is its job id). */
export function cancelChannel(prefix: string): string {
  return `${base(prefix)}:cancel`;
}

/** A request to stop one job instance (value: the job's creation timestamp), for a worker that takes it late. */
export function stopKey(prefix: string, jobId: string): string {
  return `${base(prefix)}:stop:${jobId}`;
}

/** BullMQ's lock of a job (value: the token of the worker holding it), to check a worker still owns its job. */
export function jobLockKey(prefix: string, queue: string, jobId: string): string {
  return `${prefix}:${queue}:${jobId}:lock`;
}

/** Set of the ids of workers that announced themselves on this prefix. */
export function workersKey(prefix: string): string {
  return `${base(prefix)}:workers`;
}

/** A worker's heartbeat: its description as JSON, expiring unless renewed. */
export function workerKey(prefix: string, workerId: string): string {
  return `${base(prefix)}:worker:${workerId}`;
}

/** Matches {@link workersKey} of every prefix, to find workers on a prefix other than the run's. */
export const WORKERS_KEY_PATTERN = '*:pipeline:workers';

/** The prefix a key matched by {@link WORKERS_KEY_PATTERN} belongs to. */
export function prefixOfWorkersKey(key: string): string {
  return key.slice(0, -':pipeline:workers'.length);
}

/** Set of the ids of sweep runs registered on this prefix. */
export function sweepsKey(prefix: string): string {
  return `${base(prefix)}:sweeps`;
}

/** A sweep run's registration: sweep file, overrides and job ids, as JSON. */
export function sweepKey(prefix: string, sweepId: string): string {
  return `${base(prefix)}:sweep:${sweepId}`;
}

/** A request to cancel a sweep run (value: when it was made, ms since the epoch). */
export function sweepCancelKey(prefix: string, sweepId: string): string {
  return `${base(prefix)}:sweep-cancel:${sweepId}`;
}

/**
 * The values of the keys a set names (`keyOf(member)`), for registries kept as a set of ids plus one expiring key
 * per id; members whose key expired are removed from the set.
 */
export async function readRegistered(
  connection: Redis,
  setKey: string,
  keyOf: (member: string) => string,
): Promise<string[]> {
  const members = await connection.smembers(setKey);
  if (members.length === 0) return [];
  const values = await connection.mget(members.map(keyOf));
  const gone = members.filter((_, index) => values[index] === null);
  if (gone.length > 0) await connection.srem(setKey, ...gone);
  return values.filter((value): value is string => value !== null);
}
