/**
 * The warm stage-process pool (src/workers/stage-pool.ts): a process that finished a job cleanly serves the next one
 * with nothing left of the previous stage; one that failed, was cancelled or crashed is never reused; and
 * PIPELINE_STAGE_POOL=0 gives every job a fresh process.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PipelineError } from '../../../src/errors.js';
import { runInChild } from '../../../src/workers/run-in-child.js';
import type { StageJob } from '../../../src/workers/stage-job.js';
import { drainStagePool } from '../../../src/workers/stage-pool.js';
import { stageFixtures, type StageFixture } from '../../helpers/stage-fixtures.js';
import { runCli } from '../../helpers/run-cli.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from '../../helpers/temp-project.js';

/** One fixture per node id, so that every job has the same environment and may share a process. */
const NODES: Partial<Record<StageFixture, string>> = {
  'leak-tensors': 't01/train',
  'bad-input': 't02/train',
  crash: 't03/train',
  hang: 't04/train',
};
const FIXTURES = stageFixtures(
  Object.fromEntries(Object.entries(NODES).map(([fixture, node]) => [node, fixture as StageFixture])),
);

function job(nodeId: string): StageJob {
  return {
    nodeId,
    kind: 'train',
    params: {},
    inputs: {},
    outDir: tempDir(),
    checkpointDir: tempDir(),
    backend: 'cpu',
  };
}

/** Runs `fixture` as a train node; resolves to its metrics, or to the error it failed with. */
async function run(
  fixture: StageFixture,
  options: { env?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Record<string, number> | PipelineError> {
  const hooks = {
    onLog: () => undefined,
    onProgress: () => undefined,
    signal: options.signal ?? new AbortController().signal,
    env: { ...FIXTURES, ...options.env },
  };
  return runInChild(job(NODES[fixture]!), hooks).then(
    ({ result }) => result.metrics,
    (error: unknown) => error as PipelineError,
  );
}

async function pidOfNextJob(): Promise<number> {
  const metrics = (await run('leak-tensors')) as Record<string, number>;
  return metrics.pid!;
}

describe('the stage pool', () => {
  afterAll(() => drainStagePool());

  it('reuses a process after a clean job, with the tensors and variables of the previous stage freed', async () => {
    const first = (await run('leak-tensors')) as Record<string, number>;
    const second = (await run('leak-tensors')) as Record<string, number>;
    expect(second.pid).toBe(first.pid);
    expect(second.tensorsAtStart).toBe(0);
  });

  it('never reuses a process whose stage failed, crashed or was cancelled', async () => {
    const before = await pidOfNextJob();
    expect(((await run('bad-input')) as PipelineError).code).toBe('DATA_INVALID');
    // The failed job took the warm process and retired it.
    const afterFailure = await pidOfNextJob();
    expect(afterFailure).not.toBe(before);

    expect(((await run('crash')) as PipelineError).code).toBe('STAGE_CRASHED');
    const afterCrash = await pidOfNextJob();
    expect(afterCrash).not.toBe(afterFailure);

    const controller = new AbortController();
    const hanging = run('hang', { signal: controller.signal });
    setTimeout(() => controller.abort(), 1500);
    expect(((await hanging) as PipelineError).code).toBe('CANCELLED');
    expect(await pidOfNextJob()).not.toBe(afterCrash);
  });

  it('starts a fresh process for every job with PIPELINE_STAGE_POOL=0', async () => {
    const off = { env: { PIPELINE_STAGE_POOL: '0' } };
    const first = (await run('leak-tensors', off)) as Record<string, number>;
    const second = (await run('leak-tensors', off)) as Record<string, number>;
    expect(second.pid).not.toBe(first.pid);
  });

  it('gives the same trained models as fresh processes (a 3-trial sweep, every trial metric equal)', async () => {
    const dir = tempDir();
    copySample(path.join(dir, 'data'), 12);
    writeFiles(dir, {
      'pipeline.yaml': pipelineYaml('data'),
      'sweep.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam, rmsprop, sgd]\n',
    });
    const sweep = async (pool: string) => {
      const workspace = path.join(dir, `ws-${pool}`);
      const args = ['run', path.join(dir, 'sweep.yaml'), '--workspace', workspace, '--json', '--parallel', '1'];
      const result = await runCli(args, { env: { PIPELINE_STAGE_POOL: pool } });
      expect(result.code, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as { trials: { metrics: Record<string, number> }[] }).trials;
    };
    const pooled = await sweep('1');
    const fresh = await sweep('0');
    expect(pooled).toHaveLength(3);
    expect(pooled.map((t) => t.metrics)).toEqual(fresh.map((t) => t.metrics));
  });
});
