import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { TrialRow } from '../../../src/types.js';
import {
  attempts,
  completions,
  queueFlags,
  queueProject,
  trialsOf,
  useCliProcesses,
} from '../../helpers/queue-harness.js';
import { runCli, type CliResult } from '../../helpers/run-cli.js';
import { stageFixtures } from '../../helpers/stage-fixtures.js';

const redisUrl = inject('redisUrl');
const { startWorkers } = useCliProcesses();

describe('a failing stage on a worker: retried when retrying can help, once when not', () => {
  const p = queueProject('  train.optimizer: [adam, rmsprop, sgd]\n');
  let run: CliResult;
  let logs: string[];
  let trials: Map<string, TrialRow>;

  beforeAll(async () => {
    const fixtures = stageFixtures({
      '*': 'succeed',
      't01/train': 'fail-once',
      't02/train': 'crash',
      't03/train': 'bad-input',
    });
    const workers = startWorkers(2, redisUrl, p, fixtures);
    run = await runCli(['run', p.sweep, ...queueFlags(redisUrl, p), '--json']);
    logs = workers.map((w) => w.output());
    trials = new Map(trialsOf(run.stdout).map((trial) => [trial.id, trial]));
  });

  it('a stage that fails once is retried and its trial completes', () => {
    expect(run.code, run.stderr).toBe(1); // t02 and t03 fail
    expect(attempts(logs, 't01/train')).toBe(2);
    expect(trials.get('t01')?.state).toBe('done');
    expect(completions(logs).get('t01/train')).toBe(1);
  });

  it('a crashed stage process is retried up to 3 attempts, then reported with its node and trial', () => {
    expect(attempts(logs, 't02/train')).toBe(3);
    expect(trials.get('t02')).toMatchObject({
      state: 'failed',
      error: 'train: t02/train (optimizer=rmsprop): stage process died (signal SIGKILL)',
    });
  });

  it('bad input fails its node once, without retries, with the stage error and where it happened', () => {
    expect(attempts(logs, 't03/train')).toBe(1);
    expect(trials.get('t03')).toMatchObject({
      state: 'failed',
      error: 'train: t03/train (optimizer=sgd): fixture: the input is unusable',
    });
  });
});

describe('without a reachable Redis', () => {
  it('says so in one line, exits 4 and writes nothing', async () => {
    const p = queueProject('  train.optimizer: [adam]\n');
    const run = await runCli(['run', p.sweep, '--queue', 'redis://127.0.0.1:1', '--workspace', p.ws]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      /^pipeline: Redis at 127\.0\.0\.1:1 is not reachable \(.*\) — start it, or drop --queue to run locally\n$/,
    );
    expect(existsSync(p.ws)).toBe(false);
  });
});
