import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import {
  attempts,
  completions,
  queueFlags,
  queueProject,
  trialsOf,
  useCliProcesses,
} from '../../helpers/queue-harness.js';
import { stageFixtures } from '../../helpers/stage-fixtures.js';
import { tempDir } from '../../helpers/temp-project.js';

const redisUrl = inject('redisUrl');
const { launch, startWorkers } = useCliProcesses();
const fixtures = stageFixtures({ '*': 'succeed' });

describe('workers and the run share a workspace (no node store)', () => {
  it('a worker in another folder refuses the jobs without spending attempts, and the run says why', async () => {
    const p = queueProject('  train.optimizer: [adam, rmsprop]\n');
    const elsewhere = path.join(tempDir(), 'ws');
    const [worker] = startWorkers(1, redisUrl, p, fixtures, ['--workspace', elsewhere]);
    const run = launch(['run', p.sweep, ...queueFlags(redisUrl, p), '--wait-for-workers', '6', '--json']);
    expect(await run.exited).toBe(4);
    const why = `works in another workspace \\(${elsewhere}\\); give it the run's shared folder with --workspace, or run with --node-store`;
    expect(run.output()).toMatch(
      new RegExp(`no worker can take queue cpu's jobs \\(prefix ${p.prefix}\\): worker \\S+:\\d+ ${why}`),
    );
    expect(run.output()).not.toMatch(/cancelled/);
    const log = worker?.output() ?? '';
    expect(log.match(/refusing ingest: the run's workspace is not this worker's/g)).toHaveLength(1);
    expect(log).not.toMatch(/▶|✖/);
  });

  it('in a mixed cluster every node is built once, at its first attempt, by the worker that shares it', async () => {
    const p = queueProject('  train.optimizer: [adam, rmsprop]\n');
    const [outsider] = startWorkers(1, redisUrl, p, fixtures, ['--workspace', path.join(tempDir(), 'ws')]);
    // The workspace from the environment, as in docker-compose.
    const [insider] = startWorkers(1, redisUrl, p, { ...fixtures, PIPELINE_WORKSPACE: p.ws }, []);
    const run = launch(['run', p.sweep, ...queueFlags(redisUrl, p), '--json']);
    expect(await run.exited).toBe(0);
    expect(trialsOf(run.output()).map((t) => t.state)).toEqual(['done', 'done']);
    const logs = [insider?.output() ?? ''];
    expect([...completions(logs).entries()].sort()).toEqual([
      ['ingest', 1],
      ['split', 1],
      ['t01/train', 1],
      ['t02/train', 1],
    ]);
    for (const id of ['ingest', 'split', 't01/train', 't02/train']) expect(attempts(logs, id), id).toBe(1);
    expect(outsider?.output()).not.toMatch(/▶|✖/);
    expect(run.output()).toMatch(/warning: worker \S+:\d+ refuses this run's jobs: it works in another workspace \(/);
  });
});
