import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WorkspaceStore } from '../../../src/store/workspace-store.js';
import type { JournalRecord } from '../../../src/tracking/journal-records.js';
import { Journal } from '../../../src/tracking/journal.js';
import { MlflowClient } from '../../../src/tracking/mlflow-client.js';
import { MlflowSink } from '../../../src/tracking/mlflow-sink.js';
import { createFakeMlflow, type FakeMlflow } from '../../helpers/mlflow-server.js';
import { FakeSweep } from '../../helpers/plan-builder.js';
import { nodeFolders, trackSweep } from '../../helpers/tracked-sweep.js';

const plan = new FakeSweep()
  .share('ingest')
  .stage('train')
  .stage('evaluate')
  .addTrial({ 'train.lr': 0.1 })
  .addTrial({ 'train.lr': 0.01 })
  .plan();

/** A workspace whose journal holds the whole sweep (3 runs), and a sink to the fake server. */
function journaledSweep(fake: FakeMlflow = createFakeMlflow()) {
  const store = nodeFolders(plan);
  trackSweep(store, plan);
  const client = new MlflowClient({ uri: 'http://fake', retries: 0, fetch: fake.fetch });
  return { store, fake, sink: new MlflowSink(client, store.trackingPaths()), journal: journalOf(store) };
}

const journalOf = (store: WorkspaceStore) => new Journal(store.trackingPaths().journal);
const runNamed = (fake: FakeMlflow, name: string) => [...fake.runs.values()].find((run) => run.name === name);

describe('MlflowSink', () => {
  it('a server that fails mid-sync loses and duplicates nothing once synced again', async () => {
    const { fake, sink, journal } = journaledSweep();
    fake.failAfter = 4;
    await expect(sink.sync()).rejects.toMatchObject({ code: 'TRACKING_UNAVAILABLE' });
    expect(sink.unsent()).toBeGreaterThan(0);
    fake.failAfter = Infinity;
    const report = await sink.sync();
    expect(report.rejected).toEqual([]);
    expect(sink.unsent()).toBe(0);
    expect(fake.runs.size).toBe(3);
    const records = journal.read().records;
    const points = records.flatMap((r) => (r.t === 'log' ? (r.metrics ?? []) : [])).length;
    expect([...fake.runs.values()].reduce((n, run) => n + run.metrics.length, 0)).toBe(points);
    expect((await sink.sync()).sent).toBe(0);
    const t01 = runNamed(fake, 'lr=0.1');
    expect(t01?.tags['mlflow.parentRunId']).toBe(runNamed(fake, 's')?.id);
    expect(t01?.artifacts).toContain('evaluate/report.txt');
    expect(t01?.artifacts).toContain('pipeline.json');
  });

  it('logs each trial model once, with its files and an MLmodel, READY and linked; evaluation metrics point at it', async () => {
    const { fake, sink } = journaledSweep();
    fake.failAfter = 30;
    await expect(sink.sync()).rejects.toMatchObject({ code: 'TRACKING_UNAVAILABLE' });
    fake.failAfter = Infinity;
    await sink.sync();
    await sink.sync();
    expect(fake.models.size).toBe(2);
    const t01 = runNamed(fake, 'lr=0.1');
    const model = [...fake.models.values()].find((m) => t01?.outputs.includes(m.id));
    expect(model?.status).toBe('LOGGED_MODEL_READY');
    expect([...new Set(model?.files)].sort()).toEqual([
      'MLmodel',
      'classes.json',
      'code/pipeline_tfjs_loader.py',
      'conda.yaml',
      'model.json',
      'python_env.yaml',
      'requirements.txt',
      'weights.bin',
    ]);
    expect(t01?.outputs).toEqual([model?.id]);
    expect(t01?.metrics.find((m) => m.key === 'evaluate.accuracy')?.model_id).toBe(model?.id);
  });

  it('a refused record is set aside with its message while the rest goes on, and is tried again next time', async () => {
    const { store, fake, sink, journal } = journaledSweep();
    const runId = journal.read().records.find((r) => r.t === 'run' && r.parent)?.id ?? '';
    const extra: JournalRecord[] = [
      { t: 'log', id: runId, params: { 'train.lr': 'changed' } },
      { t: 'log', id: runId, metrics: [{ key: 'late', value: 1, step: 3, timestamp: 1 }] },
    ];
    journal.append(extra);
    const report = await sink.sync();
    expect(report.rejected).toHaveLength(1);
    expect(report.rejected[0]?.error).toMatch(/INVALID_PARAMETER_VALUE/);
    expect(runNamed(fake, 'lr=0.1')?.metrics.at(-1)?.key).toBe('late');
    expect(sink.unsent()).toBe(1);
    expect((await sink.sync()).rejected).toHaveLength(1);
    expect(MlflowSink.list(store.trackingPaths())).toHaveLength(1);
  });

  it('lists which journal runs reached which server', async () => {
    const { store, fake, sink, journal } = journaledSweep();
    expect(MlflowSink.list(store.trackingPaths())).toEqual([]);
    await sink.sync();
    const [listed] = MlflowSink.list(store.trackingPaths());
    expect(listed?.uri).toBe('http://fake');
    const parentId = [...journal.fold().values()][0]?.id ?? '';
    expect(listed?.runIds[parentId]).toBe(runNamed(fake, 's')?.id);
    expect(Object.keys(listed?.runIds ?? {})).toHaveLength(3);
  });

  it('another live process sending the same journal is TRACKING_BUSY; a lock left by a dead one is taken over', async () => {
    const { store, sink } = journaledSweep();
    await sink.sync();
    const { sinksDir } = store.trackingPaths();
    const lock = path.join(sinksDir, `${readdirSync(sinksDir)[0] ?? ''}.lock`);
    writeFileSync(lock, String(process.ppid));
    await expect(sink.sync()).rejects.toMatchObject({
      code: 'TRACKING_BUSY',
      message: expect.stringMatching(`pid ${process.ppid}`) as string,
    });
    writeFileSync(lock, '999999999');
    await expect(sink.sync()).resolves.toMatchObject({ sent: 0 });
    rmSync(lock, { force: true });
  });

  it('a damaged state file is a STORE_INVALID error that says how to recover', async () => {
    const { store, sink } = journaledSweep();
    await sink.sync();
    const { sinksDir } = store.trackingPaths();
    writeFileSync(path.join(sinksDir, readdirSync(sinksDir)[0] ?? ''), '{"uri":');
    await expect(sink.sync()).rejects.toMatchObject({
      code: 'STORE_INVALID',
      message: expect.stringMatching(/remove it and run `pipeline sync` again/) as string,
    });
  });
});
