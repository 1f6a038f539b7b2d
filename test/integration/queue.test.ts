import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TrialRow } from '../../src/orchestrator/trial-results.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';
import { runCli, startCli, type CliProcess } from '../helpers/run-cli.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from '../helpers/temp-project.js';

let redis: RedisServer;
/** Every CLI process a test started (workers and orchestrators); killed after each test, even one that timed out. */
let spawned: CliProcess[] = [];
let prefixCount = 0;

beforeAll(async () => {
  redis = await startRedisServer();
});
afterEach(async () => {
  for (const proc of spawned) proc.child.kill('SIGKILL');
  await Promise.all(spawned.map((proc) => proc.exited));
  spawned = [];
});

function launch(args: string[]): CliProcess {
  const proc = startCli(args);
  spawned.push(proc);
  return proc;
}
afterAll(async () => redis?.stop());

/** A project with 20 real images per class and a sweep over `grid` (YAML). */
function project(grid: string): { dir: string; sweep: string; ws: string; prefix: string } {
  const dir = tempDir();
  copySample(path.join(dir, 'data'), 20);
  writeFiles(dir, { 'pipeline.yaml': pipelineYaml('data'), 'sweep.yaml': `pipeline: pipeline.yaml\ngrid:\n${grid}` });
  prefixCount += 1;
  return {
    dir,
    sweep: path.join(dir, 'sweep.yaml'),
    ws: path.join(dir, 'ws'),
    prefix: `t${process.pid}-${prefixCount}`,
  };
}

function startWorkers(count: number, prefix: string): CliProcess[] {
  return Array.from({ length: count }, () =>
    launch(['worker', '--queue', redis.url, '--queue-prefix', prefix, '--lock-ms', '2000', '--verbose']),
  );
}

const queueFlags = (p: { ws: string; prefix: string }) => [
  '--queue',
  redis.url,
  '--queue-prefix',
  p.prefix,
  '--workspace',
  p.ws,
];
const trialsOf = (stdout: string) => (JSON.parse(stdout) as { trials: TrialRow[] }).trials;
/** How many times each node was completed, over all worker logs. */
function completions(logs: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of logs.join('\n').matchAll(/✔ (\S+) in/g))
    counts.set(match[1] ?? '', (counts.get(match[1] ?? '') ?? 0) + 1);
  return counts;
}

async function queueCounts(prefix: string) {
  const result: Record<string, number> = {};
  for (const name of ['cpu', 'gpu']) {
    const queue = new Queue(name, { connection: { url: redis.url }, prefix });
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    for (const [key, value] of Object.entries(counts)) result[key] = (result[key] ?? 0) + value;
    await queue.close();
  }
  return result;
}

describe('pipeline run --queue with worker processes', () => {
  it('gives the same cache keys and metrics as the local executor', async () => {
    const p = project('  train.optimizer: [adam, rmsprop]\n');
    const workers = startWorkers(2, p.prefix);
    const queued = await runCli(['run', p.sweep, ...queueFlags(p), '--json']);
    expect(queued.code, queued.stderr).toBe(0);
    const local = await runCli(['run', p.sweep, '--workspace', path.join(p.dir, 'local'), '--json']);
    expect(local.code, local.stderr).toBe(0);
    expect(readdirSync(path.join(p.ws, 'nodes')).sort()).toEqual(
      readdirSync(path.join(p.dir, 'local', 'nodes')).sort(),
    );
    const metrics = (stdout: string) => trialsOf(stdout).map((t) => [t.id, t.metrics]);
    const [a, b] = [metrics(queued.stdout), metrics(local.stdout)];
    expect(a.map(([id]) => id)).toEqual(b.map(([id]) => id));
    a.forEach(([, m], i) => {
      for (const [key, value] of Object.entries(m as Record<string, number>)) {
        expect(value, key).toBeCloseTo((b[i]?.[1] as Record<string, number>)[key] ?? NaN, 5);
      }
    });
    const done = completions(workers.map((w) => w.output()));
    expect([...done.values()].every((n) => n === 1)).toBe(true);
    expect(done.size).toBe(8);
    expect(workers.every((w) => /✔/.test(w.output()))).toBe(true); // both workers took work
  });

  it('a worker killed with SIGKILL mid-train: another worker resumes its job from the checkpoint', async () => {
    const p = project('  train.epochs: [40]\n');
    const [first, second] = startWorkers(2, p.prefix);
    const run = launch(['run', p.sweep, ...queueFlags(p), '--json']);
    await run.waitFor(/t01\/train epoch [2-9]\d*\//, 120_000);
    const victim = [first, second].find((w) => /▶ t01\/train/.test(w?.output() ?? ''));
    expect(victim).toBeDefined();
    victim?.child.kill('SIGKILL');
    expect(await run.exited).toBe(0);
    const survivor = [first, second].find((w) => w !== victim);
    expect(survivor?.output()).toMatch(/▶ t01\/train \(attempt \d\)/);
    expect(survivor?.output()).toMatch(/\[t01\/train\] resuming from the checkpoint after epoch \d+/);
    expect(completions([survivor?.output() ?? '']).get('t01/train')).toBe(1);
    expect(trialsOf(run.output().slice(run.output().indexOf('{'))).map((t) => t.state)).toEqual(['done']);
  });

  it('the orchestrator killed and started again re-attaches; no node runs twice', async () => {
    const p = project('  train.optimizer: [adam, rmsprop]\n  train.batchSize: [4, 8]\n');
    const workers = startWorkers(2, p.prefix);
    const first = launch(['run', p.sweep, ...queueFlags(p)]);
    await first.waitFor(/✔ t0\d\/train/, 120_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = await runCli(['run', p.sweep, ...queueFlags(p), '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(trialsOf(second.stdout).map((t) => t.state)).toEqual(['done', 'done', 'done', 'done']);
    const done = completions(workers.map((w) => w.output()));
    expect(done.size).toBe(2 + 4 * 3);
    expect([...done.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  });

  it('survives a Redis restart mid-sweep', async () => {
    const p = project('  train.optimizer: [adam, rmsprop]\n  train.epochs: [15]\n');
    const workers = startWorkers(2, p.prefix);
    const run = launch(['run', p.sweep, ...queueFlags(p), '--json']);
    await run.waitFor(/✔ split/, 120_000);
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await redis.start();
    expect(await run.exited).toBe(0);
    expect(completions(workers.map((w) => w.output())).size).toBe(8);
  });

  it('cancel removes queued jobs and stops running ones', async () => {
    const p = project('  train.epochs: [100000]\n  train.batchSize: [4, 8, 16]\n');
    startWorkers(1, p.prefix);
    const run = launch(['run', p.sweep, ...queueFlags(p), '--json']);
    await run.waitFor(/t0\d\/train epoch 1\//, 120_000);
    const cancel = await runCli(['cancel', p.sweep, ...queueFlags(p)]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(/3 trials: [12] queued jobs removed, 1 running jobs told to stop/);
    expect(await run.exited).toBe(1);
    const states = trialsOf(run.output().slice(run.output().indexOf('{'))).map((t) => t.state);
    expect(states).toEqual(['cancelled', 'cancelled', 'cancelled']);
    const counts = await queueCounts(p.prefix);
    expect(counts).toMatchObject({ waiting: 0, active: 0, delayed: 0, prioritized: 0 });
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
  });

  it('bad input fails its node once, with the clear error and no retries', async () => {
    const p = project('  train.optimizer: [adam]\n');
    mkdirSync(path.join(p.dir, 'data', 'improper_mask'));
    writeFileSync(path.join(p.dir, 'data', 'improper_mask', 'readme.txt'), 'no images');
    const [worker] = startWorkers(1, p.prefix);
    const run = await runCli(['run', p.sweep, ...queueFlags(p), '--json']);
    expect(run.code).toBe(1);
    expect(trialsOf(run.stdout)[0]?.error).toMatch(/ingest: .*class 'improper_mask' has no readable images/);
    expect(worker?.output().match(/▶ t01\/ingest \(attempt/g)).toHaveLength(1);
  });

  it('says clearly when Redis is not reachable', async () => {
    const p = project('  train.optimizer: [adam]\n');
    const run = await runCli(['run', p.sweep, '--queue', 'redis://127.0.0.1:1', '--workspace', p.ws]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      /^pipeline: Redis at 127\.0\.0\.1:1 is not reachable \(.*\) — start it, or drop --queue to run locally\n$/,
    );
    expect(spawnSync('ls', [p.ws]).status).not.toBe(0);
  });
});
