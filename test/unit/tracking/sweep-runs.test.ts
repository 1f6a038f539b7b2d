import { describe, expect, it } from 'vitest';
import { foldJournal, type JournalRecord, type RunView } from '../../../src/tracking/journal-records.js';
import type { NodeFolder } from '../../../src/tracking/node-folder.js';
import { flattenParams, systemTags } from '../../../src/tracking/run-entries.js';
import { sweepRunId } from '../../../src/tracking/run-identity.js';
import { SweepRuns } from '../../../src/tracking/sweep-runs.js';
import type { ExecutionEvents, Plan, PlanNode } from '../../../src/types.js';
import { FakeSweep, nodeRecord, playSweep, trialRow, type PlayOptions } from '../../helpers/plan-builder.js';

/** Shared ingest and split, then train → evaluate → visualize per trial; two trials on the learning rate. */
const plan = new FakeSweep({ metric: 'accuracy', goal: 'maximize' })
  .share('ingest', { dataDir: '/data/face-mask', imageSize: 16 })
  .share('split')
  .stage('train', { augment: { zoom: 0.1 } })
  .stage('evaluate', { digits: 3 })
  .stage('visualize', { width: 720 })
  .addTrial({ 'train.lr': 0.1 })
  .addTrial({ 'train.lr': 0.01 })
  .plan();

const model = (node: PlanNode) => ({
  root: `/ws/nodes/${node.cacheKey}/model`,
  files: ['classes.json', 'model.json', 'weights.bin'],
  classes: ['a', 'b'],
  shape: [2, 2, 3] as [number, number, number],
  family: 'basic-cnn',
  tfjsVersion: '4.22.0',
  preprocess: 'unit',
});
const part = (name: string, counts: number[]) => ({
  part: name,
  digest: `${name}-digest`,
  classes: ['a', 'b'],
  counts,
  shape: [2, 2, 3] as [number, number, number],
});

/** What a node folder would give: a report; train's two epochs and model; split's data sets. */
const folderOf = (node: PlanNode): NodeFolder => ({
  root: `/ws/nodes/${node.cacheKey}`,
  artifacts: ['report.txt'],
  history: node.stage === 'train' ? [1, 2].map((epoch) => ({ epoch, metrics: { loss: 1 / epoch } })) : [],
  ...(node.stage === 'train' ? { model: model(node) } : {}),
  ...(node.stage === 'split' ? { datasets: () => [part('train', [3, 2]), part('val', [1, 1])] } : {}),
});

const summary = (node: PlanNode): Record<string, number> =>
  node.stage === 'train' ? { loss: 0.5, best_val_accuracy: 0.7 } : { accuracy: node.trial === 't01' ? 0.9 : 0.8 };

interface Invocation {
  play?: PlayOptions;
  experiment?: string;
  workspace?: string | undefined;
  onPlan?: Plan;
  clock?: { t: number };
  report?: { root: string; files: string[] };
  /** Trials whose row says they were stopped early. */
  stopped?: ReadonlySet<string>;
}

/** One invocation of the sweep: its events played through SweepRuns on top of what was journaled before. */
function invoke(journaled: JournalRecord[], options: Invocation = {}) {
  const clock = options.clock ?? { t: 1000 };
  const onPlan = options.onPlan ?? plan;
  const runs = new SweepRuns(
    {
      plan: onPlan,
      sweepName: 's',
      experiment: options.experiment ?? 'exp',
      workspace: 'workspace' in options ? options.workspace : 'ws-1',
      systemTags: { 'mlflow.user': 'ann' },
      parentTags: { 'pipeline.objective': 'accuracy (maximize)' },
      sweepFacts: { grid: {} },
      host: 'box',
    },
    foldJournal(journaled),
    () => clock.t++,
  );
  const records: JournalRecord[] = [];
  playSweep(eventsOf(runs, records), onPlan, { metrics: summary, ...options.play });
  const failed = options.play?.failed ?? new Set();
  const rows = onPlan.trials.map((trial, i) =>
    trialRow({
      id: trial.id,
      params: trial.params,
      state: onPlan.nodes.some((n) => n.trial === trial.id && failed.has(n.id))
        ? 'failed'
        : options.stopped?.has(trial.id)
          ? 'stopped'
          : 'done',
      objective: 0.9 - i / 10,
      best: i === 0,
    }),
  );
  records.push(...runs.finish(rows, options.report));
  return { records, runs, all: [...journaled, ...records] };
}

function eventsOf(runs: SweepRuns, records: JournalRecord[]): ExecutionEvents {
  return {
    nodeStarted: (node) => records.push(...runs.started(node)),
    nodeProgress: (node, update) => records.push(...runs.progress(node, update)),
    nodeFinished: (node, outcome) =>
      records.push(...runs.finished(node, outcome, 'record' in outcome ? folderOf(node) : undefined)),
  };
}

const views = (records: JournalRecord[]): RunView[] => [...foldJournal(records).values()];
const trialRuns = (records: JournalRecord[]) => views(records).filter((view) => view.parent);

describe('SweepRuns', () => {
  it("logs the sweep's HTML report on the parent run, before the parent ends", () => {
    const { records, runs } = invoke([], { report: { root: '/ws/report', files: ['index.html'] } });
    const [parent] = views(records);
    expect(parent?.files).toContain('report/index.html');
    const at = records.findIndex((r) => r.t === 'files' && r.id === runs.parentId && r.prefix === 'report');
    const end = records.findIndex((r) => r.t === 'end' && r.id === runs.parentId);
    expect(records[at]).toMatchObject({ root: '/ws/report', files: ['index.html'], prefix: 'report' });
    expect(at).toBeLessThan(end);
    expect(views(invoke([]).records)[0]?.files).not.toContain('report/index.html');
  });

  it('journals one parent holding the shared stages and a nested run per trial with few tags', () => {
    const { records, runs } = invoke([]);
    const [parent, t01, t02] = views(records);
    expect(views(records).map((v) => [v.name, v.parent])).toEqual([
      ['s', undefined],
      ['lr=0.1', runs.parentId],
      ['lr=0.01', runs.parentId],
    ]);
    expect(parent?.params).toEqual({ 'ingest.dataDir': '/data/face-mask', 'ingest.imageSize': '16' });
    expect(parent?.tags).toEqual({
      'mlflow.user': 'ann',
      'pipeline.sweep': 's',
      'pipeline.objective': 'accuracy (maximize)',
      'pipeline.best.trial': 't01',
      'pipeline.best.runId': { ref: t01?.id },
    });
    expect(parent?.metrics['best.accuracy']?.map((p) => p.value)).toEqual([0.9]);
    expect(t01?.tags).toEqual({
      'mlflow.user': 'ann',
      'pipeline.trial': 't01',
      'pipeline.sweep': 's',
      'pipeline.backend': 'cpu',
    });
    expect(t01?.files).toEqual(['train/report.txt', 'evaluate/report.txt', 'visualize/report.txt', 'pipeline.json']);
    expect([parent?.status, t01?.status, t02?.status]).toEqual(['FINISHED', 'FINISHED', 'FINISHED']);
  });

  it('ends a trial stopped early FINISHED, tagged with the rule and numbers that stopped it', () => {
    const reason = 'asha rung 1: accuracy 0.5 below cutoff 0.8 (top 1/3 of 1 earlier trials)';
    const stoppedTrain = (node: PlanNode) =>
      node.id === 't02/train' ? { summary: { epochs: 1, earlyStop: reason } } : {};
    const { records } = invoke([], { play: { record: stoppedTrain }, stopped: new Set(['t02']) });
    const [parent, t01, t02] = views(records);
    expect(t02?.tags['pipeline.early_stop']).toBe(reason);
    expect(t01?.tags).not.toHaveProperty('pipeline.early_stop');
    expect([parent?.status, t01?.status, t02?.status]).toEqual(['FINISHED', 'FINISHED', 'FINISHED']);
  });

  it('logs params without presentation ones, epochs from step 0, and no copies of the last epoch', () => {
    const [t01] = trialRuns(invoke([]).records);
    expect(t01?.params).toEqual({ 'train.lr': '0.1', 'train.augment.zoom': '0.1' });
    expect(t01?.metrics.loss?.map((p) => [p.step, p.value])).toEqual([
      [0, 1],
      [1, 0.5],
    ]);
    expect(Object.keys(t01?.metrics ?? {}).sort()).toEqual([
      'evaluate.accuracy',
      'loss',
      'train.best_val_accuracy',
      'visualize.accuracy',
    ]);
  });

  it('ends each trial run when its last stage ends, with its own time, before the parent', () => {
    const { records, runs } = invoke([]);
    const ends = records.flatMap((r) => (r.t === 'end' ? [[r.id, r.time]] : []));
    expect(ends.map(([id]) => id)).toEqual([`${runs.parentId}/t01`, `${runs.parentId}/t02`, runs.parentId]);
    const [t01End, t02End, parentEnd] = ends.map(([, time]) => Number(time));
    expect(t01End).toBeLessThan(t02End ?? 0);
    expect(t02End).toBeLessThan(parentEnd ?? 0);
    // t01 ends right after its visualize stage, before t02's has logged anything.
    const at = (match: (r: JournalRecord) => boolean) => records.findIndex(match);
    const t01Ended = at((r) => r.t === 'end' && r.id.endsWith('/t01'));
    expect(t01Ended).toBeGreaterThan(at((r) => r.t === 'files' && r.node === 'key-t01-visualize'));
    expect(t01Ended).toBeLessThan(at((r) => r.t === 'files' && r.node === 'key-t02-visualize'));
  });

  it("logs the model, the split's data sets, and links evaluation metrics to both", () => {
    const [t01] = trialRuns(invoke([]).records);
    const [logged] = t01?.models.values() ?? [];
    expect(logged).toMatchObject({ name: 's-t01', type: 'tfjs', step: 1, params: t01?.params });
    expect(t01?.inputs.map((input) => [input.name, input.context, input.digest])).toEqual([
      ['face-mask-train', 'train', 'train-digest'],
      ['face-mask-val', 'val', 'val-digest'],
    ]);
    expect(JSON.parse(t01?.inputs[0]?.profile ?? '')).toEqual({ num_rows: 5, classes: { a: 3, b: 2 } });
    expect(JSON.parse(t01?.inputs[0]?.source ?? '')).toEqual({ uri: '/data/face-mask' });
    expect(t01?.metrics['evaluate.accuracy']?.[0]).toMatchObject({
      model: logged?.key,
      dataset: { name: 'face-mask-val', digest: 'val-digest' },
    });
    expect(t01?.metrics.loss?.[0]?.model).toBeUndefined();
  });

  it('derives run ids from the workspace and the plan: the same sweep again, fully cached, journals nothing', () => {
    const first = invoke([]);
    const again = invoke(first.all, { play: { cached: new Set(plan.nodes.map((n) => n.id)) } });
    expect(again.runs.parentId).toBe(first.runs.parentId);
    expect(again.records).toEqual([]);
    expect(invoke([], { experiment: 'other' }).runs.parentId).not.toBe(first.runs.parentId);
    expect(invoke([], { workspace: 'ws-2' }).runs.parentId).not.toBe(first.runs.parentId);
    // A journal from before workspace identities keeps the ids its runs have.
    const keys = plan.nodes.map((n) => n.cacheKey);
    expect(invoke([], { workspace: undefined }).runs.parentId).toBe(sweepRunId('s', 'exp', keys, undefined));
  });

  it('a rerun opens attempt #2, named so, with cached epochs spread over their training time and the best updated', () => {
    const first = invoke([]);
    const cached = new Set(['ingest', 'split', 't01/train', 't02/train', 't02/evaluate', 't02/visualize']);
    const hour = (h: number) => new Date(Date.UTC(2025, 0, 1, h)).toISOString();
    const record = (node: PlanNode) => (node.stage === 'train' ? { startedAt: hour(1), finishedAt: hour(3) } : {});
    const { records } = invoke(first.all, { play: { cached, record } });
    const rerun = views(records).find((v) => v.id.endsWith('#2'));
    const before = trialRuns(first.records)[0];
    expect(rerun).toMatchObject({ id: `${before?.id}#2`, name: 'lr=0.1 #2' });
    expect(rerun?.tags).toMatchObject({ 'pipeline.rerunOf': { ref: before?.id }, 'pipeline.attempt': '2' });
    expect(rerun?.tags['pipeline.cached']).toBe('train');
    expect(rerun?.metrics.loss?.map((p) => [p.step, p.timestamp])).toEqual([
      [0, Date.parse(hour(2))],
      [1, Date.parse(hour(3))],
    ]);
    expect([...(rerun?.models.keys() ?? [])]).toEqual([...(before?.models.keys() ?? [])]);
    const parent = foldJournal(first.all.concat(records)).get(first.runs.parentId);
    expect(parent?.tags['pipeline.best.runId']).toEqual({ ref: rerun?.id });
    expect(views(first.all.concat(records))).toHaveLength(4);
  });

  it('a sweep interrupted in training and run again continues the same run: reopened, every step once', () => {
    const clock = { t: 1000 };
    const journaled: JournalRecord[] = [];
    const runs = new SweepRuns(
      {
        plan,
        sweepName: 's',
        experiment: 'exp',
        workspace: 'w',
        systemTags: {},
        parentTags: {},
        sweepFacts: {},
        host: 'h',
      },
      foldJournal([]),
      () => clock.t++,
    );
    const events = eventsOf(runs, journaled);
    const node = (id: string) => plan.nodes.find((n) => n.id === id) as PlanNode;
    for (const id of ['ingest', 'split'])
      events.nodeFinished?.(node(id), { state: 'cached', record: nodeRecord(node(id)) });
    events.nodeStarted?.(node('t01/train'));
    events.nodeProgress?.(node('t01/train'), { epoch: 1, metrics: { loss: 1 } });
    for (const n of plan.nodes.filter((n) => n.trial !== null)) {
      events.nodeFinished?.(n, { state: 'skipped', reason: 'cancelled' });
    }
    journaled.push(...runs.finish(plan.trials.map((t) => trialRow({ id: t.id, state: 'cancelled' }))));
    expect(trialRuns(journaled).map((v) => v.status)).toEqual(['KILLED']);
    const resumed = invoke(journaled, { workspace: 'w', play: { cached: new Set(['ingest', 'split']) } });
    const t01 = foldJournal(resumed.all).get(`${runs.parentId}/t01`);
    expect(resumed.records.filter((r) => r.t === 'reopen').map((r) => r.id)).toEqual([t01?.id, runs.parentId]);
    expect(trialRuns(resumed.all)).toHaveLength(2);
    expect(t01).toMatchObject({ status: 'FINISHED', name: 'lr=0.1' });
    expect(t01?.metrics.loss?.map((p) => p.step)).toEqual([0, 1]);
  });

  it('a failed stage tags its error and its trial ends FAILED; a retry reopens the run and drops the error', () => {
    const short: Plan = { ...plan, nodes: plan.nodes.filter((n) => n.stage !== 'visualize') };
    const first = invoke([], { onPlan: short, play: { failed: new Set(['t02/evaluate']) } });
    const [parent, t01, t02] = views(first.records);
    expect(t02?.tags['pipeline.error']).toBe('evaluate: boom');
    expect([parent?.status, t01?.status, t02?.status]).toEqual(['FAILED', 'FINISHED', 'FAILED']);
    const cached = new Set(short.nodes.filter((n) => n.id !== 't02/evaluate').map((n) => n.id));
    const retry = invoke(first.all, { onPlan: short, play: { cached } });
    expect(trialRuns(retry.all)).toHaveLength(2);
    const after = foldJournal(retry.all).get(t02?.id ?? '');
    expect(after).toMatchObject({ status: 'FINISHED' });
    expect(after?.tags['pipeline.error']).toBeUndefined();
    expect(retry.records).toContainEqual(expect.objectContaining({ t: 'reopen', clearTags: ['pipeline.error'] }));
  });

  it('an attempt reopened and then superseded by a rerun of a logged stage closes again as it was', () => {
    const first = invoke([], { play: { failed: new Set(['t02/evaluate']) } });
    const t02 = trialRuns(first.records)[1];
    const cached = new Set(
      plan.nodes.filter((n) => !['t02/evaluate', 't02/visualize'].includes(n.id)).map((n) => n.id),
    );
    const retry = invoke(first.all, { play: { cached } });
    const runs = foldJournal(retry.all);
    expect(runs.get(t02?.id ?? '')?.status).toBe('FAILED');
    expect(runs.get(`${t02?.id ?? ''}#2`)).toMatchObject({ status: 'FINISHED', name: 'lr=0.01 #2' });
  });

  it('a stage shared by some trials is logged on the parent under an MLflow-safe name', () => {
    const partly = new FakeSweep().stage('train').addTrial({}).plan();
    const node = partly.nodes[0] as PlanNode;
    const shared: Plan = { ...partly, nodes: [{ ...node, id: 'train@1a2b', trial: null, trials: ['t01'] }] };
    const { records, runs } = invoke([], { onPlan: shared });
    const parent = foldJournal(records).get(runs.parentId);
    expect(parent?.metrics['train_1a2b.loss']?.map((p) => p.step)).toEqual([0, 1]);
    expect(parent?.metrics['train_1a2b.best_val_accuracy']).toHaveLength(1);
    expect([...(parent?.models.values() ?? [])].map((m) => m.name)).toEqual(['s-train_1a2b']);
  });
});

describe('run entries', () => {
  it('flattens nested params by dot-path, writing arrays and other values as JSON', () => {
    expect(flattenParams('train', { lr: 0.1, filters: [2, 4], augment: { zoom: 0.1, flip: true }, o: null })).toEqual({
      'train.lr': '0.1',
      'train.filters': '[2,4]',
      'train.augment.zoom': '0.1',
      'train.augment.flip': 'true',
      'train.o': 'null',
    });
  });

  it("MLflow's system tags name the user, the command and the git commit, branch and repository", () => {
    const facts = { command: 'pipeline run s.yaml', user: 'ann' };
    expect(systemTags(facts)).toEqual({
      'mlflow.user': 'ann',
      'mlflow.source.name': 'pipeline run s.yaml',
      'mlflow.source.type': 'LOCAL',
    });
    const git = { ...facts, gitCommit: 'f00', gitBranch: 'main', gitRepoUrl: 'https://h/r.git' };
    expect(systemTags(git)).toMatchObject({
      'mlflow.source.git.commit': 'f00',
      'mlflow.source.git.branch': 'main',
      'mlflow.source.git.repoURL': 'https://h/r.git',
    });
  });
});
