import os from 'node:os';
import path from 'node:path';
import { PipelineError } from '../errors.js';
import type { WorkspaceStore } from '../store/workspace-store.js';
import type { ExecutionEvents, Plan, SweepSpec, TrialRow } from '../types.js';
import { BackgroundSync } from './background-sync.js';
import type { RunView, SyncReport } from './journal-records.js';
import { Journal } from './journal.js';
import { MlflowClient } from './mlflow-client.js';
import { MlflowSink } from './mlflow-sink.js';
import { downloadModel, type DownloadedModel } from './model-download.js';
import { sweepFacts, systemTags } from './run-entries.js';
import { hashFile, readSourceFacts } from './source-facts.js';
import type { ReportFiles } from './run-identity.js';
import { createSweepTracker, type SweepTracker } from './sweep-tracker.js';

export { tagText, type RunView, type SyncReport } from './journal-records.js';
export type { DownloadedModel } from './model-download.js';

/** What a sweep's tracking needs: the sweep and its plan, the workspace, where to send runs, where to warn. */
export interface RunTrackingOptions {
  sweep: SweepSpec;
  plan: Plan;
  store: WorkspaceStore;
  /** MLflow server URL (none: the runs are only journaled). */
  trackingUri?: string | undefined;
  /** MLflow experiment (default: the pipeline's name). */
  experiment?: string | undefined;
  /** Register the best trial's model under this name once the sweep ends (needs `trackingUri`). */
  register?: string | undefined;
  /** How a model family scales pixels (`unit`), for the models' Python flavour. */
  preprocessOf?: (family: string) => string | undefined;
  /** The command line that started the sweep, tagged on its runs. */
  command: string;
  /** Prints one line to the user (stderr). */
  warn: (line: string) => void;
}

/** A sweep's tracking while it runs: events for the executor, and `finish` once the results are known. */
export interface RunTracking {
  events: ExecutionEvents;
  /** Closes the runs; `report` (files in a folder, e.g. the sweep's HTML report) goes to the parent run. */
  finish(rows: readonly TrialRow[], report?: ReportFiles): Promise<void>;
}

/**
 * Journals the sweep in the workspace (always) and, with a tracking URI, sends it to MLflow in the background.
 * A bad URI (or `--register` without one) is a usage error before anything runs; a server that is down only prints
 * a warning, and `finish` says how many records are still unsent and how to send them.
 */
export function openRunTracking(options: RunTrackingOptions): RunTracking {
  const { store, warn } = options;
  if (options.register !== undefined && !options.trackingUri) {
    throw new PipelineError(
      'USAGE',
      '--register needs an MLflow server: give --tracking-uri URL (or MLFLOW_TRACKING_URI)',
    );
  }
  const client = options.trackingUri
    ? new MlflowClient({ uri: options.trackingUri, retries: 2, backoffMs: 200 })
    : undefined;
  const sink = client && new MlflowSink(client, store.trackingPaths());
  const background = sink && new BackgroundSync({ send: () => sink.sync(), warn });
  const tracker = sweepTracker(options, background ? () => background.schedule() : undefined);
  background?.schedule();
  return {
    events: tracker,
    async finish(rows, report) {
      tracker.finish(rows, report);
      const registered =
        options.register === undefined ? undefined : registerBest(tracker, rows, options.register, warn);
      if (!background || !sink) return;
      await background.close();
      const unsent = sink.unsent();
      if (registered) reportRegistration(sink, registered, unsent, warn);
      if (unsent > 0) {
        warn(
          `tracking: ${unsent} journal records not in MLflow yet; send them with: pipeline sync --tracking-uri ${sink.uri} --workspace ${store.root}`,
        );
      }
    },
  };
}

function sweepTracker(options: RunTrackingOptions, onJournaled: (() => void) | undefined): SweepTracker {
  const { sweep, plan, store } = options;
  return createSweepTracker({
    plan,
    store,
    sweepName: sweep.name,
    experiment: options.experiment ?? sweep.pipeline.name,
    systemTags: systemTags(readSourceFacts(options.command, path.dirname(sweep.file))),
    parentTags: { 'pipeline.objective': `${sweep.objective.metric} (${sweep.objective.goal})` },
    sweepFacts: sweepFacts(sweep, hashFile(sweep.pipeline.file)),
    host: os.hostname(),
    ...(options.preprocessOf ? { preprocessOf: options.preprocessOf } : {}),
    ...(onJournaled ? { onJournaled } : {}),
  });
}

function registerBest(
  tracker: SweepTracker,
  rows: readonly TrialRow[],
  name: string,
  warn: (line: string) => void,
): { name: string; model: string } | undefined {
  const best = rows.find((row) => row.best);
  const model = best && tracker.register(best.id, name);
  if (!model) warn(`tracking: nothing registered as ${name}: no trial finished with a model`);
  return model ? { name, model } : undefined;
}

function reportRegistration(
  sink: MlflowSink,
  { name, model }: { name: string; model: string },
  unsent: number,
  warn: (line: string) => void,
): void {
  const version = sink.registeredVersion(name, model);
  if (version) warn(`tracking: registered ${name} version ${version} (models:/${name}/${version})`);
  else if (unsent > 0) warn(`tracking: the registration of ${name} is journaled; \`pipeline sync\` sends it`);
}

/** The runs journaled in a workspace, and where each was sent. */
export interface WorkspaceRuns {
  /** Journal run id → run, in the order they were opened. */
  runs: Map<string, RunView>;
  /** The MLflow runs a journal run became, one per server it reached. */
  synced: (id: string) => { uri: string; runId: string }[];
}

/** Reads a workspace's journal and sink states (for `pipeline runs` and `pipeline show`). */
export function readRuns(store: WorkspaceStore): WorkspaceRuns {
  const paths = store.trackingPaths();
  const runs = new Journal(paths.journal).fold();
  const sinks = MlflowSink.list(paths);
  const synced = (id: string) =>
    sinks.flatMap((sink) => (sink.runIds[id] ? [{ uri: sink.uri, runId: sink.runIds[id] }] : []));
  return { runs, synced };
}

/** Sends the journal's records that the MLflow server at `trackingUri` does not have yet (`pipeline sync`). */
export async function syncRuns(
  store: WorkspaceStore,
  trackingUri: string,
): Promise<{ uri: string; report: SyncReport }> {
  const sink = new MlflowSink(new MlflowClient({ uri: trackingUri }), store.trackingPaths());
  return { uri: sink.uri, report: await sink.sync() };
}

/** What registering a trial's model needs (`pipeline register`). */
export interface RegisterTrialOptions extends Pick<RunTrackingOptions, 'sweep' | 'plan' | 'store' | 'experiment'> {
  trackingUri: string;
  trialId: string;
  name: string;
}

/**
 * Registers the model a trial's run logged as a new version of `name` (or finds the version it already is): the
 * registration is journaled, then the journal is sent. Returns the version.
 */
export async function registerTrialModel(options: RegisterTrialOptions): Promise<{ uri: string; version: string }> {
  const client = new MlflowClient({ uri: options.trackingUri });
  const tracker = sweepTracker({ ...options, command: 'pipeline register', warn: () => undefined }, undefined);
  const model = tracker.register(options.trialId, options.name);
  if (!model) {
    throw new PipelineError(
      'NOT_FOUND',
      `trial ${options.trialId} has no model in this workspace's tracking journal; run the sweep (with tracking) first`,
    );
  }
  const sink = new MlflowSink(client, options.store.trackingPaths());
  const report = await sink.sync();
  const version = sink.registeredVersion(options.name, model);
  if (!version) {
    const reason = report.rejected.at(-1)?.error ?? 'the registration was not sent';
    throw new PipelineError('TRACKING_REJECTED', `could not register ${options.name}: ${reason}`);
  }
  return { uri: client.uri, version };
}

/** Downloads a `models:/…` model from the MLflow server at `trackingUri` into `dest` (`predict --model`). */
export function fetchModel(trackingUri: string, uri: string, dest: string): Promise<DownloadedModel> {
  return downloadModel(new MlflowClient({ uri: trackingUri }), uri, dest);
}
