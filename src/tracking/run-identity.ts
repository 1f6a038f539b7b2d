import type { Plan, Trial } from '../types.js';
import { describeTrial } from '../util/describe-trial.js';
import { sha256 } from '../util/hash.js';
import { sanitizeKey } from './run-entries.js';

/**
 * A sweep's parent run id in the journal: the sweep's name and a hash of the workspace's identity, the experiment
 * and every node's cache key. The same sweep in the same workspace is the same run (a cached run adds nothing, a
 * resumed one continues it); another workspace, even with identical results, makes its own runs. A journal from
 * before workspace identities (`workspace` undefined) keeps the ids it had.
 */
export function sweepRunId(
  sweepName: string,
  experiment: string,
  cacheKeys: readonly string[],
  workspace: string | undefined,
): string {
  const keys = [...cacheKeys].sort();
  const parts = workspace === undefined ? [experiment, ...keys] : [`workspace ${workspace}`, experiment, ...keys];
  return `${sanitizeKey(sweepName)}@${sha256(parts.join('\n')).slice(0, 12)}`;
}

/** A trial's run id: `<parent>/<trial>`, and `#<attempt>` from the second attempt on. */
export function trialRunId(parentId: string, trialId: string, attempt: number): string {
  return `${parentId}/${trialId}${attempt === 1 ? '' : `#${attempt}`}`;
}

/** The attempt a trial run id names (1 without `#`). */
export function attemptOf(runId: string): number {
  return Number(runId.split('#')[1] ?? '1');
}

/** The latest attempt among journaled run ids of one trial, or undefined. */
export function latestAttempt(runIds: Iterable<string>, parentId: string, trialId: string): string | undefined {
  const base = trialRunId(parentId, trialId, 1);
  let latest: string | undefined;
  for (const id of runIds) {
    if (id.split('#')[0] === base && (latest === undefined || attemptOf(id) >= attemptOf(latest))) latest = id;
  }
  return latest;
}

/** A trial run's name: its grid values (`lr=0.001 optimizer=adam`), with ` #2` from the second attempt on. */
export function trialRunName(trial: Trial | undefined, trialId: string, attempt: number): string {
  const base = (trial && describeTrial(trial)) || trialId;
  return attempt === 1 ? base : `${base} #${attempt}`;
}

/**
 * The journal key of the model a train node saved: one per sweep (workspace included) and node, so attempts of a
 * trial that reuse the same trained model log one LoggedModel, linked to each of their runs.
 */
export function modelKey(parentId: string, cacheKey: string): string {
  return `${parentId}|${cacheKey.slice(0, 16)}`;
}

/** A sweep's runs: its plan and name, the MLflow experiment, the workspace, the tags every run gets, this host. */
export interface SweepIdentity {
  plan: Plan;
  sweepName: string;
  experiment: string;
  /** The workspace's identity (part of every run id); undefined for a journal from before identities. */
  workspace: string | undefined;
  /** MLflow's system tags (user, source, git), on every run. */
  systemTags: Record<string, string>;
  /** Tags of the parent run beyond them (e.g. `pipeline.objective`). */
  parentTags: Record<string, string>;
  /** What the parent's `pipeline.json` says about the sweep's files and grid. */
  sweepFacts: Record<string, unknown>;
  host: string;
}

/** Files of one folder logged on the parent run under `report/` (the sweep's HTML report). */
export interface ReportFiles {
  root: string;
  files: string[];
}
