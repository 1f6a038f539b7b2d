import { realpathSync } from 'node:fs';
import os from 'node:os';
import type { Redis } from 'ioredis';
import {
  clearSweepCancel,
  readSweepCancel,
  registerSweepRun,
  RENEW_MS,
  sweepRunId,
  unregisterSweepRun,
  type SweepIdentity,
  type SweepRun,
} from '../queue/sweep-registry.js';

const CHECK_MS = 1000;

/** A run's registration on the queue while it executes. */
export interface SweepSession {
  readonly run: SweepRun;
  /** Adds a job id (a rerun's fresh one) to the registration. */
  addJob(jobId: string): Promise<void>;
  /** Whether `pipeline cancel` asked this run to stop (read from Redis now). */
  cancelRequested(): Promise<boolean>;
  /** Withdraws the registration and any cancel request aimed at it. */
  close(): Promise<void>;
}

/**
 * Registers a run under its sweep identity (sweep file + `--set` overrides) with every job id it may queue, so
 * `pipeline cancel <sweep>` finds it without being given the same flags, and leaves alone the nodes other runs
 * need. Watches for a cancel request and calls `onCancel` once; renews the registration while the run goes on
 * (after Redis lost its data too).
 */
export async function openSweepSession(
  connection: Redis,
  prefix: string,
  identity: SweepIdentity,
  jobIds: string[],
  onCancel: () => void,
): Promise<SweepSession> {
  const file = realpathSync(identity.file);
  const startedAt = Date.now();
  const run: SweepRun = {
    id: sweepRunId({ file, overrides: identity.overrides }),
    file,
    overrides: identity.overrides,
    jobIds: [...new Set(jobIds)],
    host: os.hostname(),
    pid: process.pid,
    startedAt,
    aliveAt: startedAt,
  };
  const renew = () => registerSweepRun(connection, prefix, { ...run, aliveAt: Date.now() });
  await renew();
  const cancelRequested = async () => {
    const at = await readSweepCancel(connection, prefix, run.id);
    // A request older than this run was meant for an earlier run of the same sweep.
    return at !== undefined && at >= startedAt;
  };
  let cancelled = false;
  let lastRenew = Date.now();
  const timer = setInterval(() => {
    void (async () => {
      if (!cancelled && (await cancelRequested())) {
        cancelled = true;
        await clearSweepCancel(connection, prefix, run.id);
        onCancel();
      }
      if (!cancelled && Date.now() - lastRenew >= RENEW_MS) {
        lastRenew = Date.now();
        await renew();
      }
    })().catch(() => undefined); // Redis briefly away: the next tick tries again
  }, CHECK_MS);
  return {
    run,
    async addJob(jobId) {
      if (run.jobIds.includes(jobId)) return;
      run.jobIds.push(jobId);
      await renew();
    },
    cancelRequested,
    async close() {
      clearInterval(timer);
      await unregisterSweepRun(connection, prefix, run.id);
      if (await cancelRequested()) await clearSweepCancel(connection, prefix, run.id);
    },
  };
}
