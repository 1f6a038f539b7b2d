import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import {
  attempts,
  completions,
  queueFlags,
  queueProject,
  trialsOf,
  useCliProcesses,
  workerFlags,
} from '../../helpers/queue-harness.js';
import { stageFixtures } from '../../helpers/stage-fixtures.js';
import { tempDir } from '../../helpers/temp-project.js';

const redisUrl = inject('redisUrl');
const mlflowUri = inject('mlflowUri');
const { launch, startWorkers } = useCliProcesses();

/** Train runs the slow fixture (20 steps, checkpointed after each); every other stage succeeds at once. */
const slowTrain = (stepMs: number) => ({
  ...stageFixtures({ '*': 'succeed', train: 'slow' }),
  FIXTURE_STEP_MS: String(stepMs),
});

/** A one-trial sweep whose train is under way (past `epoch`) on one worker started with `--stop-grace grace`. */
async function trainingOnOneWorker(stepMs: number, grace: number, epoch = /t01\/train epoch [3-9]\/20/) {
  const p = queueProject('  train.optimizer: [adam]\n');
  const env = slowTrain(stepMs);
  const [worker] = startWorkers(1, redisUrl, p, env, ['--workspace', p.ws, '--stop-grace', String(grace)]);
  const run = launch(['run', p.sweep, ...queueFlags(redisUrl, p), '--json']);
  await run.waitFor(epoch, 60_000);
  return { p, env, worker, run };
}

describe('stopping a worker', () => {
  it('SIGTERM hands a running job back without counting the attempt; another worker resumes it', async () => {
    const { p, env, worker: first, run } = await trainingOnOneWorker(300, 0);
    const started = Date.now();
    first?.child.kill('SIGTERM');
    expect(await first?.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(first?.output()).toMatch(
      /↩ t01\/train: handed back to the queue \(worker stopping; the attempt is not counted\)/,
    );
    const [second] = startWorkers(1, redisUrl, p, env);
    expect(await run.exited).toBe(0);
    // "attempt 1" again: the stopped run did not use one of the job's attempts.
    expect(second?.output()).toMatch(/▶ t01\/train \(attempt 1\)/);
    expect(second?.output()).toMatch(/fixture: resuming after step ([3-9]|1\d)\n/);
    expect(completions([second?.output() ?? '']).get('t01/train')).toBe(1);
    expect(trialsOf(run.output()).map((t) => t.state)).toEqual(['done']);
  });

  it('Ctrl-C (SIGINT to the worker and its stage process) does not burn an attempt either', async () => {
    const { p, env, worker: first, run } = await trainingOnOneWorker(300, 0);
    // A terminal's Ctrl-C reaches the whole process group: the stage process first, then the worker.
    spawnSync('pkill', ['-INT', '-P', String(first?.child.pid)]);
    first?.child.kill('SIGINT');
    expect(await first?.exited).toBe(0);
    expect(first?.output()).toMatch(/↩ t01\/train: handed back/);
    expect(first?.output()).not.toMatch(/✖ t01\/train/);
    const [second] = startWorkers(1, redisUrl, p, env);
    expect(await run.exited).toBe(0);
    expect(second?.output()).toMatch(/▶ t01\/train \(attempt 1\)/);
    expect(attempts([first?.output() ?? '', second?.output() ?? ''], 't01/train')).toBe(2);
  });

  it('a job that finishes within the grace period completes there, and the worker takes no new one', async () => {
    const { worker, run } = await trainingOnOneWorker(100, 30);
    worker?.child.kill('SIGTERM');
    expect(await worker?.exited).toBe(0);
    expect(worker?.output()).toMatch(/✔ t01\/train in/);
    expect(worker?.output()).not.toMatch(/handed back/);
    expect(await run.exited).toBe(0);
  });

  it('a second signal quits at once, with exit status 130', async () => {
    const { worker } = await trainingOnOneWorker(300, 30, /t01\/train epoch [2-9]\/20/);
    worker?.child.kill('SIGTERM');
    await worker?.waitFor(/stopping \(SIGTERM\)/);
    const started = Date.now();
    worker?.child.kill('SIGTERM');
    expect(await worker?.exited).toBe(130);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(worker?.output()).toMatch(/quitting at once/);
  });
});

describe.skipIf(mlflowUri === null)('a worker that loses its job lock (node store, no shared disk)', () => {
  it('stops its stage process on waking and pushes nothing; the worker that took the job over completes it', async () => {
    const p = queueProject('  train.optimizer: [adam]\n');
    const env = slowTrain(500);
    const own = (name: string) =>
      launch(
        [
          'worker',
          ...workerFlags(redisUrl, p),
          '--workspace',
          path.join(tempDir(), name),
          '--node-store',
          mlflowUri ?? '',
        ],
        { env },
      );
    const frozen = own('a');
    await frozen.waitFor(/serving/);
    const run = launch(['run', p.sweep, ...queueFlags(redisUrl, p), '--node-store', mlflowUri ?? '', '--json']);
    await run.waitFor(/t01\/train epoch [2-9]\/20/, 60_000);
    frozen.child.kill('SIGSTOP');
    const other = own('b');
    try {
      await other.waitFor(/▶ t01\/train \(attempt/, 30_000); // taken over once the frozen worker's lock expired
      frozen.child.kill('SIGCONT');
      await frozen.waitFor(/✖ t01\/train: lost the job's lock/, 30_000);
      expect(await run.exited).toBe(0);
    } finally {
      frozen.child.kill('SIGCONT');
    }
    expect(completions([frozen.output()]).get('t01/train')).toBeUndefined();
    expect(completions([other.output()]).get('t01/train')).toBe(1);
    expect(trialsOf(run.output()).map((t) => t.state)).toEqual(['done']);
  });
});
