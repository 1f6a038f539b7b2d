import { describe, expect, inject, it } from 'vitest';
import { completions, queueFlags, queueProject, trialsOf, useCliProcesses } from '../../helpers/queue-harness.js';
import { runCli } from '../../helpers/run-cli.js';
import { stageFixtures } from '../../helpers/stage-fixtures.js';

const redisUrl = inject('redisUrl');
const { launch, startWorkers } = useCliProcesses();

describe('the orchestrator killed and started again', () => {
  it('re-attaches to the queued and running jobs; no node runs twice', async () => {
    const p = queueProject('  train.optimizer: [adam, rmsprop]\n  train.batchSize: [4, 8]\n');
    const workers = startWorkers(2, redisUrl, p, stageFixtures({ '*': 'succeed', train: 'slow' }));
    const first = launch(['run', p.sweep, ...queueFlags(redisUrl, p)]);
    await first.waitFor(/✔ t0\d\/train/, 60_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const finishedBeforeKill = completions(workers.map((w) => w.output())).size;
    expect(finishedBeforeKill).toBeLessThan(2 + 4);
    const second = await runCli(['run', p.sweep, ...queueFlags(redisUrl, p), '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(trialsOf(second.stdout).map((t) => t.state)).toEqual(['done', 'done', 'done', 'done']);
    const done = completions(workers.map((w) => w.output()));
    expect(done.size).toBe(2 + 4);
    expect([...done.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  });
});
