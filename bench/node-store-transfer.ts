/**
 * The node store's cost: pushing a node to MLflow's artifact proxy and pulling it into another workspace (every file
 * verified by sha256), against copying the same folder on the local disk. Two nodes: a small one like a `train`
 * output (12 files, ~120 KB) and a large one like a data set (one 64 MiB file). 5 rounds, alternating, medians.
 * Starts its own MLflow server (from .venv-mlflow) with a local artifact folder.
 *
 *   npx tsx bench/node-store-transfer.ts
 */
import { randomBytes } from 'node:crypto';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ArtifactProxyClient } from '../src/store/artifact-proxy-client.js';
import { RemoteNodeStore } from '../src/store/remote-node-store.js';
import { WorkspaceStore } from '../src/store/workspace-store.js';
import { startMlflowServer } from '../test/helpers/mlflow-server.js';
import { tempDir } from '../test/helpers/temp-project.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const ROUNDS = 5;

async function makeNode(store: WorkspaceStore, key: string, files: Record<string, number>): Promise<number> {
  const build = await store.begin(key);
  let bytes = 0;
  for (const [name, size] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(build, name)), { recursive: true });
    await writeFile(path.join(build, name), randomBytes(size));
    bytes += size;
  }
  const now = new Date().toISOString();
  const record = { cacheKey: key, stage: key, kind: 'train', params: {}, metrics: {}, summary: {} };
  await store.commit(build, { ...record, startedAt: now, finishedAt: now, durationMs: 0 });
  return bytes;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const timed = async (run: () => Promise<unknown>) => {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
};

const server = await startMlflowServer();
try {
  const remote = new RemoteNodeStore(new ArtifactProxyClient({ uri: server.uri }), `bench-${Date.now()}`);
  const source = new WorkspaceStore(tempDir('bench-store-'));
  const small = Object.fromEntries([
    ['model/model.json', 8_000],
    ['model/weights.bin', 90_000],
    ...Array.from({ length: 9 }, (_, i) => [`chart-${i}.svg`, 2_000] as const),
  ]);
  const nodes = {
    small: { key: 'small', bytes: await makeNode(source, 'small', small) },
    large: { key: 'large', bytes: await makeNode(source, 'large', { 'dataset.bin': 64 * 1024 * 1024 }) },
  };
  const results: Record<string, Record<string, number>> = {};
  for (const [name, node] of Object.entries(nodes)) {
    const times = { push: [] as number[], pull: [] as number[], localCopy: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      let attempt = '';
      times.push.push(await timed(async () => (attempt = await remote.pushNode(source, node.key))));
      const target = new WorkspaceStore(tempDir('bench-pull-'));
      times.pull.push(await timed(() => remote.pullNode(target, node.key, attempt)));
      const copy = path.join(tempDir('bench-copy-'), node.key);
      times.localCopy.push(await timed(() => cp(source.nodeDir(node.key), copy, { recursive: true })));
    }
    const mb = node.bytes / 1e6;
    results[name] = {
      megabytes: Number(mb.toFixed(2)),
      pushMs: Number(median(times.push).toFixed(1)),
      pullMs: Number(median(times.pull).toFixed(1)),
      localCopyMs: Number(median(times.localCopy).toFixed(1)),
      pushMBps: Number((mb / (median(times.push) / 1000)).toFixed(1)),
      pullMBps: Number((mb / (median(times.pull) / 1000)).toFixed(1)),
    };
  }
  const result = {
    machine: { cpu: os.cpus()[0]?.model ?? '?', cores: os.availableParallelism(), node: process.version },
    load: os.loadavg().map((x) => Number(x.toFixed(2))),
    rounds: ROUNDS,
    nodes: results,
    measuredAt: new Date().toISOString(),
  };
  await mkdir(path.join(ROOT, 'bench/results'), { recursive: true });
  await writeFile(path.join(ROOT, 'bench/results/node-store-transfer.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
} finally {
  await server.stop();
}
