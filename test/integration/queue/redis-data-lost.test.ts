import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueFlags, queueProject, trialsOf, useCliProcesses } from '../../helpers/queue-harness.js';
import { startRedisServer, type RedisServer } from '../../helpers/redis-server.js';
import { stageFixtures } from '../../helpers/stage-fixtures.js';

// This test wipes Redis, so it has a server of its own rather than the run's.
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => redis?.stop());
const { launch, startWorkers } = useCliProcesses();

describe('Redis losing its data mid-sweep (FLUSHALL, a restart without persistence, a failover)', () => {
  it('is not a cancel: the lost jobs are queued again once, with a warning, and the sweep completes', async () => {
    const p = queueProject('  train.optimizer: [adam, rmsprop]\n');
    startWorkers(2, redis.url, p, stageFixtures({ '*': 'succeed', train: 'slow' }));
    const run = launch(['run', p.sweep, ...queueFlags(redis.url, p), '--json']);
    await run.waitFor(/t0\d\/train epoch [2-9]\/20/, 60_000);
    expect(
      spawnSync('redis-cli', ['-p', String(redis.port), 'flushall'])
        .stdout.toString()
        .trim(),
    ).toBe('OK');
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(
      /warning: t0\d\/train: its job vanished from Redis without a result \(did Redis lose its data: a FLUSHALL, a restart without persistence, a failover\?\); queued again\n/,
    );
    expect(run.output()).not.toMatch(/cancelled/);
    expect(trialsOf(run.output()).map((t) => t.state)).toEqual(['done', 'done']);
  });
});
