import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUEUE_PROTOCOL, type QueueJobData } from '../../../src/queue/queue-protocol.js';
import { STAGES } from '../../../src/stages/catalog.js';
import { dataFolder } from '../../../src/store/data-folder.js';
import { ensureWorkspaceId } from '../../../src/store/workspace-id.js';
import { WorkspaceStore } from '../../../src/store/workspace-store.js';
import { prepareTask, refusalOf } from '../../../src/workers/job-workspace.js';
import { tempDir } from '../../helpers/temp-project.js';

function job(store: QueueJobData['store'], overrides: Partial<QueueJobData> = {}): QueueJobData {
  return {
    protocol: QUEUE_PROTOCOL,
    task: {
      nodeId: 't01/split',
      stage: 'split',
      kind: 'split',
      cacheKey: 'k-split',
      params: {},
      inputs: { ingest: { cacheKey: 'k-ingest' } },
      backend: 'auto',
    },
    stageVersion: STAGES.split.version,
    store,
    data: [],
    force: false,
    ...overrides,
  };
}

describe('a worker deciding whether to build a job', () => {
  it('builds a job of its protocol and stage version in the run’s shared workspace', async () => {
    const store = new WorkspaceStore(tempDir());
    const workspaceId = await ensureWorkspaceId(store);
    expect(await refusalOf(job({ kind: 'shared', workspaceId }), store)).toBeUndefined();
    expect(
      await refusalOf(job({ kind: 'remote', uri: 'http://mlflow:5000', storeId: 'p' }), new WorkspaceStore(tempDir())),
    ).toBeUndefined();
  });

  it('refuses, in one line, a job of another protocol, another stage version, or another shared workspace', async () => {
    const store = new WorkspaceStore(tempDir());
    const workspaceId = await ensureWorkspaceId(store);
    const shared = { kind: 'shared', workspaceId } as const;
    const old = { ...job(shared), protocol: undefined } as unknown as QueueJobData;
    expect(await refusalOf(old, store)).toBe(
      `queued with queue protocol 1, this worker speaks ${QUEUE_PROTOCOL}: run workers of the orchestrator's pipeline version`,
    );
    expect(await refusalOf(job(shared, { stageVersion: '9' }), store)).toBe(
      `the run's split stage is version 9, this worker's is ${STAGES.split.version}: update this worker`,
    );
    const elsewhere = new WorkspaceStore(tempDir());
    expect(await refusalOf(job(shared), elsewhere)).toBe(
      `the run's workspace is not this worker's (${elsewhere.root}): start it with --workspace <the shared folder>, or run with --node-store`,
    );
  });
});

describe('a job as a task in the worker’s workspace', () => {
  it('names inputs by their folders here and runs the stage inside its data folder', async () => {
    const store = new WorkspaceStore(tempDir());
    mkdirSync(store.nodeDir('k-ingest'), { recursive: true });
    writeFileSync(path.join(store.nodeDir('k-ingest'), 'result.json'), '{}');
    mkdirSync(dataFolder(store, 'f'.repeat(64)), { recursive: true });
    const prepared = await prepareTask(
      job({ kind: 'shared', workspaceId: 'w' }, { data: ['f'.repeat(64)] }),
      store,
      undefined,
    );
    expect(prepared.task.inputs).toEqual({ ingest: store.nodeDir('k-ingest') });
    expect(prepared.cwd).toBe(dataFolder(store, 'f'.repeat(64)));
  });

  it('says which input is missing rather than letting the stage fail on a path', async () => {
    const store = new WorkspaceStore(tempDir());
    await expect(prepareTask(job({ kind: 'shared', workspaceId: 'w' }), store, undefined)).rejects.toMatchObject({
      code: 'STORE_INVALID',
      message: `t01/split: its ingest input k-ingest is not in workspace ${store.root}`,
    });
  });
});
