import { describe, expect, inject, it } from 'vitest';
import { completions, queueFlags, queueProject, trialsOf, useCliProcesses } from '../../helpers/queue-harness.js';
import { stageFixtures } from '../../helpers/stage-fixtures.js';

const redisUrl = inject('redisUrl');
const { launch, startWorkers } = useCliProcesses();

describe('a worker killed with SIGKILL mid-stage', () => {
  it('another worker takes the job over and resumes it from the checkpoint', async () => {
    const p = queueProject('  train.optimizer: [adam]\n');
    const [first, second] = startWorkers(2, redisUrl, p, stageFixtures({ '*': 'succeed', train: 'slow' }));
    const run = launch(['run', p.sweep, ...queueFlags(redisUrl, p), '--json']);
    await run.waitFor(/t01\/train epoch [3-9]\/20/, 60_000);
    const victim = [first, second].find((w) => /▶ t01\/train/.test(w?.output() ?? ''));
    expect(victim).toBeDefined();
    victim?.child.kill('SIGKILL');
    expect(await run.exited).toBe(0);
    const survivor = [first, second].find((w) => w !== victim);
    expect(survivor?.output()).toMatch(/▶ t01\/train \(attempt \d\)/);
    expect(survivor?.output()).toMatch(/\[t01\/train\] fixture: resuming after step ([3-9]|1\d)\n/);
    expect(completions([survivor?.output() ?? '']).get('t01/train')).toBe(1);
    expect(trialsOf(run.output()).map((t) => t.state)).toEqual(['done']);
  });
});
