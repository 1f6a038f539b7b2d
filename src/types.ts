/** Every stage kind, in pipeline order; the catalog (stages/catalog.ts) describes each. */
export const STAGE_KINDS = ['ingest', 'synthesize', 'split', 'embed', 'train', 'evaluate', 'visualize'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

/** A stage as declared in a pipeline file, params not yet resolved for a trial. */
export interface StageSpec {
  name: string;
  kind: StageKind;
  needs: string[];
  /** Params as written (defaults not applied); resolved per trial by the planner. */
  params: Record<string, unknown>;
  resources: { gpu: number };
}

/** A validated pipeline file; `stages` is in dependency order. */
export interface PipelineSpec {
  file: string;
  name: string;
  stages: StageSpec[];
}

export type Goal = 'maximize' | 'minimize';

/** A value override addressed by `stage.key[.subkey]`, remembering where it was written. */
export interface Override {
  path: string;
  value: unknown;
  /** `file:line:col` or `--set` for error messages. */
  origin: string;
  /** Relative data paths in the value resolve against this folder. */
  baseDir: string;
}

/** A validated sweep file. */
export interface SweepSpec {
  file: string;
  name: string;
  pipeline: PipelineSpec;
  method: 'grid' | 'random';
  grid: { path: string; values: unknown[]; origins: string[] }[];
  samples: number | undefined;
  seed: number;
  objective: { metric: string; goal: Goal };
  maxParallel: number | undefined;
  /** `early_stop:` of the sweep file, if any: stops hopeless trials at epoch milestones. */
  earlyStop?: EarlyStopSpec;
  /** Fixed overrides from the sweep's `set:` and the command line's `--set`, applied to every trial. */
  overrides: Override[];
}

/** How a sweep stops hopeless trials early (see docs/search.md); the metric is one train reports every epoch. */
export interface EarlyStopSpec {
  method: 'asha' | 'median';
  metric: 'loss' | 'accuracy' | 'val_loss' | 'val_accuracy';
  goal: Goal;
  /** The first epoch at which a trial may be stopped. */
  minEpochs: number;
  /** asha: a trial continues past a rung if it is in the best 1/reductionFactor of the trials before it there. */
  reductionFactor: number;
  /** asha: trials are dealt round-robin into this many brackets; bracket s has its first rung at minEpochs·rf^s. */
  brackets: number;
}

/** One grid point. */
export interface Trial {
  id: string;
  /** Grid values of this trial, keyed by dot-path. */
  params: Record<string, unknown>;
}

/** One unit of work in the DAG. Nodes with equal cache keys are merged, so shared upstream appears once. */
export interface PlanNode {
  id: string;
  stage: string;
  kind: StageKind;
  /** The trial this node belongs to, or null when trials share it. */
  trial: string | null;
  trials: string[];
  needs: string[];
  cacheKey: string;
  params: Record<string, unknown>;
  resources: { gpu: number };
  /** How the node was planned, where that is not obvious (a train node whose backbone trains end to end). */
  note?: string;
}

/** A planned sweep: trials, nodes in dependency order. */
export interface Plan {
  sweep: string;
  pipelineFile: string;
  trials: Trial[];
  nodes: PlanNode[];
  objective: { metric: string; goal: Goal };
}

/** Progress a running stage reports (per epoch for train). */
export interface StageProgress {
  message?: string;
  epoch?: number;
  epochs?: number;
  metrics?: Record<string, number>;
}

/** What a finished stage leaves beside its files: summary metrics and anything worth showing. */
export interface StageResult {
  metrics: Record<string, number>;
  summary: Record<string, unknown>;
}

/** What the store keeps beside a node's files, written last so its presence means "complete". */
export interface NodeRecord extends StageResult {
  cacheKey: string;
  stage: string;
  kind: string;
  params: Record<string, unknown>;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  backend?: string;
  /** Size and SHA-256 of every output file (paths `/`-separated), checked before the node is reused; absent in old records. */
  files?: Record<string, { size: number; sha256: string }>;
}

/** How a node ended. */
export type NodeOutcome =
  | { state: 'cached' | 'done'; record: NodeRecord }
  | { state: 'failed'; error: string; code: string }
  | { state: 'skipped'; reason: string };

/** What an executor reports while it works; the CLI's display and trackers listen here. */
export interface ExecutionEvents {
  nodeStarted?(node: PlanNode): void;
  nodeProgress?(node: PlanNode, update: StageProgress): void;
  nodeLog?(node: PlanNode, message: string): void;
  nodeFinished?(node: PlanNode, outcome: NodeOutcome): void;
}

export type TrialState = 'done' | 'stopped' | 'failed' | 'cancelled' | 'skipped' | 'pending';

/** One trial's standing: its grid values, state, merged stage metrics and objective. */
export interface TrialRow {
  id: string;
  label: string;
  params: Record<string, unknown>;
  state: TrialState;
  objective: number | undefined;
  metrics: Record<string, number>;
  error?: string;
  /** Why early stopping ended the trial (rule and numbers), when it did. */
  stopped?: string;
  best: boolean;
}
