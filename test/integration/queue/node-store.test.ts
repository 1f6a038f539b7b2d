import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  completions,
  privateTmpWrapper,
  queueFlags,
  queueProject,
  trialsOf,
  useCliProcesses,
  workerFlags,
  type QueueProject,
} from '../../helpers/queue-harness.js';
import { waitForMlflow } from '../../helpers/mlflow-server.js';
import { freePort } from '../../helpers/redis-server.js';
import { runCli } from '../../helpers/run-cli.js';
import { copySample, tempDir, writeFiles } from '../../helpers/temp-project.js';

const redisUrl = inject('redisUrl');
const mlflowUri = inject('mlflowUri');
const { launch } = useCliProcesses();

/**
 * A worker with a workspace of its own, reaching nodes through the node store. With `isolated`, it runs in a mount
 * namespace whose /tmp is empty: the project folder (and the orchestrator's workspace in it) does not exist there.
 */
function startOwnWorker(p: QueueProject, isolated: boolean) {
  const wrap = isolated ? privateTmpWrapper(p.dir) : undefined;
  if (isolated && !wrap)
    console.warn('mount namespaces are not allowed here: the isolated worker only has a folder of its own');
  const workspace = wrap ? '/tmp/worker-ws' : path.join(tempDir(), 'worker-ws');
  const args = ['worker', ...workerFlags(redisUrl, p), '--workspace', workspace, '--node-store', mlflowUri ?? ''];
  return { worker: launch(args, wrap ? { wrap } : {}), workspace };
}

const nodesOf = (ws: string) => readdirSync(path.join(ws, 'nodes')).sort();
const metricsOf = (stdout: string) => trialsOf(stdout).map((t) => [t.id, t.metrics] as const);

/** Metrics equal to 5 digits, trial by trial; speeds (faces per second) are measurements, not results. */
function expectSameMetrics(queued: string, local: string): void {
  const [a, b] = [metricsOf(queued), metricsOf(local)];
  expect(a.map(([id]) => id)).toEqual(b.map(([id]) => id));
  a.forEach(([, m], i) => {
    expect(Object.keys(m).sort()).toEqual(Object.keys(b[i]?.[1] ?? {}).sort());
    for (const [key, value] of Object.entries(m)) {
      if (!key.endsWith('per_second')) expect(value, key).toBeCloseTo(b[i]?.[1][key] ?? NaN, 5);
    }
  });
}

describe.skipIf(mlflowUri === null)('workers without a shared disk, through the node store', () => {
  beforeAll(() => waitForMlflow(mlflowUri ?? ''));

  it("build a sweep in workspaces of their own and give the local executor's nodes and metrics", async () => {
    const p = queueProject('  train.optimizer: [adam, rmsprop]\n', 20);
    const own = startOwnWorker(p, false);
    const isolated = startOwnWorker(p, true);
    await Promise.all([own.worker.waitFor(/serving/), isolated.worker.waitFor(/serving/)]);
    const queued = await runCli([
      'run',
      p.sweep,
      ...queueFlags(redisUrl, p),
      '--node-store',
      mlflowUri ?? '',
      '--json',
    ]);
    expect(queued.code, queued.stderr).toBe(0);
    const local = await runCli(['run', p.sweep, '--workspace', path.join(p.dir, 'local'), '--json']);
    expect(local.code, local.stderr).toBe(0);
    expect(nodesOf(p.ws)).toEqual(nodesOf(path.join(p.dir, 'local')));
    expectSameMetrics(queued.stdout, local.stdout);
    const logs = [own.worker.output(), isolated.worker.output()];
    expect([...completions(logs).values()]).toEqual(Array.from({ length: 8 }, () => 1));
    expect(logs.every((log) => /✔/.test(log))).toBe(true); // both took work
    // The split node's data sets, built from the data folder a worker pulled, are byte for byte the local ones.
    const split = readdirSync(path.join(p.ws, 'nodes')).find((key) =>
      readdirSync(path.join(p.ws, 'nodes', key)).some((file) => file.startsWith('train')),
    );
    for (const file of readdirSync(path.join(p.ws, 'nodes', split ?? ''))) {
      if (file === 'result.json' || file === 'log.txt') continue;
      const read = (ws: string) => readFileSync(path.join(ws, 'nodes', split ?? '', file));
      expect(read(p.ws).equals(read(path.join(p.dir, 'local'))), file).toBe(true);
    }
    // Jobs name inputs by cache key and data folders by fingerprint: no absolute path anywhere in them.
    const jobs = await Promise.all(
      ['cpu', 'gpu'].map(async (name) => {
        const queue = new Queue(name, { connection: { url: redisUrl }, prefix: p.prefix });
        const found = await queue.getJobs(['completed']);
        await queue.close();
        return found.map((job) => JSON.stringify(job.data));
      }),
    );
    expect(jobs.flat()).toHaveLength(8);
    for (const data of jobs.flat()) expect(data).not.toMatch(/"\/|\/tmp\//);
    expect(jobs.flat().join('\n')).toMatch(/"dataDir":"\.\.\/\.\.\/data\/[0-9a-f]{64}"/);
  });

  it('an unreachable node store is one line and exit 4, before anything is queued or written', async () => {
    const p = queueProject('  train.optimizer: [adam]\n');
    const port = await freePort();
    const run = await runCli(['run', p.sweep, ...queueFlags(redisUrl, p), '--node-store', `http://127.0.0.1:${port}`]);
    expect(run.code).toBe(4);
    expect(run.stderr).toBe(
      `pipeline: node store at http://127.0.0.1:${port} is unreachable (ECONNREFUSED) — start it, or drop --node-store to use a shared workspace\n`,
    );
    expect(existsSync(p.ws)).toBe(false);
  });

  it('a stage that re-reads the data folder (synthesize) runs on another machine than the local run that ingested', async () => {
    const dir = tempDir('synth-store-');
    copySample(path.join(dir, 'data'), 12);
    const ingest = '  ingest:\n    params: { dataDir: data, imageSize: 16 }\n';
    writeFiles(dir, {
      'ingest.yaml': `name: ingest-only\nstages:\n${ingest}`,
      'pipeline.yaml': `name: synth\nstages:\n${ingest}  synthesize:
    needs: [ingest]
    params: { sources: [without_mask], perImage: 1, variants: { proper: with_mask, improper-nose: without_mask }, maxSources: 6, montage: 2 }
  split:
    needs: [synthesize]
    params: { valFraction: 0.25, seed: 1 }
  train:
    needs: [split]
    params: { filters: [2, 4, 4], denseUnits: 8, epochs: 1, batchSize: 8 }
  evaluate:
    needs: [train, split]
`,
      'first.yaml': 'pipeline: ingest.yaml\ngrid:\n  ingest.imageSize: [16]\n',
      'sweep.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam]\n',
    });
    const p: QueueProject = {
      dir,
      sweep: path.join(dir, 'sweep.yaml'),
      ws: path.join(dir, 'ws'),
      prefix: `synth-${process.pid}-${Date.now().toString(36)}`,
    };
    const store = ['--node-store', mlflowUri ?? ''];
    // The ingest node is built by a local run, so it records the data folder's path on this machine, which the
    // isolated worker (its own /tmp) does not have.
    const first = await runCli(['run', path.join(dir, 'first.yaml'), '--workspace', p.ws]);
    expect(first.code, first.stderr).toBe(0);
    const other = startOwnWorker(p, true);
    const queued = await runCli(['run', p.sweep, ...queueFlags(redisUrl, p), ...store, '--json']);
    expect(queued.code, queued.stderr).toBe(0);
    expect(other.worker.output()).toMatch(/✔ t01\/synthesize in/);
    expect(other.worker.output()).not.toMatch(/▶ t01\/ingest/);
    const local = await runCli(['run', p.sweep, '--workspace', path.join(dir, 'local'), '--json']);
    expect(local.code, local.stderr).toBe(0);
    expect(nodesOf(p.ws)).toEqual(nodesOf(path.join(dir, 'local')));
    expectSameMetrics(queued.stdout, local.stdout);
    expect(metricsOf(queued.stdout)[0]?.[1].images_synthesized).toBeGreaterThan(0);
  });
});
