import type { ExecutionEvents } from '../orchestrator/executor.js';
import type { TrialRow } from '../orchestrator/trial-results.js';
import { PipelineError } from '../errors.js';
import { WorkspaceStore } from '../store/workspace-store.js';
import { journalPath, readJournal } from '../tracking/journal.js';
import { foldJournal, tagText, type RunView } from '../tracking/journal-view.js';
import { createLiveSync } from '../tracking/live-sync.js';
import { MlflowClient } from '../tracking/mlflow-client.js';
import { parentTags } from '../tracking/parent-tags.js';
import { listSinkStates } from '../tracking/sink-state.js';
import { createSweepTracker } from '../tracking/sweep-tracker.js';
import { syncJournal } from '../tracking/sync-journal.js';
import { formatColumns } from './format-table.js';
import type { OpenSweep } from './open-sweep.js';

/** Flags of `pipeline run` / `rerun` that concern tracking. */
export interface TrackingOptions {
  /** MLflow server URL (default: $MLFLOW_TRACKING_URI; none: journal only). */
  trackingUri?: string;
  /** MLflow experiment name (default: the pipeline's name). */
  experiment?: string;
}

/** A sweep's tracking while it runs: events for the executor, and `finish` once the results are known. */
export interface RunTracking {
  events: ExecutionEvents;
  finish(rows: readonly TrialRow[]): Promise<void>;
}

const write = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Journals the sweep in the workspace (always) and, with a tracking URI, sends it to MLflow in the background.
 * A bad URI is a usage error before anything runs; a server that is down only prints a warning.
 */
export function startTracking({ sweep, plan, store }: OpenSweep, options: TrackingOptions): RunTracking {
  const uri = options.trackingUri ?? process.env.MLFLOW_TRACKING_URI;
  const client = uri ? new MlflowClient({ uri, retries: 2, backoffMs: 200 }) : undefined;
  const live = client && createLiveSync({ workspaceRoot: store.root, client, warn: write });
  const tracker = createSweepTracker({
    plan,
    store,
    sweepName: sweep.name,
    experiment: options.experiment ?? sweep.pipeline.name,
    parentTags: parentTags(sweep, `pipeline run ${sweep.file}`),
    ...(live ? { onJournaled: () => live.schedule() } : {}),
  });
  live?.schedule();
  return {
    events: tracker,
    async finish(rows) {
      tracker.finish(rows);
      if (!live || !client) return;
      const { unsent } = await live.close();
      if (unsent > 0) {
        write(
          `tracking: ${unsent} journal records not in MLflow yet; send them with: pipeline sync --tracking-uri ${client.uri} --workspace ${store.root}`,
        );
      }
    },
  };
}

/** Calls every listener's handler in turn: the progress display and the tracker both see each event. */
export function composeEvents(...listeners: ExecutionEvents[]): ExecutionEvents {
  return {
    nodeStarted: (node) => listeners.forEach((l) => l.nodeStarted?.(node)),
    nodeProgress: (node, update) => listeners.forEach((l) => l.nodeProgress?.(node, update)),
    nodeLog: (node, message) => listeners.forEach((l) => l.nodeLog?.(node, message)),
    nodeFinished: (node, outcome) => listeners.forEach((l) => l.nodeFinished?.(node, outcome)),
  };
}

export interface SyncOptions {
  workspace: string;
  trackingUri?: string;
}

/** `pipeline sync`: sends the journal's records that this MLflow server does not have yet. */
export async function syncCommand(options: SyncOptions): Promise<number> {
  const uri = options.trackingUri ?? process.env.MLFLOW_TRACKING_URI;
  if (!uri) throw new PipelineError('USAGE', 'sync needs --tracking-uri URL (or MLFLOW_TRACKING_URI)');
  const client = new MlflowClient({ uri });
  const store = new WorkspaceStore(options.workspace);
  const started = Date.now();
  const report = await syncJournal({ workspaceRoot: store.root, client });
  if (report.droppedBytes > 0) {
    write(`sync: dropped an incomplete last journal line (${report.droppedBytes} bytes, written during a crash)`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  write(`sync: ${report.sent} records sent, ${report.runsCreated} runs created in ${client.uri} (${seconds} s)`);
  const first = report.rejected[0];
  if (first) {
    throw new PipelineError(
      'TRACKING_UNAVAILABLE',
      `${report.rejected.length} journal record(s) refused, kept for the next sync; first (record ${first.index + 1}): ${first.error}`,
    );
  }
  return 0;
}

export interface RunsOptions {
  workspace: string;
  json?: boolean;
}

/** `pipeline runs`: the journaled runs, newest sweep last, with where each was sent. */
export async function runsCommand(options: RunsOptions): Promise<number> {
  const { runs, synced } = await loadRuns(options.workspace);
  if (options.json) {
    const list = [...runs.values()].map((run) => ({ ...summarize(run), mlflow: synced(run.id) }));
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return 0;
  }
  const rows = [['run', 'name', 'status', 'metrics', 'artifacts', 'mlflow']];
  for (const run of runs.values()) {
    const id = run.parent ? `  ${run.id.slice(run.id.lastIndexOf('/') + 1)}` : run.id;
    const mlflow =
      synced(run.id)
        .map((entry) => entry.runId.slice(0, 12))
        .join(' ') || '-';
    rows.push([id, run.name, run.status, String(Object.keys(run.metrics).length), String(run.files.length), mlflow]);
  }
  process.stdout.write(`${runs.size === 0 ? 'no runs journaled in this workspace' : formatColumns(rows)}\n`);
  return 0;
}

/** `pipeline show <run>`: one run's params, metrics (last value, steps), tags and artifacts. */
export async function showCommand(target: string, options: RunsOptions): Promise<number> {
  const { runs, synced } = await loadRuns(options.workspace);
  const run = findRun([...runs.values()], target, synced);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...summarize(run), mlflow: synced(run.id) }, null, 2)}\n`);
    return 0;
  }
  const lines = [`${run.name}  [${run.id}]  ${run.status}`, `experiment ${run.experiment}`];
  for (const entry of synced(run.id)) lines.push(`mlflow ${entry.uri} run ${entry.runId}`);
  lines.push('params:', ...Object.entries(run.params).map(([k, v]) => `  ${k} = ${v}`));
  lines.push('metrics (last value, steps):');
  for (const [key, points] of Object.entries(run.metrics)) {
    lines.push(`  ${key} = ${String(points.at(-1)?.value)}  (${points.map((p) => p.step).join(',')})`);
  }
  lines.push('tags:', ...Object.entries(run.tags).map(([k, v]) => `  ${k} = ${tagText(v)}`));
  lines.push('artifacts:', ...run.files.map((file) => `  ${file}`));
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

type Synced = (id: string) => { uri: string; runId: string }[];

async function loadRuns(workspace: string): Promise<{ runs: Map<string, RunView>; synced: Synced }> {
  const root = new WorkspaceStore(workspace).root;
  const runs = foldJournal(readJournal(journalPath(root)).records);
  const sinks = listSinkStates(root);
  const synced: Synced = (id) =>
    sinks.flatMap((sink) => (sink.runs[id] ? [{ uri: sink.uri, runId: sink.runs[id].runId }] : []));
  return Promise.resolve({ runs, synced });
}

// A run is named by its journal id, its MLflow id, or a trial id (the latest attempt of the latest sweep).
function findRun(runs: RunView[], target: string, synced: Synced): RunView {
  const exact = runs.find((run) => run.id === target || synced(run.id).some((entry) => entry.runId === target));
  const byTrial = runs.filter((run) => run.tags['pipeline.trial'] === target).at(-1);
  const byName = runs.filter((run) => run.name === target).at(-1);
  const found = exact ?? byTrial ?? byName;
  if (!found) throw new PipelineError('NOT_FOUND', `no journaled run '${target}'; \`pipeline runs\` lists them`);
  return found;
}

function summarize(run: RunView) {
  return {
    id: run.id,
    name: run.name,
    experiment: run.experiment,
    parent: run.parent ?? null,
    status: run.status,
    params: run.params,
    metrics: Object.fromEntries(Object.entries(run.metrics).map(([key, points]) => [key, points])),
    tags: Object.fromEntries(Object.entries(run.tags).map(([key, value]) => [key, tagText(value)])),
    artifacts: run.files,
  };
}
