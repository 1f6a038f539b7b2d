/**
 * Distributed execution: wall time of an 8-trial sweep on 1 worker vs 2 workers (speedup, target ≥ 1.9×), and the
 * orchestration overhead per node (target < 20 ms): the time the orchestrator sees a node take, minus the time the
 * worker spent building it (child process included), i.e. queueing, pick-up, commit and completion notice.
 * Starts its own redis-server on a free port; workers are real `pipeline worker` processes.
 *
 *   npx tsx bench/queue-scaling.ts [--backend cpu] [--epochs 40]
 *
 * The default backend is pure JS, which trains on one core per process, so two workers on two cores can scale.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createRedisExecutor } from '../src/orchestrator/redis-executor.js';
import { planSweep } from '../src/plan/plan-sweep.js';
import { connectRedis } from '../src/queue/redis-connection.js';
import { loadSweep } from '../src/spec/load-sweep.js';
import { WorkspaceStore } from '../src/store/workspace-store.js';
import type { BackendChoice } from '../src/ml/backend.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from '../test/helpers/temp-project.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { backend: { type: 'string', default: 'cpu' }, epochs: { type: 'string', default: '40' } },
});
const backend = values.backend as BackendChoice;

const redis = await startRedisServer();
const dir = tempDir('pipeline-bench-');
copySample(path.join(dir, 'data'), 40);
writeFiles(dir, {
  'pipeline.yaml': pipelineYaml('data'),
  'sweep.yaml': `pipeline: pipeline.yaml\nset:\n  train.epochs: ${values.epochs}\ngrid:\n  train.seed: [1, 2, 3, 4, 5, 6, 7, 8]\n`,
});

/**
 * Runs the sweep on `workers` fresh workers with at most `parallel` nodes in flight; returns wall seconds and, per
 * node, the orchestrator-observed time minus the worker's build time (ms). With `parallel` 1 nothing waits behind
 * another job, so that difference is the orchestration overhead alone.
 */
async function runOn(workers: number, parallel: number) {
  const prefix = `bench-${workers}-${parallel}-${Date.now()}`;
  const workspace = path.join(dir, `ws-${prefix}`);
  const procs = Array.from({ length: workers }, () =>
    spawn(
      process.execPath,
      [
        path.join(ROOT, 'dist/cli.js'),
        'worker',
        '--queue',
        redis.url,
        '--queue-prefix',
        prefix,
        '--workspace',
        workspace,
      ],
      {
        stdio: 'ignore',
      },
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 1500)); // let the workers connect
  const sweep = await loadSweep(path.join(dir, 'sweep.yaml'));
  const plan = planSweep(sweep);
  const connection = await connectRedis(redis.url);
  const started = new Map<string, number>();
  const observed = new Map<string, number>();
  const t0 = performance.now();
  const executor = createRedisExecutor({ connection, prefix, where: redis.url, overrides: [], warn: console.warn });
  const outcomes = await executor.execute(plan, {
    store: new WorkspaceStore(workspace),
    force: new Set(),
    parallel,
    backend,
    signal: new AbortController().signal,
    events: {
      nodeStarted: (node) => started.set(node.id, performance.now()),
      nodeFinished: (node) => observed.set(node.id, performance.now() - (started.get(node.id) ?? 0)),
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const overheads = [...outcomes].flatMap(([id, outcome]) =>
    outcome.state === 'done' ? [(observed.get(id) ?? 0) - outcome.record.durationMs] : [],
  );
  if (overheads.length !== plan.nodes.length)
    throw new Error(`only ${overheads.length}/${plan.nodes.length} nodes finished`);
  for (const proc of procs) proc.kill('SIGTERM');
  await Promise.all(procs.map((proc) => new Promise((resolve) => proc.once('close', resolve))));
  await connection.quit();
  return { seconds, overheads: overheads.sort((a, b) => a - b), nodes: plan.nodes.length };
}

const one = await runOn(1, Infinity);
const two = await runOn(2, Infinity);
const sequential = await runOn(1, 1);
await redis.stop();
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const all = sequential.overheads;
const result = {
  machine: { cpu: os.cpus()[0]?.model ?? '?', cores: os.availableParallelism(), node: process.version },
  sweep: { trials: 8, nodes: one.nodes, backend, epochs: Number(values.epochs), imagesPerClass: 40, imageSize: 16 },
  oneWorkerSeconds: Number(one.seconds.toFixed(2)),
  twoWorkersSeconds: Number(two.seconds.toFixed(2)),
  speedup: Number((one.seconds / two.seconds).toFixed(2)),
  overheadMsPerNode: {
    mean: Number(mean(all).toFixed(1)),
    p50: Number((all[Math.floor(all.length / 2)] ?? 0).toFixed(1)),
    p95: Number((all[Math.floor(all.length * 0.95)] ?? 0).toFixed(1)),
    samples: all.length,
  },
  targets: { speedup: 1.9, overheadMsPerNode: 20 },
  measuredAt: new Date().toISOString(),
};
await mkdir(path.join(ROOT, 'bench/results'), { recursive: true });
await writeFile(path.join(ROOT, 'bench/results/queue-scaling.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result, null, 2));
