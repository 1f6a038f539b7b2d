import type { Redis } from 'ioredis';
import { canonicalJson, sha256 } from '../util/hash.js';
import { readRegistered, sweepCancelKey, sweepKey, sweepsKey } from './queue-keys.js';

/** How often a running orchestrator renews its registration. */
export const RENEW_MS = 5000;

/** Whether a run's orchestrator renewed its registration lately (else it was killed, or detached). */
export function isRunLive(run: SweepRun, now = Date.now()): boolean {
  return now - run.aliveAt < 3 * RENEW_MS;
}

/** A registration is dropped this long after its orchestrator last renewed it (a run killed and never resumed). */
const REGISTRATION_TTL_S = 7 * 24 * 3600;
/** A cancel request no orchestrator acted on (none was running) expires after this long. */
const CANCEL_TTL_S = 60;

/** Which sweep a run is: its sweep file and the `--set` overrides it was started with. */
export interface SweepIdentity {
  /** The sweep file's real path. */
  file: string;
  /** `--set` flags as given, in order. */
  overrides: string[];
}

/** A sweep run registered on a queue prefix while its jobs may be queued or running. */
export interface SweepRun extends SweepIdentity {
  id: string;
  /** Every job id the run queues or may queue. */
  jobIds: string[];
  host: string;
  pid: number;
  startedAt: number;
  /** When its orchestrator last renewed the registration (ms since the epoch). */
  aliveAt: number;
}

/** The id of a sweep identity: equal file and overrides (in any order), equal id. */
export function sweepRunId(identity: SweepIdentity): string {
  return sha256(canonicalJson({ file: identity.file, overrides: [...identity.overrides].sort() })).slice(0, 16);
}

/** Registers (or renews) a run, so `pipeline cancel` finds it by its sweep file and knows which jobs are whose. */
export async function registerSweepRun(connection: Redis, prefix: string, run: SweepRun): Promise<void> {
  await connection
    .multi()
    .set(sweepKey(prefix, run.id), JSON.stringify(run), 'EX', REGISTRATION_TTL_S)
    .sadd(sweepsKey(prefix), run.id)
    .exec();
}

/** Drops a run's registration: it finished, or was cancelled. */
export async function unregisterSweepRun(connection: Redis, prefix: string, id: string): Promise<void> {
  await connection.multi().del(sweepKey(prefix, id)).srem(sweepsKey(prefix), id).exec();
}

/** Every registered run of a prefix; ids whose registration expired are dropped from the set. */
export async function listSweepRuns(connection: Redis, prefix: string): Promise<SweepRun[]> {
  const values = await readRegistered(connection, sweepsKey(prefix), (id) => sweepKey(prefix, id));
  return values.map((value) => JSON.parse(value) as SweepRun);
}

/** Asks the orchestrators of a run to stop: they see the request at their next poll and delete it. */
export async function requestSweepCancel(connection: Redis, prefix: string, id: string): Promise<void> {
  await connection.set(sweepCancelKey(prefix, id), String(Date.now()), 'EX', CANCEL_TTL_S);
}

/** When a cancel of this run was requested (ms since the epoch), or undefined. */
export async function readSweepCancel(connection: Redis, prefix: string, id: string): Promise<number | undefined> {
  const value = await connection.get(sweepCancelKey(prefix, id));
  return value === null ? undefined : Number(value);
}

/** Removes a cancel request once it has been acted on. */
export async function clearSweepCancel(connection: Redis, prefix: string, id: string): Promise<void> {
  await connection.del(sweepCancelKey(prefix, id));
}
