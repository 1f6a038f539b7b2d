import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NonRetryableStageError, PipelineError } from '../../../src/errors.js';
import { runInChild } from '../../../src/workers/run-in-child.js';
import type { StageJob } from '../../../src/workers/stage-job.js';
import { stageFixtures, type StageFixture } from '../../helpers/stage-fixtures.js';
import { tempDir } from '../../helpers/temp-project.js';

/** Runs a fixture stage in a real child process, as a node `t02/train` of trial `optimizer=rmsprop`. */
async function failureOf(fixture: StageFixture, checkpointDir = path.join(tempDir(), 'checkpoint')) {
  const outDir = tempDir();
  const job: StageJob = {
    nodeId: 't02/train',
    trialLabel: 'optimizer=rmsprop',
    kind: 'train',
    params: {},
    inputs: {},
    outDir,
    checkpointDir,
    backend: 'cpu',
  };
  const hooks = { onLog: () => undefined, onProgress: () => undefined, signal: new AbortController().signal };
  return runInChild(job, { ...hooks, env: stageFixtures({ train: fixture }) }).then(
    () => undefined,
    (error: unknown) => error as PipelineError,
  );
}

describe("a stage process's error, rebuilt in the parent", () => {
  it('keeps its cause chain and names the node and its trial; the next attempt succeeds', async () => {
    const checkpointDir = path.join(tempDir(), 'checkpoint');
    mkdirSync(checkpointDir);
    const error = await failureOf('fail-once', checkpointDir);
    expect(error).toBeInstanceOf(PipelineError);
    expect([error?.code, error?.message]).toEqual([
      'STAGE_FAILED',
      't02/train (optimizer=rmsprop): fixture: the first attempt fails',
    ]);
    expect(error?.stack).toMatch(/fail-once\.ts/);
    const cause = error?.cause as Error;
    expect([cause.name, cause.message]).toEqual(['Error', 'fixture: a flaky resource']);
    expect(await failureOf('fail-once', checkpointDir)).toBeUndefined();
  });

  it('bad input stays non-retryable, with its class and cause', async () => {
    const error = await failureOf('bad-input');
    expect(error).toBeInstanceOf(NonRetryableStageError);
    expect([error?.code, error?.message]).toEqual([
      'DATA_INVALID',
      't02/train (optimizer=rmsprop): fixture: the input is unusable',
    ]);
    expect((error?.cause as Error).message).toBe('fixture: no readable images');
  });

  it('a process that dies is STAGE_CRASHED, with the signal', async () => {
    const error = await failureOf('crash');
    expect([error?.code, error?.message]).toEqual([
      'STAGE_CRASHED',
      't02/train (optimizer=rmsprop): stage process died (signal SIGKILL)',
    ]);
  });
});
