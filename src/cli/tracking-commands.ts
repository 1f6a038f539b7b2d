import type { Command } from '@commander-js/extra-typings';
import { PipelineError } from '../errors.js';
import { isModelName, MODEL_CATALOG } from '../ml/models/model-catalog.js';
import { WorkspaceStore } from '../store/workspace-store.js';
import {
  openRunTracking,
  readRuns,
  syncRuns,
  tagText,
  type RunTracking,
  type RunView,
  type WorkspaceRuns,
} from '../tracking/open-tracking.js';
import type { ExecutionEvents } from '../types.js';
import { jsonOption, trackingUriOption, withSweepFlags, workspaceOption, type Finish } from './cli-flags.js';
import { formatColumns } from './format-table.js';
import type { OpenSweep } from './open-sweep.js';

/** Flags of `pipeline run` / `rerun` that concern tracking. */
export interface TrackingOptions {
  /** MLflow server URL (`--tracking-uri`, else $MLFLOW_TRACKING_URI; none: journal only). */
  trackingUri?: string;
  /** MLflow experiment name (default: the pipeline's name). */
  experiment?: string;
  /** Register the best trial's model under this name once the sweep ends. */
  register?: string;
}

const write = (line: string) => process.stderr.write(`${line}\n`);

/** Tracking for `pipeline run` / `rerun`: the journal always, MLflow with --tracking-uri or $MLFLOW_TRACKING_URI. */
export function startTracking({ sweep, plan, store }: OpenSweep, options: TrackingOptions): RunTracking {
  return openRunTracking({
    sweep,
    plan,
    store,
    trackingUri: options.trackingUri,
    experiment: options.experiment,
    register: options.register,
    preprocessOf,
    command: `pipeline run ${sweep.file}`,
    warn: write,
  });
}

/** How a model family scales pixels, from the model catalogue (the models' Python flavour applies it). */
export function preprocessOf(family: string): string | undefined {
  return isModelName(family) ? MODEL_CATALOG[family].preprocess : undefined;
}

/** `pipeline runs`, `show`, `sync` and `register`: the journal in the workspace, and sending it to MLflow. */
export function registerTrackingCommands(program: Command, finish: Finish): void {
  program
    .command('runs')
    .description('list the runs journaled in the workspace, and which reached MLflow')
    .addOption(workspaceOption)
    .addOption(jsonOption)
    .action((options) => finish(runsCommand(options)));
  program
    .command('show')
    .argument('<run>')
    .description('one journaled run (trial id, journal id or MLflow run id): params, metrics, tags, artifacts')
    .addOption(workspaceOption)
    .addOption(jsonOption)
    .action((run, options) => finish(showCommand(run, options)));
  program
    .command('sync')
    .description('send journaled runs that MLflow does not have yet (after the server was down)')
    .addOption(trackingUriOption)
    .addOption(workspaceOption)
    .action((options) => finish(syncCommand(options)));
  withSweepFlags(program.command('register').argument('<sweep>').argument('<name>'))
    .description("register a trial's logged model in the MLflow Model Registry (a new version of <name>)")
    .option('--trial <id>', "trial id, or 'best'", 'best')
    .addOption(trackingUriOption)
    .option('--experiment <name>', 'MLflow experiment the sweep was tracked in (default: the pipeline name)')
    .action((sweep, name, options) =>
      finish(import('./register-command.js').then(({ registerCommand }) => registerCommand(sweep, name, options))),
    );
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
  const uri = options.trackingUri;
  if (!uri) throw new PipelineError('USAGE', 'sync needs --tracking-uri URL (or MLFLOW_TRACKING_URI)');
  const started = Date.now();
  const { uri: sent, report } = await syncRuns(new WorkspaceStore(options.workspace), uri);
  if (report.droppedBytes > 0) {
    write(`sync: dropped an incomplete last journal line (${report.droppedBytes} bytes, written during a crash)`);
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  write(`sync: ${report.sent} records sent, ${report.runsCreated} runs created in ${sent} (${seconds} s)`);
  const first = report.rejected[0];
  if (first) {
    throw new PipelineError(
      'TRACKING_REJECTED',
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
export function runsCommand(options: RunsOptions): Promise<number> {
  const { runs, synced } = readRuns(new WorkspaceStore(options.workspace));
  if (options.json) {
    const list = [...runs.values()].map((run) => ({ ...summarize(run), mlflow: synced(run.id) }));
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return Promise.resolve(0);
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
  return Promise.resolve(0);
}

/** `pipeline show <run>`: one run's params, metrics (last value, steps), tags, data sets, models and artifacts. */
export function showCommand(target: string, options: RunsOptions): Promise<number> {
  const { runs, synced } = readRuns(new WorkspaceStore(options.workspace));
  const run = findRun([...runs.values()], target, synced);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...summarize(run), mlflow: synced(run.id) }, null, 2)}\n`);
    return Promise.resolve(0);
  }
  const lines = [`${run.name}  [${run.id}]  ${run.status}`, `experiment ${run.experiment}`];
  for (const entry of synced(run.id)) lines.push(`mlflow ${entry.uri} run ${entry.runId}`);
  lines.push('params:', ...Object.entries(run.params).map(([k, v]) => `  ${k} = ${v}`));
  lines.push('metrics (last value, steps):');
  for (const [key, points] of Object.entries(run.metrics)) {
    lines.push(`  ${key} = ${String(points.at(-1)?.value)}  (${points.map((p) => p.step).join(',')})`);
  }
  lines.push('tags:', ...Object.entries(run.tags).map(([k, v]) => `  ${k} = ${tagText(v)}`));
  lines.push('data sets:', ...run.inputs.map((input) => `  ${input.context}: ${input.name} (${input.digest})`));
  lines.push('models:', ...[...run.models.values()].map((model) => `  ${model.name} (${model.files.length} files)`));
  lines.push('artifacts:', ...run.files.map((file) => `  ${file}`));
  process.stdout.write(`${lines.join('\n')}\n`);
  return Promise.resolve(0);
}

// A run is named by its journal id, its MLflow id, or a trial id (the latest attempt of the latest sweep).
function findRun(runs: RunView[], target: string, synced: WorkspaceRuns['synced']): RunView {
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
    datasets: run.inputs.map(({ name, digest, context }) => ({ name, digest, context })),
    models: [...run.models.values()].map(({ key, name, files }) => ({ key, name, files })),
    artifacts: run.files,
  };
}
