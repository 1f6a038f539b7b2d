import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { NodeOutcome } from '../../src/orchestrator/executor.js';
import type { TrialRow } from '../../src/orchestrator/trial-results.js';
import { WorkspaceStore, type NodeRecord } from '../../src/store/workspace-store.js';
import { BATCH_LIMITS, chunkBatch } from '../../src/tracking/chunk-batch.js';
import { JournalWriter, journalPath, readJournal, type JournalRecord } from '../../src/tracking/journal.js';
import { foldJournal } from '../../src/tracking/journal-view.js';
import { MlflowClient } from '../../src/tracking/mlflow-client.js';
import { normalizeTrackingUri } from '../../src/tracking/mlflow-request.js';
import { selectArtifacts } from '../../src/tracking/node-entries.js';
import { createSweepTracker } from '../../src/tracking/sweep-tracker.js';
import { syncJournal } from '../../src/tracking/sync-journal.js';
import type { Plan, PlanNode } from '../../src/types.js';
import { createFakeMlflow } from '../helpers/mlflow-server.js';
import { tempDir, writeFiles } from '../helpers/temp-project.js';

describe('journal', () => {
  it('recovers up to the last complete record after a torn write, and cuts the torn tail before appending', () => {
    const file = path.join(tempDir(), 'journal.jsonl');
    const writer = new JournalWriter(file);
    writer.append([{ t: 'end', id: 'a', status: 'FINISHED', time: 1 }]);
    appendFileSync(file, '{"t":"log","id":"a","met');
    expect(readJournal(file)).toMatchObject({ records: [{ id: 'a' }], droppedBytes: 24 });
    new JournalWriter(file).append([{ t: 'end', id: 'b', status: 'FAILED', time: 2 }]);
    expect(readJournal(file).records.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('a damaged line before the end is a one-line STORE_INVALID error naming the line', () => {
    const file = path.join(tempDir(), 'journal.jsonl');
    writeFileSync(file, '{"t":"end","id":"a"}\nnot json\n{"t":"end","id":"b"}\n');
    expect(() => readJournal(file)).toThrow(/journal\.jsonl:2: not a tracking record/);
  });
});

describe('chunkBatch', () => {
  it("splits by MLflow's per-request limits and keeps each kind in order", () => {
    const metrics = Array.from({ length: 2500 }, (_, i) => ({ key: 'm', value: i, step: i, timestamp: 0 }));
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: 'x'.repeat(7000) }));
    const tags = Array.from({ length: 150 }, (_, i) => ({ key: `t${i}`, value: 'v' }));
    const chunks = chunkBatch({ metrics, params, tags });
    for (const chunk of chunks) {
      expect(chunk.metrics.length).toBeLessThanOrEqual(BATCH_LIMITS.metrics);
      expect(chunk.params.length).toBeLessThanOrEqual(BATCH_LIMITS.params);
      expect(chunk.tags.length).toBeLessThanOrEqual(BATCH_LIMITS.tags);
      expect(chunk.metrics.length + chunk.params.length + chunk.tags.length).toBeLessThanOrEqual(1000);
      expect(Buffer.byteLength(JSON.stringify({ run_id: 'x'.repeat(32), ...chunk }))).toBeLessThan(1_000_000);
      for (const param of chunk.params) expect(param.value.length).toBeLessThanOrEqual(6000);
    }
    expect(chunks.flatMap((c) => c.metrics).map((m) => m.step)).toEqual(metrics.map((m) => m.step));
    expect(chunks.flatMap((c) => c.params)).toHaveLength(250);
    expect(chunks.flatMap((c) => c.tags)).toHaveLength(150);
  });
});

describe('MLflow client', () => {
  it('accepts only http(s) tracking URIs', () => {
    expect(normalizeTrackingUri('http://127.0.0.1:5000/')).toBe('http://127.0.0.1:5000');
    expect(() => normalizeTrackingUri('file:///tmp/mlruns')).toThrow(/only http\(s\):\/\/ MLflow servers/);
    expect(() => normalizeTrackingUri('127.0.0.1:5000x')).toThrow();
  });

  it("retries 429 and 5xx, then surfaces MLflow's error_code and message", async () => {
    const statuses = [503, 429, 200];
    const calls: string[] = [];
    const fakeFetch = ((url: string) => {
      calls.push(url);
      return Promise.resolve(new Response('{}', { status: statuses.shift() ?? 200 }));
    }) as unknown as typeof fetch;
    const client = new MlflowClient({ uri: 'http://mlflow.test', backoffMs: 1, fetch: fakeFetch });
    await client.setTag('r1', 'k', 'v');
    expect(calls).toHaveLength(3);
    const body = JSON.stringify({ error_code: 'INVALID_PARAMETER_VALUE', message: 'Changing param values' });
    const refusing = (() => Promise.resolve(new Response(body, { status: 400 }))) as unknown as typeof fetch;
    const strict = new MlflowClient({ uri: 'http://mlflow.test', backoffMs: 1, fetch: refusing });
    await expect(strict.setTag('r1', 'k', 'v')).rejects.toMatchObject({
      code: 'TRACKING_UNAVAILABLE',
      kind: 'rejected',
      message: expect.stringMatching(/answered 400 INVALID_PARAMETER_VALUE .*: Changing param values/) as string,
    });
  });

  it('a refused connection is TRACKING_UNAVAILABLE after the retries, and the message says what to do', async () => {
    let calls = 0;
    const refused = (() => {
      calls++;
      return Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));
    }) as unknown as typeof fetch;
    const client = new MlflowClient({ uri: 'http://127.0.0.1:1', retries: 2, backoffMs: 1, fetch: refused });
    await expect(client.ensureExperiment('x')).rejects.toThrow(/unreachable \(ECONNREFUSED\) — start it/);
    expect(calls).toBe(3);
  });

  it('derives the proxy path from mlflow-artifacts: URIs and refuses plain artifact locations', () => {
    const client = new MlflowClient({ uri: 'http://h:1' });
    expect(client.proxyPath('mlflow-artifacts:/1/abc/artifacts')).toBe('1/abc/artifacts');
    expect(client.proxyPath('mlflow-artifacts://h:1/1/abc/artifacts')).toBe('1/abc/artifacts');
    expect(() => client.proxyPath('/srv/mlruns/1/abc/artifacts')).toThrow(/--serve-artifacts/);
  });
});

/** A two-trial plan (shared ingest, then train → evaluate per trial) with outputs in a temp workspace. */
function fixture() {
  const store = new WorkspaceStore(tempDir());
  const node = (id: string, stage: string, trial: string | null, needs: string[] = []): PlanNode => ({
    id,
    stage,
    kind: stage as PlanNode['kind'],
    trial,
    trials: trial ? [trial] : ['t01', 't02'],
    needs,
    cacheKey: `key-${id.replace('/', '-')}`,
    params: stage === 'train' ? { lr: trial === 't01' ? 0.1 : 0.01, augment: { zoom: 0.1 } } : {},
    resources: { gpu: 0 },
  });
  const nodes = [
    node('ingest', 'ingest', null),
    node('t01/train', 'train', 't01', ['ingest']),
    node('t01/evaluate', 'evaluate', 't01', ['t01/train']),
    node('t02/train', 'train', 't02', ['ingest']),
    node('t02/evaluate', 'evaluate', 't02', ['t02/train']),
  ];
  for (const n of nodes) {
    writeFiles(store.nodeDir(n.cacheKey), { 'result.json': '{}', 'report.txt': n.id, 'dataset.bin': 'x' });
    writeFiles(store.nodeDir(n.cacheKey), { 'dataset.json': '{}', 'model/weights.bin': 'w' });
  }
  const plan: Plan = {
    sweep: 's.yaml',
    pipelineFile: 'p.yaml',
    trials: [
      { id: 't01', params: { 'train.lr': 0.1 } },
      { id: 't02', params: { 'train.lr': 0.01 } },
    ],
    nodes,
    objective: { metric: 'accuracy', goal: 'maximize' },
  };
  const record = (n: PlanNode, metrics: Record<string, number>): NodeRecord => ({
    cacheKey: n.cacheKey,
    stage: n.stage,
    kind: n.kind,
    params: n.params,
    metrics,
    summary: {},
    startedAt: '',
    finishedAt: '',
    durationMs: 5,
    backend: 'cpu',
  });
  const rows: TrialRow[] = plan.trials.map((t, i) => ({
    id: t.id,
    label: '',
    params: t.params,
    state: 'done',
    objective: 0.9 - i / 10,
    metrics: {},
    best: i === 0,
  }));
  return { store, plan, nodes, record, rows };
}

/** Runs the fixture's sweep through a tracker: executed nodes (or `cached` ones), train reporting 2 epochs. */
function runSweep(f: ReturnType<typeof fixture>, cached: Set<string>, clock = { t: 1000 }): void {
  const tracker = createSweepTracker({
    plan: f.plan,
    store: f.store,
    sweepName: 's',
    experiment: 'exp',
    parentTags: { 'pipeline.grid': '{}' },
    now: () => clock.t++,
  });
  for (const node of f.nodes) {
    const outcome = (state: 'done' | 'cached'): NodeOutcome => ({ state, record: f.record(node, { accuracy: 0.8 }) });
    if (cached.has(node.id)) {
      tracker.nodeFinished(node, outcome('cached'));
      continue;
    }
    tracker.nodeStarted(node);
    if (node.stage === 'train') {
      for (const epoch of [1, 2]) tracker.nodeProgress(node, { epoch, metrics: { loss: 1 / epoch } });
    }
    tracker.nodeFinished(node, outcome('done'));
  }
  tracker.finish(f.rows);
}

describe('sweep tracker', () => {
  it('journals one parent with the shared stage and a nested run per trial; a cached re-run adds nothing', () => {
    const f = fixture();
    runSweep(f, new Set());
    const views = [...foldJournal(readJournal(journalPath(f.store.root)).records).values()];
    expect(views.map((v) => [v.name, v.parent === undefined])).toEqual([
      ['s', true],
      ['lr=0.1', false],
      ['lr=0.01', false],
    ]);
    const [parent, t01] = views;
    expect(parent?.metrics['ingest.accuracy']?.map((p) => p.step)).toEqual([0]);
    expect(parent?.tags['pipeline.best.trial']).toBe('t01');
    expect(t01?.params).toMatchObject({ 'train.lr': '0.1', 'train.augment.zoom': '0.1' });
    expect(t01?.metrics.loss?.map((p) => p.step)).toEqual([1, 2]);
    expect(t01?.metrics['evaluate.accuracy']).toHaveLength(1);
    expect(t01?.tags['pipeline.upstream.ingest.runId']).toEqual({ ref: parent?.id });
    expect(t01?.files).toEqual([
      'train/model/weights.bin',
      'train/report.txt',
      'evaluate/model/weights.bin',
      'evaluate/report.txt',
    ]);
    expect(t01?.status).toBe('FINISHED');
    const before = readFileSync(journalPath(f.store.root), 'utf8');
    runSweep(f, new Set(f.nodes.map((n) => n.id)));
    expect(readFileSync(journalPath(f.store.root), 'utf8')).toBe(before);
  });

  it('a stage run again opens a new attempt tagged pipeline.rerunOf, holding the cached stages too', () => {
    const f = fixture();
    runSweep(f, new Set());
    runSweep(f, new Set(['ingest', 't01/train', 't02/train', 't02/evaluate']));
    const views = [...foldJournal(readJournal(journalPath(f.store.root)).records).values()];
    const rerun = views.at(-1);
    expect(rerun?.id).toMatch(/\/t01#2$/);
    expect(rerun?.tags['pipeline.rerunOf']).toEqual({ ref: views[1]?.id });
    expect(rerun?.tags['pipeline.train.cached']).toBe('true');
    expect(rerun?.metrics['evaluate.accuracy']).toHaveLength(1);
    expect(views).toHaveLength(4);
  });
});

describe('syncJournal', () => {
  it('a server that fails mid-sync loses and duplicates nothing once synced again', async () => {
    const f = fixture();
    runSweep(f, new Set());
    const fake = createFakeMlflow();
    fake.failAfter = 4;
    const client = new MlflowClient({ uri: 'http://fake', retries: 0, fetch: fake.fetch });
    await expect(syncJournal({ workspaceRoot: f.store.root, client })).rejects.toThrow(/unreachable/);
    fake.failAfter = Infinity;
    const report = await syncJournal({ workspaceRoot: f.store.root, client });
    expect(report.rejected).toEqual([]);
    expect(fake.runs.size).toBe(3);
    const journal = readJournal(journalPath(f.store.root)).records;
    const expected = journal.flatMap((r) => (r.t === 'log' ? (r.metrics ?? []) : [])).length;
    expect([...fake.runs.values()].reduce((n, run) => n + run.metrics.length, 0)).toBe(expected);
    expect((await syncJournal({ workspaceRoot: f.store.root, client })).sent).toBe(0);
    const t01 = [...fake.runs.values()].find((run) => run.name === 'lr=0.1');
    expect(t01?.tags['mlflow.parentRunId']).toBe([...fake.runs.values()].find((run) => run.name === 's')?.id);
    expect(t01?.artifacts).toContain('evaluate/report.txt');
  });

  it('a refused record is set aside with its message while the rest goes on', async () => {
    const f = fixture();
    runSweep(f, new Set());
    const runId = readJournal(journalPath(f.store.root)).records.find((r) => r.t === 'run' && r.parent)?.id ?? '';
    const extra: JournalRecord[] = [
      { t: 'log', id: runId, params: { 'train.lr': 'changed' } },
      { t: 'log', id: runId, metrics: [{ key: 'late', value: 1, step: 3, timestamp: 1 }] },
    ];
    new JournalWriter(journalPath(f.store.root)).append(extra);
    const fake = createFakeMlflow();
    const client = new MlflowClient({ uri: 'http://fake', retries: 0, fetch: fake.fetch });
    const report = await syncJournal({ workspaceRoot: f.store.root, client });
    expect(report.rejected).toHaveLength(1);
    expect(report.rejected[0]?.error).toMatch(/INVALID_PARAMETER_VALUE/);
    expect([...fake.runs.values()].find((run) => run.name === 'lr=0.1')?.metrics.at(-1)?.key).toBe('late');
  });
});

describe('selectArtifacts', () => {
  it('keeps reports, plots and the model; leaves out result.json and data sets', () => {
    const dir = writeFiles(tempDir(), {
      'result.json': '{}',
      'train.bin': '',
      'train.json': '{}',
      'split.json': '{}',
      'model/model.json': '{}',
      'model/weights.bin': '',
    });
    mkdirSync(path.join(dir, 'empty'));
    expect(selectArtifacts(dir)).toEqual(['model/model.json', 'model/weights.bin', 'split.json']);
  });
});
