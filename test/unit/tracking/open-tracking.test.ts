import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkspaceStore } from '../../../src/store/workspace-store.js';
import { Journal } from '../../../src/tracking/journal.js';
import { MlflowClient } from '../../../src/tracking/mlflow-client.js';
import { MlflowSink } from '../../../src/tracking/mlflow-sink.js';
import { openRunTracking, readRuns } from '../../../src/tracking/open-tracking.js';
import type { SweepSpec } from '../../../src/types.js';
import { createFakeMlflow } from '../../helpers/mlflow-server.js';
import { FakeSweep, playSweep, trialRow } from '../../helpers/plan-builder.js';
import { tempDir, writeFiles } from '../../helpers/temp-project.js';

const plan = new FakeSweep().share('ingest').stage('train').addTrial({ 'train.lr': 0.1 }).plan();

/** A sweep file and its pipeline on disk (their hash is tagged), with a fresh workspace. */
function project() {
  const dir = writeFiles(tempDir(), { 'pipeline.yaml': 'name: tiny\n', 'sweep.yaml': 'pipeline: pipeline.yaml\n' });
  const sweep: SweepSpec = {
    file: path.join(dir, 'sweep.yaml'),
    name: 'lr',
    pipeline: { file: path.join(dir, 'pipeline.yaml'), name: 'tiny', stages: [] },
    method: 'grid',
    grid: [{ path: 'train.lr', values: [0.1], origins: ['sweep.yaml:3:12'] }],
    samples: undefined,
    seed: 0,
    objective: { metric: 'accuracy', goal: 'maximize' },
    maxParallel: undefined,
    overrides: [],
  };
  return { sweep, store: new WorkspaceStore(path.join(dir, 'ws')) };
}

describe('openRunTracking', () => {
  it('without a tracking URI journals the sweep, named after the pipeline, and sends nothing', async () => {
    const { sweep, store } = project();
    const warnings: string[] = [];
    const tracking = openRunTracking({ sweep, plan, store, command: 'pipeline run x', warn: (l) => warnings.push(l) });
    playSweep(tracking.events, plan);
    await tracking.finish([trialRow({ objective: 0.8, best: true })]);
    const [parent, trial] = readRuns(store).runs.values();
    expect(parent).toMatchObject({ name: 'lr', experiment: 'tiny', status: 'FINISHED' });
    expect(parent?.tags).toMatchObject({
      'mlflow.source.name': 'pipeline run x',
      'pipeline.objective': 'accuracy (maximize)',
    });
    expect(parent?.tags['mlflow.user']).toBeTruthy();
    expect(trial?.tags['mlflow.source.name']).toBe('pipeline run x');
    const records = new Journal(store.trackingPaths().journal).read().records;
    const doc = records.find((r) => r.t === 'doc' && r.id === parent?.id);
    expect(doc).toMatchObject({ path: 'pipeline.json', doc: { sweep: 'lr', grid: { 'train.lr': [0.1] } } });
    expect((doc as { doc: { pipelineHash: string } }).doc.pipelineHash).toMatch(/^[0-9a-f]{64}$/);
    expect(existsSync(store.trackingPaths().sinksDir)).toBe(false);
    expect(warnings).toEqual([]);
  });

  it('a tracking URI that is not http(s) is a usage error before anything is journaled', () => {
    const { sweep, store } = project();
    const open = () =>
      openRunTracking({ sweep, plan, store, trackingUri: 'file:///tmp/mlruns', command: 'c', warn: () => undefined });
    expect(open).toThrow(expect.objectContaining({ code: 'USAGE' }) as Error);
    expect(existsSync(store.trackingPaths().journal)).toBe(false);
  });

  it('a server that is down: one warning, the sweep is journaled, and finish says how to send it later', async () => {
    const { sweep, store } = project();
    const warnings: string[] = [];
    const tracking = openRunTracking({
      sweep,
      plan,
      store,
      trackingUri: 'http://127.0.0.1:9',
      experiment: 'offline',
      command: 'c',
      warn: (line) => warnings.push(line),
    });
    playSweep(tracking.events, plan);
    await tracking.finish([trialRow({ objective: 0.8, best: true })]);
    expect(warnings[0]).toMatch(/^tracking: MLflow at http:\/\/127\.0\.0\.1:9 is unreachable/);
    expect(warnings.at(-1)).toMatch(
      /^tracking: \d+ journal records not in MLflow yet; send them with: pipeline sync --tracking-uri http:\/\/127\.0\.0\.1:9 --workspace .*ws$/,
    );
    expect(warnings).toHaveLength(2);
    expect([...readRuns(store).runs.values()].map((run) => run.experiment)).toEqual(['offline', 'offline']);
  });
});

describe('readRuns', () => {
  it('names the MLflow run each journaled run became on every server it reached', async () => {
    const { sweep, store } = project();
    const tracking = openRunTracking({ sweep, plan, store, command: 'c', warn: () => undefined });
    playSweep(tracking.events, plan);
    await tracking.finish([trialRow({ objective: 0.8, best: true })]);
    const fake = createFakeMlflow();
    await new MlflowSink(new MlflowClient({ uri: 'http://fake', fetch: fake.fetch }), store.trackingPaths()).sync();
    const { runs, synced } = readRuns(store);
    const [parentId] = runs.keys();
    expect(synced(parentId ?? '')).toEqual([{ uri: 'http://fake', runId: 'run1' }]);
    expect(synced('not-journaled')).toEqual([]);
  });
});
