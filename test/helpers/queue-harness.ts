import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterEach } from 'vitest';
import type { TrialRow } from '../../src/types.js';
import { startCli, type CliOptions, type CliProcess } from './run-cli.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from './temp-project.js';

/** A sweep in a temp folder, with its workspace and a queue prefix of its own. */
export interface QueueProject {
  dir: string;
  sweep: string;
  ws: string;
  prefix: string;
}

let projects = 0;

// Ingest → split → train: the shortest pipeline with a shared part and a node per trial, for fixture stages.
const FIXTURE_PIPELINE = `name: fixtures
stages:
  ingest:
    params: { dataDir: data }
  split:
    needs: [ingest]
  train:
    needs: [split]
`;

/**
 * A project over `grid` (YAML lines under `grid:`). With `perClass`, the full pipeline on that many real images
 * per class; without, ingest → split → train for fixture stages, over a stand-in file per class (enough for the
 * planner, which hashes the data folder).
 */
export function queueProject(grid: string, perClass?: number): QueueProject {
  const dir = tempDir();
  if (perClass === undefined) writeFiles(dir, { 'data/a/1.jpg': 'a', 'data/b/1.jpg': 'b' });
  else copySample(path.join(dir, 'data'), perClass);
  const pipeline = perClass === undefined ? FIXTURE_PIPELINE : pipelineYaml('data');
  writeFiles(dir, { 'pipeline.yaml': pipeline, 'sweep.yaml': `pipeline: pipeline.yaml\ngrid:\n${grid}` });
  projects += 1;
  // Unique across runs too, since REDIS_URL may point every run at one server.
  const prefix = `t${process.pid}-${Date.now().toString(36)}-${projects}`;
  return { dir, sweep: path.join(dir, 'sweep.yaml'), ws: path.join(dir, 'ws'), prefix };
}

/** `--queue`, `--queue-prefix` and `--workspace` for a project. */
export function queueFlags(redisUrl: string, p: QueueProject): string[] {
  return ['--queue', redisUrl, '--queue-prefix', p.prefix, '--workspace', p.ws];
}

/**
 * A command line that runs a process in a mount namespace of its own whose /tmp is an empty tmpfs, so the folders
 * tests make under /tmp (the orchestrator's workspace among them) do not exist for it; it refuses to start if
 * `hidden` is still visible. Undefined where mount namespaces are not allowed (not root).
 */
export function privateTmpWrapper(hidden: string): string[] | undefined {
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs tmpfs /tmp']);
  if (probe.status !== 0) return undefined;
  return ['unshare', '-m', 'sh', '-c', 'mount -t tmpfs tmpfs /tmp && test ! -e "$0" && exec "$@"', hidden];
}

/** The flags every test worker gets: the project's queue and prefix, a short lock, stage log lines. */
export function workerFlags(redisUrl: string, p: QueueProject): string[] {
  return ['--queue', redisUrl, '--queue-prefix', p.prefix, '--lock-ms', '2000', '--verbose'];
}

/**
 * Starts CLI processes (workers, orchestrators) for one test file, and kills every one of them after each test,
 * even a test that timed out.
 */
export function useCliProcesses() {
  let spawned: CliProcess[] = [];
  afterEach(async () => {
    for (const proc of spawned) proc.child.kill('SIGKILL');
    await Promise.all(spawned.map((proc) => proc.exited));
    spawned = [];
  });
  const launch = (args: string[], options: CliOptions = {}): CliProcess => {
    const proc = startCli(args, options);
    spawned.push(proc);
    return proc;
  };
  return {
    launch,
    /**
     * `count` workers on the project's queues, sharing its workspace; `env` reaches their stage processes (stage
     * fixtures), `args` are extra flags.
     */
    startWorkers: (
      count: number,
      redisUrl: string,
      p: QueueProject,
      env: Record<string, string> = {},
      args: string[] = ['--workspace', p.ws],
    ) =>
      Array.from({ length: count }, () =>
        launch(['worker', ...workerFlags(redisUrl, p), ...args], {
          env,
        }),
      ),
  };
}

/** The trials of a `--json` results table, wherever it starts in the output. */
export function trialsOf(output: string): TrialRow[] {
  const start = output.indexOf('{');
  const end = output.indexOf('\n}\n', start);
  return (JSON.parse(output.slice(start, end < 0 ? undefined : end + 2)) as { trials: TrialRow[] }).trials;
}

/** How many times each node was completed, over all worker logs. */
export function completions(logs: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const match of logs.join('\n').matchAll(/✔ (\S+) in/g)) {
    counts.set(match[1] ?? '', (counts.get(match[1] ?? '') ?? 0) + 1);
  }
  return counts;
}

/** How many attempts of `nodeId` workers started, over all worker logs. */
export function attempts(logs: string[], nodeId: string): number {
  return logs.join('\n').split(`▶ ${nodeId} (attempt `).length - 1;
}

/** Jobs left in both queues of a prefix, by state. */
export async function queueCounts(redisUrl: string, prefix: string): Promise<Record<string, number>> {
  const result: Record<string, number> = {};
  for (const name of ['cpu', 'gpu']) {
    const queue = new Queue(name, { connection: { url: redisUrl }, prefix });
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    for (const [key, value] of Object.entries(counts)) result[key] = (result[key] ?? 0) + value;
    await queue.close();
  }
  return result;
}
