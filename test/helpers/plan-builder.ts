import type { ExecutionEvents, NodeRecord, Plan, PlanNode, Trial, TrialRow } from '../../src/types.js';

const KINDS = ['ingest', 'synthesize', 'split', 'train', 'evaluate', 'visualize'];

/**
 * A plan node named as the planner names them: `stage` for a shared node, `trial/stage` for a trial's own one.
 * The stage is the id's last segment and its kind (`train` when the stage is not a kind's name); the cache key is
 * `key-<id>` with `/` as `-`.
 */
export function planNode(id: string, overrides: Partial<PlanNode> = {}): PlanNode {
  const slash = id.lastIndexOf('/');
  const stage = id.slice(slash + 1);
  const trial = slash < 0 ? null : id.slice(0, slash);
  return {
    id,
    stage,
    kind: (KINDS.includes(stage) ? stage : 'train') as PlanNode['kind'],
    trial,
    trials: trial === null ? [] : [trial],
    needs: [],
    cacheKey: `key-${id.replaceAll('/', '-')}`,
    params: {},
    resources: { gpu: 0 },
    ...overrides,
  };
}

/** The stored record of a node that completed: its key, stage and params, no metrics unless given. */
export function nodeRecord(node: PlanNode, overrides: Partial<NodeRecord> = {}): NodeRecord {
  return {
    cacheKey: node.cacheKey,
    stage: node.stage,
    kind: node.kind,
    params: node.params,
    metrics: {},
    summary: {},
    startedAt: '',
    finishedAt: '',
    durationMs: 5,
    ...overrides,
  };
}

/** A finished trial's row: done, no objective, not the best, unless given. */
export function trialRow(overrides: Partial<TrialRow> = {}): TrialRow {
  return {
    id: 't01',
    label: '',
    params: {},
    state: 'done',
    objective: undefined,
    metrics: {},
    best: false,
    ...overrides,
  };
}

/**
 * A sweep plan built stage by stage, the way `planSweep` lays it out: stages run in the order they are added, each
 * needing the one before; a shared stage is one node for every trial, any other stage one node per trial.
 * ```ts
 * const plan = new FakeSweep().share('ingest').stage('train', { epochs: 2 }).addTrial({ 'train.lr': 0.1 }).plan();
 * ```
 */
export class FakeSweep {
  private readonly stages: { name: string; shared: boolean; params: Record<string, unknown> }[] = [];
  private readonly trials: Trial[] = [];

  constructor(private readonly objective: Plan['objective'] = { metric: 'accuracy', goal: 'maximize' }) {}

  /** Adds a stage every trial shares (one node, `trial` null). */
  share(stage: string, params: Record<string, unknown> = {}): this {
    this.stages.push({ name: stage, shared: true, params });
    return this;
  }

  /** Adds a stage each trial runs on its own, with params common to all trials. */
  stage(stage: string, params: Record<string, unknown> = {}): this {
    this.stages.push({ name: stage, shared: false, params });
    return this;
  }

  /** Adds a trial `tNN` with grid values keyed `stage.param`; they become the params of that trial's nodes. */
  addTrial(params: Record<string, unknown>): this {
    this.trials.push({ id: `t${String(this.trials.length + 1).padStart(2, '0')}`, params });
    return this;
  }

  /** The plan: nodes in dependency order (shared ones once), trials in the order they were added. */
  plan(): Plan {
    const trialIds = this.trials.map((trial) => trial.id);
    const nodes: PlanNode[] = [];
    for (const [index, stage] of this.stages.entries()) {
      const before = this.stages[index - 1];
      const needs = (trial: string) => (before ? [before.shared ? before.name : `${trial}/${before.name}`] : []);
      if (stage.shared) {
        nodes.push(planNode(stage.name, { trials: trialIds, needs: needs(''), params: stage.params }));
        continue;
      }
      for (const trial of this.trials) {
        const params = { ...stage.params, ...gridParams(trial, stage.name) };
        nodes.push(planNode(`${trial.id}/${stage.name}`, { needs: needs(trial.id), params }));
      }
    }
    return {
      sweep: 'sweep.yaml',
      pipelineFile: 'pipeline.yaml',
      trials: this.trials,
      nodes,
      objective: this.objective,
    };
  }
}

function gridParams(trial: Trial, stage: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(trial.params)
      .filter(([key]) => key.startsWith(`${stage}.`))
      .map(([key, value]) => [key.slice(stage.length + 1), value]),
  );
}

/** How {@link playSweep} ends each node: the default is `done`. */
export interface PlayOptions {
  cached?: ReadonlySet<string>;
  failed?: ReadonlySet<string>;
  /** Summary metrics of a node's record (default `{ accuracy: 0.8 }`). */
  metrics?: (node: PlanNode) => Record<string, number>;
  /** Other fields of a node's record (e.g. its start and finish times). */
  record?: (node: PlanNode) => Partial<NodeRecord>;
  /** Epochs a `train` node reports progress for (default 2: loss 1, then 0.5). */
  epochs?: number;
}

/**
 * Plays a plan's events in dependency order, as an executor reports them: a cached node only finishes; any other
 * starts, a `train` node reports each epoch's loss, and it finishes done (with its record) or failed.
 */
export function playSweep(events: ExecutionEvents, plan: Plan, options: PlayOptions = {}): void {
  for (const node of plan.nodes) {
    const metrics = options.metrics?.(node) ?? { accuracy: 0.8 };
    const record = nodeRecord(node, { metrics, backend: 'cpu', ...options.record?.(node) });
    if (options.cached?.has(node.id)) {
      events.nodeFinished?.(node, { state: 'cached', record });
      continue;
    }
    events.nodeStarted?.(node);
    if (node.stage === 'train') {
      for (let epoch = 1; epoch <= (options.epochs ?? 2); epoch++) {
        events.nodeProgress?.(node, { epoch, metrics: { loss: 1 / epoch } });
      }
    }
    if (options.failed?.has(node.id))
      events.nodeFinished?.(node, { state: 'failed', error: 'boom', code: 'STAGE_FAILED' });
    else events.nodeFinished?.(node, { state: 'done', record });
  }
}
