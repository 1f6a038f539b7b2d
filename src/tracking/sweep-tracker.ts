import os from 'node:os';
import type { ExecutionEvents, NodeOutcome } from '../orchestrator/executor.js';
import type { TrialRow } from '../orchestrator/trial-results.js';
import { describeTrial } from '../plan/expand-grid.js';
import type { NodeRecord, WorkspaceStore } from '../store/workspace-store.js';
import type { Plan, PlanNode, StageProgress } from '../types.js';
import { sha256 } from '../util/hash.js';
import {
  JournalWriter,
  journalPath,
  readJournal,
  toMetricValue,
  type JournalRecord,
  type TagValue,
} from './journal.js';
import { applyRecord, foldJournal, type RunView } from './journal-view.js';
import {
  epochPoints,
  flattenParams,
  historyPoints,
  metricPoints,
  sanitizeKey,
  selectArtifacts,
} from './node-entries.js';

/** What the tracker needs to know about the sweep beyond its plan. */
export interface SweepTrackerOptions {
  plan: Plan;
  store: WorkspaceStore;
  sweepName: string;
  /** MLflow experiment the runs go to. */
  experiment: string;
  /** Tags of the sweep's parent run (sweep file, pipeline hash, grid, git commit, user, ...). */
  parentTags: Record<string, string>;
  /** Called after records were journaled, e.g. to send them. */
  onJournaled?(): void;
  /** Clock, for tests (default Date.now). */
  now?: () => number;
}

/** Execution events that journal a sweep as MLflow runs, and `finish` to close what this invocation touched. */
export interface SweepTracker extends Required<Pick<ExecutionEvents, 'nodeStarted' | 'nodeProgress' | 'nodeFinished'>> {
  /** The sweep's parent run id in the journal. */
  readonly parentId: string;
  /** Closes the touched trial runs and the parent run; `rows` are the trial results, best first. */
  finish(rows: readonly TrialRow[]): void;
}

/**
 * Journals a sweep: one parent run per sweep holding the stages every trial shares (logged once), one child run
 * per trial with its stages' params, per-epoch metrics (`step` = epoch), final metrics, tags and artifacts.
 * Run ids derive from the plan's cache keys, so running a fully cached sweep again journals nothing. A node that
 * runs again although its trial's run already logged it (a `rerun`, or a retry after a failure) opens a new child
 * run tagged `pipeline.rerunOf` = the previous one, so the UI shows both side by side.
 */
export function createSweepTracker(options: SweepTrackerOptions): SweepTracker {
  return new Tracker(options);
}

class Tracker implements SweepTracker {
  readonly parentId: string;
  private readonly writer: JournalWriter;
  private readonly views: Map<string, RunView>;
  private readonly current = new Map<string, string>();
  private readonly finished = new Map<string, { node: PlanNode; outcome: NodeOutcome }>();
  private readonly touched = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly options: SweepTrackerOptions) {
    const file = journalPath(options.store.root);
    this.writer = new JournalWriter(file);
    this.views = foldJournal(readJournal(file).records);
    this.now = options.now ?? Date.now;
    const keys = options.plan.nodes.map((node) => node.cacheKey).sort();
    this.parentId = `${sanitizeKey(options.sweepName)}@${sha256([options.experiment, ...keys].join('\n')).slice(0, 12)}`;
    for (const trial of options.plan.trials) {
      const attempts = [...this.views.keys()].filter((id) => id.split('#')[0] === this.trialRunId(trial.id));
      const latest = attempts.at(-1);
      if (latest) this.current.set(trial.id, latest);
    }
  }

  nodeStarted(node: PlanNode): void {
    const runId = this.runForNode(node, true);
    this.append({ t: 'log', id: runId, node: node.cacheKey, ...this.nodeHeader(node) });
  }

  nodeProgress(node: PlanNode, update: StageProgress): void {
    if (update.epoch === undefined || !update.metrics) return;
    const runId = this.runForNode(node, false);
    const prefix = node.trial === null ? this.label(node) : '';
    this.append({ t: 'log', id: runId, metrics: epochPoints(update.epoch, update.metrics, this.now(), prefix) });
  }

  nodeFinished(node: PlanNode, outcome: NodeOutcome): void {
    this.finished.set(node.id, { node, outcome });
    if (outcome.state === 'failed') {
      const runId = this.runForNode(node, false);
      this.append({ t: 'log', id: runId, tags: { [`pipeline.${this.label(node)}.error`]: outcome.error } });
    } else if (outcome.state === 'done') {
      this.logResult(this.runForNode(node, false), node, outcome.record, false);
    } else if (outcome.state === 'cached') {
      const runId = this.runForNode(node, false);
      if (!this.views.get(runId)?.nodes.has(node.cacheKey)) this.logCached(runId, node, outcome.record);
    }
  }

  finish(rows: readonly TrialRow[]): void {
    if (this.touched.size === 0) return;
    const time = this.now();
    for (const row of rows) {
      const runId = this.current.get(row.id);
      if (runId && this.touched.has(runId)) this.append({ t: 'end', id: runId, status: endStatus(row.state), time });
    }
    this.logBest(rows);
    const status = rows.some((row) => row.state === 'failed')
      ? 'FAILED'
      : rows.every((row) => row.state === 'done')
        ? 'FINISHED'
        : 'KILLED';
    this.append({ t: 'end', id: this.parentId, status, time });
  }

  private logBest(rows: readonly TrialRow[]): void {
    const best = rows.find((row) => row.best);
    const parent = this.views.get(this.parentId);
    if (!best || best.objective === undefined || !parent) return;
    const key = sanitizeKey(`best.${this.options.plan.objective.metric}`);
    const previous = parent.metrics[key] ?? [];
    const bestRun = this.current.get(best.id);
    if (parent.tags['pipeline.best.trial'] === best.id && previous.at(-1)?.value === toMetricValue(best.objective))
      return;
    const tags: JournalRecord & { t: 'log' } = {
      t: 'log',
      id: this.parentId,
      tags: {
        'pipeline.best.trial': best.id,
        ...(bestRun ? { 'pipeline.best.runId': { ref: bestRun } } : {}),
        ...Object.fromEntries(
          Object.entries(best.params).map(([k, v]) => [sanitizeKey(`pipeline.best.${k}`), String(v)]),
        ),
      },
      metrics: [{ key, value: toMetricValue(best.objective), step: previous.length, timestamp: this.now() }],
    };
    this.append(tags);
  }

  /** The run a node's records go to; `starting` opens a new attempt when the current run already logged it. */
  private runForNode(node: PlanNode, starting: boolean): string {
    this.ensureParent();
    if (node.trial === null) return this.parentId;
    const currentId = this.current.get(node.trial);
    const seen = currentId !== undefined && this.views.get(currentId)?.nodes.has(node.cacheKey);
    if (currentId && !(starting && seen)) return currentId;
    return this.openTrialRun(node.trial, currentId);
  }

  private openTrialRun(trialId: string, previous: string | undefined): string {
    const trial = this.options.plan.trials.find((candidate) => candidate.id === trialId);
    const attempt = previous ? Number(previous.split('#')[1] ?? '1') + 1 : 1;
    const id = attempt === 1 ? this.trialRunId(trialId) : `${this.trialRunId(trialId)}#${attempt}`;
    this.current.set(trialId, id);
    const shared = this.options.plan.nodes.filter((node) => node.trial === null && node.trials.includes(trialId));
    const tags: Record<string, TagValue> = {
      'pipeline.trial': trialId,
      'pipeline.sweep': this.options.sweepName,
      'pipeline.attempt': String(attempt),
      ...(previous ? { 'pipeline.rerunOf': { ref: previous } } : {}),
    };
    for (const node of shared) Object.assign(tags, this.upstreamTags(node));
    const name = trial ? describeTrial(trial) : trialId;
    this.append({
      t: 'run',
      id,
      experiment: this.options.experiment,
      name,
      parent: this.parentId,
      tags,
      time: this.now(),
    });
    // A new attempt is self-contained: stages of this trial that finished earlier in this invocation are logged to it.
    for (const { node, outcome } of this.finished.values()) {
      if (node.trial === trialId && 'record' in outcome) this.logCached(id, node, outcome.record);
    }
    return id;
  }

  private upstreamTags(node: PlanNode): Record<string, string | { ref: string }> {
    const prefix = `pipeline.upstream.${this.label(node)}`;
    const outcome = this.finished.get(node.id)?.outcome;
    const counts = outcome && 'record' in outcome ? outcome.record.metrics : {};
    return {
      [`${prefix}.runId`]: { ref: this.parentId },
      [`${prefix}.cacheKey`]: node.cacheKey,
      ...Object.fromEntries(Object.entries(counts).map(([k, v]) => [sanitizeKey(`${prefix}.${k}`), String(v)])),
    };
  }

  private ensureParent(): void {
    if (this.views.has(this.parentId)) return;
    const tags = { 'pipeline.sweep': this.options.sweepName, ...this.options.parentTags };
    const name = this.options.sweepName;
    this.append({ t: 'run', id: this.parentId, experiment: this.options.experiment, name, tags, time: this.now() });
  }

  /** Params and identifying tags of a node, written when it starts (or when a cached node is logged). */
  private nodeHeader(node: PlanNode) {
    const label = this.label(node);
    const host = os.hostname();
    const tags = { [`pipeline.${label}.cacheKey`]: node.cacheKey, [`pipeline.${label}.host`]: host };
    return { params: flattenParams(label, node.params), tags };
  }

  private logCached(runId: string, node: PlanNode, record: NodeRecord): void {
    const dir = this.options.store.nodeDir(node.cacheKey);
    const prefix = node.trial === null ? this.label(node) : '';
    const header = this.nodeHeader(node);
    header.tags[`pipeline.${this.label(node)}.cached`] = 'true';
    this.append({
      t: 'log',
      id: runId,
      node: node.cacheKey,
      ...header,
      metrics: historyPoints(dir, this.now(), prefix),
    });
    this.logResult(runId, node, record, true);
  }

  private logResult(runId: string, node: PlanNode, record: NodeRecord, cached: boolean): void {
    const label = this.label(node);
    const step = node.trial === null ? Math.max(0, (this.views.get(runId)?.nodes.get(node.cacheKey) ?? 1) - 1) : 0;
    const host = (record as NodeRecord & { host?: unknown }).host;
    const tags: Record<string, string> = {
      [`pipeline.${label}.durationMs`]: String(record.durationMs),
      ...(typeof host === 'string' ? { [`pipeline.${label}.host`]: host } : {}),
      ...(record.backend ? { [`pipeline.${label}.backend`]: record.backend } : {}),
    };
    if (record.backend && record.backend !== 'none' && node.trial !== null) tags['pipeline.backend'] = record.backend;
    if (!cached) tags[`pipeline.${label}.cached`] = 'false';
    const metrics = metricPoints(label, record.metrics, step, this.now());
    this.append({ t: 'log', id: runId, metrics, tags });
    const files = selectArtifacts(this.options.store.nodeDir(node.cacheKey));
    if (files.length > 0) {
      const root = this.options.store.nodeDir(node.cacheKey);
      this.append({ t: 'files', id: runId, node: node.cacheKey, root, files, prefix: label });
    }
  }

  private append(record: JournalRecord): void {
    this.writer.append([record]);
    applyRecord(this.views, record);
    this.touched.add(record.id);
    this.options.onJournaled?.();
  }

  private label(node: PlanNode): string {
    return sanitizeKey(node.trial === null ? node.id : node.stage);
  }

  private trialRunId(trialId: string): string {
    return `${this.parentId}/${trialId}`;
  }
}

function endStatus(state: TrialRow['state']): 'FINISHED' | 'FAILED' | 'KILLED' {
  if (state === 'done') return 'FINISHED';
  return state === 'failed' ? 'FAILED' : 'KILLED';
}
