import { realpathSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import type { QueueOverview } from '../../../src/orchestrator/queue-overview.js';
import { queueFlags, queueProject, useCliProcesses } from '../../helpers/queue-harness.js';
import { runCli } from '../../helpers/run-cli.js';
import { stageFixtures } from '../../helpers/stage-fixtures.js';

const redisUrl = inject('redisUrl');
const { launch, startWorkers } = useCliProcesses();

describe('pipeline queue', () => {
  it('shows jobs per queue, live workers with their devices and running nodes, and the registered sweeps', async () => {
    const p = queueProject('  train.batchSize: [4, 8, 16]\n');
    const [worker] = startWorkers(1, redisUrl, p, stageFixtures({ '*': 'succeed', train: 'hang' }), [
      '--workspace',
      p.ws,
      '--concurrency',
      '2',
    ]);
    const run = launch(['run', p.sweep, ...queueFlags(redisUrl, p), '--set', 'train.epochs=2']);
    await run.waitFor(/t0\d\/train running until aborted[\s\S]*t0\d\/train running until aborted/, 60_000);
    const flags = ['--queue', redisUrl, '--queue-prefix', p.prefix];
    // A worker announces a job in its heartbeat right after taking it; read until both trains are announced.
    let view: QueueOverview | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      const json = await runCli(['queue', ...flags, '--json']);
      expect(json.code, json.stderr).toBe(0);
      view = JSON.parse(json.stdout) as QueueOverview;
      if (view.workers[0]?.running.length === 2) break;
    }
    if (!view) throw new Error('pipeline queue never answered');
    expect(view.queues.cpu).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0, completed: 2 });
    expect(view.queues.gpu).toEqual({ waiting: 1, active: 2, delayed: 0, failed: 0, completed: 0 });
    expect(view.workers).toHaveLength(1);
    const [live] = view.workers;
    expect(live).toMatchObject({ devices: ['cpu×2'], queues: ['cpu', 'gpu'], workspace: p.ws });
    expect(live?.running.map((job) => job.nodeId).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^t0\d\/train$/), expect.stringMatching(/^t0\d\/train$/)]),
    );
    expect(live?.running).toHaveLength(2);
    expect(view.sweeps).toMatchObject([{ file: realpathSync(p.sweep), overrides: ['train.epochs=2'], live: true }]);

    const text = await runCli(['queue', ...flags]);
    expect(text.stdout).toMatch(
      /^queue +waiting +active +delayed +failed +completed\ncpu +0 +0 +0 +0 +2\ngpu +1 +2 +0 +0 +0$/m,
    );
    expect(text.stdout).toMatch(
      new RegExp(
        `workers \\(1\\):\\n {2}\\S+:\\d+ +cpu×2 +${p.ws} +t0\\d/train \\(\\d+ s\\), t0\\d/train \\(\\d+ s\\)`,
      ),
    );
    expect(text.stdout).toMatch(/sweeps \(1\):\n {2}\S+sweep\.yaml +--set train\.epochs=2 +\S+:\d+ +running +5 jobs/);
    worker?.child.kill('SIGKILL');
  });
});
