import { describe, expect, it } from 'vitest';
import { sweepRunId } from '../../../src/queue/sweep-registry.js';
import { whyIncompatible, type WorkerInfo } from '../../../src/queue/worker-registry.js';

const worker: WorkerInfo = {
  id: 'gpu-box:42',
  host: 'gpu-box',
  pid: 42,
  devices: ['gpu:0'],
  queues: ['gpu'],
  protocol: 2,
  stageVersions: { ingest: '1', split: '2', train: '1' },
  workspace: '/data/ws',
  workspaceId: 'w1',
  running: [],
  startedAt: 0,
};

describe('whether a worker can take a run’s jobs', () => {
  it('takes them when protocol, the versions of the waiting stages and the shared workspace agree', () => {
    expect(
      whyIncompatible(worker, { queue: 'gpu', protocol: 2, stageVersions: { train: '1' }, workspaceId: 'w1' }),
    ).toBe(undefined);
    // Only the stages the run is waiting for count; with a node store the workspace does not matter.
    expect(
      whyIncompatible(
        { ...worker, stageVersions: { train: '1' } },
        { queue: 'gpu', protocol: 2, stageVersions: { train: '1' } },
      ),
    ).toBe(undefined);
  });

  it('says which stage versions differ, which protocol it speaks, or that its workspace is another', () => {
    expect(whyIncompatible(worker, { queue: 'gpu', protocol: 2, stageVersions: { split: '3', train: '1' } })).toBe(
      "has stage versions split 2 (this run: 3); update it to this run's pipeline version",
    );
    expect(whyIncompatible(worker, { queue: 'gpu', protocol: 3, stageVersions: {} })).toBe(
      'speaks queue protocol 2 (this run: 3); run the same pipeline version',
    );
    expect(whyIncompatible(worker, { queue: 'gpu', protocol: 2, stageVersions: {}, workspaceId: 'w2' })).toBe(
      "works in another workspace (/data/ws); give it the run's shared folder with --workspace, or run with --node-store",
    );
  });
});

describe('a sweep run’s identity', () => {
  it('is its sweep file and its --set flags in any order', () => {
    const id = sweepRunId({ file: '/x/sweep.yaml', overrides: ['a.b=1', 'c.d=2'] });
    expect(sweepRunId({ file: '/x/sweep.yaml', overrides: ['c.d=2', 'a.b=1'] })).toBe(id);
    expect(sweepRunId({ file: '/x/sweep.yaml', overrides: ['a.b=1'] })).not.toBe(id);
    expect(sweepRunId({ file: '/y/sweep.yaml', overrides: ['a.b=1', 'c.d=2'] })).not.toBe(id);
    expect(id).toMatch(/^[0-9a-f]{16}$/);
  });
});
