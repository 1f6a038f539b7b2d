import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completions, queueFlags, queueProject, useCliProcesses } from '../../helpers/queue-harness.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { stageFixtures } from '../../helpers/stage-fixtures.js';

// This test stops and starts Redis, so it has a server of its own rather than the run's.
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => redis?.stop());
const { launch, startWorkers } = useCliProcesses();

describe('a Redis restart mid-sweep', () => {
  it('is waited out by the orchestrator and the workers; the sweep completes', async () => {
    const p = queueProject('  train.optimizer: [adam, rmsprop]\n');
    const workers = startWorkers(2, redis.url, p, stageFixtures({ '*': 'succeed', train: 'slow' }));
    const run = launch(['run', p.sweep, ...queueFlags(redis.url, p), '--json']);
    await run.waitFor(/✔ split/, 60_000);
    await redis.stop();
    // Both trains were still to finish when Redis went away.
    const trained = [...completions(workers.map((w) => w.output())).keys()].filter((id) => id.endsWith('/train'));
    expect(trained).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await redis.start();
    expect(await run.exited).toBe(0);
    expect(completions(workers.map((w) => w.output())).size).toBe(4);
  });
});
