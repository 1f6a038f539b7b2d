import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import {
  completions,
  queueCounts,
  queueFlags,
  queueProject,
  trialsOf,
  useCliProcesses,
} from '../../helpers/queue-harness.js';
import { runCli } from '../../helpers/run-cli.js';
import { stageFixtures } from '../../helpers/stage-fixtures.js';
import { writeFiles } from '../../helpers/temp-project.js';

const redisUrl = inject('redisUrl');
const { launch, startWorkers } = useCliProcesses();

/** The tool's own keys left on a prefix, worker heartbeats apart (live workers announce themselves). */
async function marksLeft(prefix: string): Promise<string[]> {
  const redis = new Redis(redisUrl);
  try {
    const keys = await redis.keys(`${prefix}:pipeline:*`);
    return keys.filter((key) => !/:pipeline:workers?(:|$)/.test(key)).sort();
  } finally {
    redis.disconnect();
  }
}

async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!ok(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await read();
  }
  return value;
}

describe('pipeline cancel', () => {
  it('finds the run by its sweep file without its --set flags, stops it with exit 130 and leaves no marks', async () => {
    const p = queueProject('  train.batchSize: [4, 8, 16]\n');
    const [hanging] = startWorkers(1, redisUrl, p, stageFixtures({ '*': 'succeed', train: 'hang' }));
    const setFlags = ['--set', 'train.epochs=3'];
    const run = launch(['run', p.sweep, ...queueFlags(redisUrl, p), ...setFlags, '--json']);
    await hanging?.waitFor(/\[t0\d\/train\] fixture: running until aborted/, 60_000);
    const cancel = await runCli(['cancel', p.sweep, '--queue', redisUrl, '--queue-prefix', p.prefix]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(
      /^cancelled 1 run of \S+sweep\.yaml \(--set train\.epochs=3\): [12] queued jobs removed, 1 running jobs told to stop, 0 kept for other sweeps\n$/,
    );
    expect(await run.exited).toBe(130);
    expect(run.output()).toMatch(/pipeline: cancelled by pipeline cancel; finished nodes are kept/);
    expect(trialsOf(run.output()).map((t) => t.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(hanging?.output()).toMatch(/✖ t0\d\/train: CANCELLED: /);
    expect(await queueCounts(redisUrl, p.prefix)).toMatchObject({ waiting: 0, active: 0, delayed: 0, prioritized: 0 });
    expect(
      await eventually(
        () => marksLeft(p.prefix),
        (keys) => keys.length === 0,
      ),
    ).toEqual([]);

    // Nothing left behind blocks running the sweep again at once.
    hanging?.child.kill('SIGKILL');
    startWorkers(1, redisUrl, p, stageFixtures({ '*': 'succeed' }));
    const again = await runCli(['run', p.sweep, ...queueFlags(redisUrl, p), ...setFlags, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(trialsOf(again.stdout).map((t) => t.state)).toEqual(['done', 'done', 'done']);
  });

  it('says in one line when no run of the sweep is registered, and exits 2', async () => {
    const p = queueProject('  train.batchSize: [4]\n');
    const cancel = await runCli(['cancel', p.sweep, '--queue', redisUrl, '--queue-prefix', p.prefix]);
    expect(cancel.code).toBe(2);
    expect(cancel.stderr).toMatch(
      /^pipeline: nothing to cancel: no run of \S+sweep\.yaml is registered on queue prefix t[\w-]+\n$/,
    );
  });

  it('leaves a node that another running sweep shares alone', async () => {
    const p = queueProject('  train.optimizer: [adam, rmsprop]\n');
    // Same pipeline and data, another grid: ingest and split are the same nodes.
    writeFiles(p.dir, { 'other.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [sgd]\n' });
    const workers = startWorkers(2, redisUrl, p, stageFixtures({ '*': 'succeed', split: 'slow' }));
    const mine = launch(['run', p.sweep, ...queueFlags(redisUrl, p), '--json']);
    const other = launch(['run', `${p.dir}/other.yaml`, ...queueFlags(redisUrl, p), '--json']);
    // Both runs wait for the one split job.
    await Promise.all([mine.waitFor(/split epoch [2-9]\/20/, 60_000), other.waitFor(/split epoch [2-9]\/20/, 60_000)]);
    const cancel = await runCli(['cancel', p.sweep, '--queue', redisUrl, '--queue-prefix', p.prefix]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(/0 queued jobs removed, 0 running jobs told to stop, 1 kept for other sweeps\n$/);
    expect(await mine.exited).toBe(130);
    expect(await other.exited).toBe(0);
    expect(trialsOf(other.output()).map((t) => t.state)).toEqual(['done']);
    const logs = workers.map((w) => w.output()).join('\n');
    expect(logs).not.toMatch(/✖ (t01\/)?split/);
    const splits = [...completions([logs])].filter(([id]) => /(^|\/)split$/.test(id));
    expect(splits.map(([, n]) => n)).toEqual([1]);
  });
});
