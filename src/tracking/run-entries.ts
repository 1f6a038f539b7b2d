import type { NodeOutcome, PlanNode, StageKind, SweepSpec, TrialRow } from '../types.js';
import { toMetricValue, type LogRecord, type MetricPoint, type RunView } from './journal-records.js';

/** Where and by whom a sweep was started, as the caller found out (git facts only in a git checkout). */
export interface SourceFacts {
  command: string;
  user: string;
  gitCommit?: string | undefined;
  gitBranch?: string | undefined;
  /** The checkout's `origin` URL, without any credentials it held. */
  gitRepoUrl?: string | undefined;
}

/**
 * Params that change how a stage's outputs look, not what they say (chart sizes, picture counts, report digits, montage size):
 * they are not run params (MLflow would chart and compare them); the run's `pipeline.json` keeps them.
 */
export const PRESENTATION_PARAMS: Readonly<Partial<Record<StageKind, readonly string[]>>> = {
  evaluate: ['digits'],
  visualize: ['width', 'height', 'camImages', 'featureChannels', 'mistakes'],
  synthesize: ['montage'],
};

/**
 * MLflow's system tags, on every run (parent and trials): who started it (`mlflow.user`, also the run's user_id),
 * from what (`mlflow.source.name`, `.type`) and which code (`mlflow.source.git.commit`, `.branch`, `.repoURL`), so
 * the UI fills its User, Source and Version columns.
 */
export function systemTags(facts: SourceFacts): Record<string, string> {
  return {
    'mlflow.user': facts.user,
    'mlflow.source.name': facts.command,
    'mlflow.source.type': 'LOCAL',
    ...(facts.gitCommit ? { 'mlflow.source.git.commit': facts.gitCommit } : {}),
    ...(facts.gitBranch ? { 'mlflow.source.git.branch': facts.gitBranch } : {}),
    ...(facts.gitRepoUrl ? { 'mlflow.source.git.repoURL': facts.gitRepoUrl } : {}),
  };
}

/** What the parent run's `pipeline.json` says about the sweep: its files (with the pipeline's hash) and grid. */
export function sweepFacts(sweep: SweepSpec, pipelineHash: string): Record<string, unknown> {
  return {
    sweepFile: sweep.file,
    pipelineFile: sweep.pipeline.file,
    pipelineHash,
    grid: Object.fromEntries(sweep.grid.map((dim) => [dim.path, dim.values])),
    objective: sweep.objective,
  };
}

// MLflow accepts letters, digits and `_ - . / space` in keys; anything else (the `@` of a partly shared node id) is `_`.
/** A key MLflow accepts. */
export function sanitizeKey(key: string): string {
  return key.replace(/[^\w\-./ ]/g, '_').slice(0, 250);
}

/** Params flattened to `prefix.key[.subkey]` → text: nested objects by dot-path, arrays and others as JSON. */
export function flattenParams(prefix: string, params: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (key: string, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [inner, innerValue] of Object.entries(value)) visit(`${key}.${inner}`, innerValue);
    } else {
      out[sanitizeKey(key)] = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    }
  };
  for (const [key, value] of Object.entries(params)) visit(`${prefix}.${key}`, value);
  return out;
}

/** A node's params as run params: flattened, without the presentation ones. */
export function runParams(node: PlanNode, label: string): Record<string, string> {
  const hidden = new Set(PRESENTATION_PARAMS[node.kind] ?? []);
  const kept = Object.fromEntries(Object.entries(node.params).filter(([key]) => !hidden.has(key)));
  return flattenParams(label, kept);
}

/**
 * The step of an epoch's points. Epochs are counted from 1 in `history.json` and progress lines; steps start at 0,
 * as Keras' callbacks and `mlflow.tensorflow.autolog()` log them, so curves line up with Keras runs.
 */
export function epochStep(epoch: number): number {
  return epoch - 1;
}

/**
 * Metrics as points at one step: a node's summary as `prefix.key`, or an epoch's unprefixed, so the trials' charts
 * line up.
 */
export function metricPoints(metrics: Record<string, number>, step: number, time: number, prefix = ''): MetricPoint[] {
  return Object.entries(metrics).map(([key, value]) => ({
    key: sanitizeKey(prefix ? `${prefix}.${key}` : key),
    value: toMetricValue(value),
    step,
    timestamp: time,
  }));
}

/**
 * Timestamps for epochs replayed from a stored history (a cached stage logged to a new run): spread over the time
 * the stage ran, as its record says, instead of one instant for all. Epoch `i` of `n` ends at start + i/n of it.
 */
export function epochTimes(startedAt: string, finishedAt: string, epochs: number, fallback: number): number[] {
  const start = Date.parse(startedAt);
  const end = Date.parse(finishedAt);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return Array<number>(epochs).fill(fallback);
  return Array.from({ length: epochs }, (_, i) => Math.round(start + ((end - start) * (i + 1)) / epochs));
}

/** The time a node's summary metrics are stamped with: when it finished, as its record says. */
export function finishedTime(finishedAt: string, fallback: number): number {
  const time = Date.parse(finishedAt);
  return Number.isFinite(time) ? time : fallback;
}

/** How a trial's run ends once all its stages have: cancelled is KILLED, a failure (or a stage skipped for one) FAILED. */
export function trialStatus(outcomes: readonly NodeOutcome[]): 'FINISHED' | 'FAILED' | 'KILLED' {
  if (outcomes.some((o) => o.state === 'skipped' && o.reason === 'cancelled')) return 'KILLED';
  if (outcomes.some((o) => o.state === 'failed' || o.state === 'skipped')) return 'FAILED';
  return 'FINISHED';
}

/** How a run still open when the sweep ends closes, from its trial's standing. */
export function rowStatus(state: TrialRow['state']): 'FINISHED' | 'FAILED' | 'KILLED' {
  // A trial stopped early finished: it has its model, evaluation and metrics; a tag says it was stopped.
  return state === 'done' || state === 'stopped' ? 'FINISHED' : state === 'failed' ? 'FAILED' : 'KILLED';
}

/**
 * The parent's record of the best trial: `pipeline.best.trial`, `pipeline.best.runId` (its latest attempt) and a
 * point of `best.<objective>`; undefined when the parent says so already.
 */
export function bestEntry(
  parent: RunView,
  trial: string,
  objective: number,
  runId: string | undefined,
  metric: string,
  time: number,
): LogRecord | undefined {
  const key = sanitizeKey(`best.${metric}`);
  const previous = parent.metrics[key] ?? [];
  const value = toMetricValue(objective);
  const ref = parent.tags['pipeline.best.runId'];
  const sameRun = typeof ref === 'object' ? ref.ref === runId : runId === undefined;
  if (parent.tags['pipeline.best.trial'] === trial && sameRun && previous.at(-1)?.value === value) return undefined;
  const tags = { 'pipeline.best.trial': trial, ...(runId ? { 'pipeline.best.runId': { ref: runId } } : {}) };
  return { t: 'log', id: parent.id, tags, metrics: [{ key, value, step: previous.length, timestamp: time }] };
}
