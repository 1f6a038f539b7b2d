import type { WorkspaceStore } from '../store/workspace-store.js';
import type { ExecutionEvents, NodeOutcome, PlanNode, StageProgress, TrialRow } from '../types.js';
import type { JournalRecord, RegisterRecord } from './journal-records.js';
import { Journal } from './journal.js';
import { readNodeFolder } from './node-folder.js';
import type { ReportFiles, SweepIdentity } from './run-identity.js';
import { SweepRuns } from './sweep-runs.js';

export interface SweepTrackerOptions extends Omit<SweepIdentity, 'workspace'> {
  /** The workspace: its journal (and identity), and the node folders whose files become artifacts. */
  store: WorkspaceStore;
  /** How a model family scales pixels (for the model's Python flavour); unknown families get none. */
  preprocessOf?: (family: string) => string | undefined;
  /** Called after records were journaled, e.g. to send them. */
  onJournaled?(): void;
  /** Clock, for tests (default Date.now). */
  now?: () => number;
}

/** Execution events that journal a sweep as MLflow runs, and `finish` to close what this invocation touched. */
export interface SweepTracker extends Required<Pick<ExecutionEvents, 'nodeStarted' | 'nodeProgress' | 'nodeFinished'>> {
  /** The sweep's parent run id in the journal. */
  readonly parentId: string;
  /** Closes the touched runs still open and the parent run; `rows` are the trial results, best first. */
  finish(rows: readonly TrialRow[], report?: ReportFiles): void;
  /**
   * Journals the registration of a trial's model under `name`; returns its model key, or undefined when the
   * trial's run logged no model.
   */
  register(trialId: string, name: string): string | undefined;
}

/**
 * Journals a sweep as it runs: each event becomes records ({@link SweepRuns} decides which), appended to the
 * workspace's journal before anything is sent. A finished node's folder is read here (artifacts, per-epoch
 * history, the model, the split's data sets), so the records themselves are built without touching the disk.
 */
export function createSweepTracker(options: SweepTrackerOptions): SweepTracker {
  return new Tracker(options);
}

class Tracker implements SweepTracker {
  private readonly journal: Journal;
  private readonly runs: SweepRuns;

  constructor(private readonly options: SweepTrackerOptions) {
    this.journal = new Journal(options.store.trackingPaths().journal);
    const workspace = this.journal.identity();
    this.runs = new SweepRuns({ ...options, workspace }, this.journal.fold(), options.now);
  }

  get parentId(): string {
    return this.runs.parentId;
  }

  nodeStarted(node: PlanNode): void {
    this.append(this.runs.started(node));
  }

  nodeProgress(node: PlanNode, update: StageProgress): void {
    this.append(this.runs.progress(node, update));
  }

  nodeFinished(node: PlanNode, outcome: NodeOutcome): void {
    const read = { kind: node.kind, ...(this.options.preprocessOf ? { preprocessOf: this.options.preprocessOf } : {}) };
    const folder = 'record' in outcome ? readNodeFolder(this.options.store.nodeDir(node.cacheKey), read) : undefined;
    this.append(this.runs.finished(node, outcome, folder));
  }

  finish(rows: readonly TrialRow[], report?: ReportFiles): void {
    this.append(this.runs.finish(rows, report));
  }

  register(trialId: string, name: string): string | undefined {
    const model = this.runs.modelOf(trialId);
    if (!model) return undefined;
    this.append([registerRecord(model.runId, model.key, name, this.options.sweepName, trialId)]);
    return model.key;
  }

  private append(records: JournalRecord[]): void {
    if (records.length === 0) return;
    this.journal.append(records);
    this.options.onJournaled?.();
  }
}

/** The record that registers a journaled model as a version of `name`, tagged with its sweep and trial. */
export function registerRecord(
  runId: string,
  model: string,
  name: string,
  sweep: string,
  trial: string,
): RegisterRecord {
  return { t: 'register', id: runId, model, name, tags: { 'pipeline.sweep': sweep, 'pipeline.trial': trial } };
}
