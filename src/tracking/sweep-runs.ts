import type { NodeOutcome, NodeRecord, PlanNode, StageProgress, TrialRow } from '../types.js';
import { trialDatasets, validationDataset } from './dataset-inputs.js';
import { applyRecord, type JournalRecord, type MetricPoint, type RunView } from './journal-records.js';
import { loggedModelRecord, type ModelFacts } from './logged-model.js';
import type { NodeFolder } from './node-folder.js';
import { RUN_DOCUMENT, sweepDocument, trialDocument, type NodeEnd } from './run-documents.js';
import {
  bestEntry,
  epochStep,
  epochTimes,
  finishedTime,
  metricPoints,
  runParams,
  rowStatus,
  sanitizeKey,
  trialStatus,
} from './run-entries.js';
import {
  attemptOf,
  latestAttempt,
  modelKey,
  sweepRunId,
  trialRunId,
  trialRunName,
  type ReportFiles,
  type SweepIdentity,
} from './run-identity.js';

type Finished = NodeEnd & { folder?: NodeFolder };

/**
 * The journal records of a sweep, event by event: one parent run per sweep holding the stages every trial shares,
 * one child run per trial with its params, per-epoch metrics (`step` = epoch − 1, as Keras counts), final metrics,
 * data set inputs, its model (a LoggedModel) and artifacts. A trial's run ends as soon as its last stage does.
 * Run ids derive from the workspace and the plan's cache keys, so a fully cached sweep run again adds nothing and
 * a resumed one continues its runs. A stage that runs again although its trial's run logged its result (a
 * `rerun`) opens a new attempt `…#2`, named and tagged so. No I/O: `views` are the runs journaled so far, kept up
 * to date with every record returned; node folders are read by the caller.
 */
export class SweepRuns {
  /** The sweep's parent run id in the journal. */
  readonly parentId: string;
  private readonly current = new Map<string, string>();
  private readonly done = new Map<string, Finished>();
  private readonly touched = new Set<string>();
  private readonly ended = new Set<string>();
  /** Runs this invocation reopened, with the status they had. */
  private readonly reopened = new Map<string, RunView['status']>();
  private out: JournalRecord[] = [];

  constructor(
    private readonly sweep: SweepIdentity,
    private readonly views: Map<string, RunView>,
    private readonly now: () => number = Date.now,
  ) {
    const keys = sweep.plan.nodes.map((node) => node.cacheKey);
    this.parentId = sweepRunId(sweep.sweepName, sweep.experiment, keys, sweep.workspace);
    for (const trial of sweep.plan.trials) {
      const latest = latestAttempt(views.keys(), this.parentId, trial.id);
      if (latest) this.current.set(trial.id, latest);
    }
  }

  /** A node starts: its params, in a new attempt if its trial's run already logged its result. */
  started(node: PlanNode): JournalRecord[] {
    this.emit({ t: 'log', id: this.runForNode(node, true), params: runParams(node, label(node)) });
    return this.take();
  }

  /** A progress update: its epoch's metrics at step epoch − 1 (a step the run already has is not logged again). */
  progress(node: PlanNode, update: StageProgress): JournalRecord[] {
    if (update.epoch === undefined || !update.metrics) return [];
    const runId = this.runForNode(node, false);
    const prefix = node.trial === null ? label(node) : '';
    const metrics = this.newPoints(runId, metricPoints(update.metrics, epochStep(update.epoch), this.now(), prefix));
    if (metrics.length > 0) this.emit({ t: 'log', id: runId, metrics });
    return this.take();
  }

  /** A node ended; `folder` is its output folder when it has a record (done or cached). */
  finished(node: PlanNode, outcome: NodeOutcome, folder?: NodeFolder): JournalRecord[] {
    this.done.set(node.id, { node, outcome, ...(folder ? { folder } : {}) });
    if (outcome.state === 'failed') {
      const tags = { 'pipeline.error': `${node.stage}: ${outcome.error}`.slice(0, 5000) };
      this.emit({ t: 'log', id: this.runForNode(node, false), tags });
    } else if (outcome.state === 'done') {
      this.logResult(this.runForNode(node, false), node, outcome.record, folder);
    } else if (outcome.state === 'cached') {
      const runId = this.runForNode(node, false);
      if (!this.views.get(runId)?.nodes.has(node.cacheKey)) this.logCached(runId, node, outcome.record, folder);
    }
    for (const trialId of node.trial === null ? node.trials : [node.trial]) this.endIfComplete(trialId);
    return this.take();
  }

  /** Closes what this invocation touched and is still open, records the best trial; `rows`: results, best first. */
  finish(rows: readonly TrialRow[], report?: ReportFiles): JournalRecord[] {
    if (this.touched.size === 0) return [];
    const time = this.now();
    for (const row of rows) {
      const runId = this.current.get(row.id);
      if (runId && this.touched.has(runId) && !this.ended.has(runId)) {
        this.emit({ t: 'end', id: runId, status: rowStatus(row.state), time });
      }
    }
    this.logBest(rows);
    const shared = [...this.done.values()].filter((end) => end.node.trial === null);
    const doc = sweepDocument({ ...this.sweep, rows, runOf: (id) => this.current.get(id), shared });
    this.emit({ t: 'doc', id: this.parentId, path: RUN_DOCUMENT, doc });
    if (report) this.emit({ t: 'files', id: this.parentId, node: 'report', prefix: 'report', ...report });
    const failed = rows.some((row) => row.state === 'failed');
    const complete = rows.every((row) => row.state === 'done' || row.state === 'stopped');
    const status = failed ? 'FAILED' : complete ? 'FINISHED' : 'KILLED';
    this.emit({ t: 'end', id: this.parentId, status, time: this.now() });
    return this.take();
  }

  /** The journal run and model key of a trial's latest logged model, if it has one. */
  modelOf(trialId: string): { runId: string; key: string } | undefined {
    const runId = this.current.get(trialId);
    const key = runId ? [...(this.views.get(runId)?.models.keys() ?? [])].at(-1) : undefined;
    return runId && key ? { runId, key } : undefined;
  }

  // A trial's run ends when every stage it uses has ended in this invocation, with the time it did.
  private endIfComplete(trialId: string): void {
    const runId = this.current.get(trialId);
    if (!runId || !this.touched.has(runId) || this.ended.has(runId)) return;
    const ends = this.sweep.plan.nodes.filter((n) => n.trials.includes(trialId)).map((n) => this.done.get(n.id));
    if (ends.some((end) => end === undefined)) return;
    const cached = (ends as Finished[]).filter((e) => e.node.trial !== null && e.outcome.state === 'cached');
    if (cached.length > 0) {
      this.emit({ t: 'log', id: runId, tags: { 'pipeline.cached': cached.map((e) => e.node.stage).join(' ') } });
    }
    const trial = this.sweep.plan.trials.find((candidate) => candidate.id === trialId);
    const doc = trialDocument(trial, attemptOf(runId), this.sweep.workspace, ends as Finished[], this.sweep.host);
    this.emit({ t: 'doc', id: runId, path: RUN_DOCUMENT, doc });
    const status = trialStatus((ends as Finished[]).map((end) => end.outcome));
    this.emit({ t: 'end', id: runId, status, time: this.now() });
    this.ended.add(runId);
  }

  private logBest(rows: readonly TrialRow[]): void {
    const best = rows.find((row) => row.best);
    const parent = this.views.get(this.parentId);
    if (!best || best.objective === undefined || !parent) return;
    const metric = this.sweep.plan.objective.metric;
    const entry = bestEntry(parent, best.id, best.objective, this.current.get(best.id), metric, this.now());
    if (entry) this.emit(entry);
  }

  /** The run a node's records go to; `starting` opens a new attempt when the current run logged its result. */
  private runForNode(node: PlanNode, starting: boolean): string {
    this.ensureParent();
    if (node.trial === null) return this.parentId;
    const currentId = this.current.get(node.trial);
    const seen = currentId !== undefined && this.views.get(currentId)?.nodes.has(node.cacheKey);
    if (currentId && !(starting && seen)) return currentId;
    return this.openTrialRun(node.trial, currentId);
  }

  private openTrialRun(trialId: string, previous: string | undefined): string {
    const trial = this.sweep.plan.trials.find((candidate) => candidate.id === trialId);
    const attempt = previous ? attemptOf(previous) + 1 : 1;
    const id = trialRunId(this.parentId, trialId, attempt);
    // An attempt reopened in this invocation and now superseded closes again as it was.
    const was = previous && !this.ended.has(previous) ? this.reopened.get(previous) : undefined;
    if (previous && was && was !== 'RUNNING') {
      this.emit({ t: 'end', id: previous, status: was, time: this.now() });
      this.ended.add(previous);
    }
    this.current.set(trialId, id);
    const tags = {
      ...this.sweep.systemTags,
      'pipeline.trial': trialId,
      'pipeline.sweep': this.sweep.sweepName,
      ...(previous ? { 'pipeline.attempt': String(attempt), 'pipeline.rerunOf': { ref: previous } } : {}),
    };
    const name = trialRunName(trial, trialId, attempt);
    const { experiment } = this.sweep;
    this.emit({ t: 'run', id, experiment, name, parent: this.parentId, tags, time: this.now() });
    const datasets = trialDatasets(this.sweep.plan, trialId, (id) => this.done.get(id)?.folder?.datasets?.());
    if (datasets.length > 0) this.emit({ t: 'inputs', id, datasets });
    // A new attempt is self-contained: stages of this trial that finished earlier in this invocation are logged to it.
    for (const { node, outcome, folder } of this.done.values()) {
      if (node.trial === trialId && 'record' in outcome) this.logCached(id, node, outcome.record, folder);
    }
    return id;
  }

  private ensureParent(): void {
    if (this.views.has(this.parentId)) return;
    const { sweepName: name, experiment } = this.sweep;
    const tags = { ...this.sweep.systemTags, 'pipeline.sweep': name, ...this.sweep.parentTags };
    this.emit({ t: 'run', id: this.parentId, experiment, name, tags, time: this.now() });
  }

  // A cached node logged to a run that never saw it: its params, its epochs spread over the time it ran, its result.
  private logCached(runId: string, node: PlanNode, record: NodeRecord, folder: NodeFolder | undefined): void {
    const prefix = node.trial === null ? label(node) : '';
    const history = folder?.history ?? [];
    const times = epochTimes(record.startedAt, record.finishedAt, history.length, this.now());
    const points = history.flatMap((row, i) =>
      metricPoints(row.metrics, epochStep(row.epoch), times[i] ?? this.now(), prefix),
    );
    const metrics = this.newPoints(runId, points);
    this.emit({ t: 'log', id: runId, params: runParams(node, label(node)), metrics });
    this.logResult(runId, node, record, folder);
  }

  private logResult(runId: string, node: PlanNode, record: NodeRecord, folder?: NodeFolder): void {
    const name = label(node);
    const view = this.views.get(runId);
    const step = node.trial === null ? (view?.nodes.get(node.cacheKey) ?? 0) : 0;
    const last = folder?.history.at(-1)?.metrics ?? {};
    const objective = this.sweep.plan.objective.metric;
    // The last epoch's values are already the per-epoch series' last points; the objective stays for the table.
    const summary = Object.entries(record.metrics).filter(
      ([key, value]) => !(key in last && Object.is(last[key], value)) || key === objective,
    );
    const link = node.kind === 'evaluate' && view ? this.evaluationLink(view) : {};
    const time = finishedTime(record.finishedAt, this.now());
    const metrics = metricPoints(Object.fromEntries(summary), step, time, name).map((p) => ({ ...p, ...link }));
    const backend = record.backend && record.backend !== 'none' && node.trial !== null ? record.backend : undefined;
    const tags: Record<string, string> = backend ? { 'pipeline.backend': backend } : {};
    // A trial stopped early ends FINISHED (it has its model and evaluation); this tag says why it is short.
    if (typeof record.summary.earlyStop === 'string') tags['pipeline.early_stop'] = record.summary.earlyStop;
    this.emit({ t: 'log', id: runId, node: node.cacheKey, metrics, tags });
    if (folder && folder.artifacts.length > 0) {
      const { root, artifacts: files } = folder;
      this.emit({ t: 'files', id: runId, node: node.cacheKey, root, files, prefix: name });
    }
    if (folder?.model) this.logModel(runId, node, folder, folder.model);
  }

  private logModel(runId: string, node: PlanNode, folder: NodeFolder, model: ModelFacts): void {
    const owner = node.trial ?? label(node);
    const step = Math.max(0, epochStep(folder.history.at(-1)?.epoch ?? 1));
    const tags = { ...this.sweep.systemTags, 'pipeline.sweep': this.sweep.sweepName, 'pipeline.trial': owner };
    const placement = {
      runId,
      key: modelKey(this.parentId, node.cacheKey),
      node: node.cacheKey,
      name: `${this.sweep.sweepName}-${owner}`,
      step,
      params: runParams(node, label(node)),
      tags,
    };
    this.emit(loggedModelRecord(model, placement));
  }

  // Evaluation metrics measure the run's model on the validation data: MLflow shows them on the model's page.
  private evaluationLink(view: RunView): Pick<MetricPoint, 'model' | 'dataset'> {
    const model = [...view.models.keys()].at(-1);
    const dataset = validationDataset(view.inputs);
    return { ...(model ? { model } : {}), ...(dataset ? { dataset } : {}) };
  }

  private newPoints(runId: string, points: MetricPoint[]): MetricPoint[] {
    const view = this.views.get(runId);
    return points.filter((point) => !view?.metrics[point.key]?.some((old) => old.step === point.step));
  }

  private emit(record: JournalRecord): void {
    const view = this.views.get(record.id);
    // Logging to a run that ended (a resumed sweep, a retried stage) reopens it; its old error tag goes.
    if (view && view.status !== 'RUNNING' && record.t !== 'end' && record.t !== 'register') {
      const clearTags = 'pipeline.error' in view.tags ? ['pipeline.error'] : [];
      this.reopened.set(record.id, view.status);
      this.push({ t: 'reopen', id: record.id, time: this.now(), clearTags });
    }
    this.push(record);
  }

  private push(record: JournalRecord): void {
    applyRecord(this.views, record);
    this.touched.add(record.id);
    this.out.push(record);
  }

  private take(): JournalRecord[] {
    const records = this.out;
    this.out = [];
    return records;
  }
}

function label(node: PlanNode): string {
  return sanitizeKey(node.trial === null ? node.id : node.stage);
}
