import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from './run-cli.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from './temp-project.js';

/** A project on disk: its folder, sweep file and workspace. */
export interface TrackedProject {
  dir: string;
  sweep: string;
  ws: string;
}

/** A project with a 2-trial sweep (adam vs rmsprop), `epochs` epochs on 16 images per class. */
export function trackedProject(epochs: number): TrackedProject {
  const dir = tempDir();
  copySample(path.join(dir, 'data'), 16);
  writeFiles(dir, {
    'pipeline.yaml': pipelineYaml('data').replace('epochs: 1', `epochs: ${epochs}`),
    'sweep.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam, rmsprop]\n',
  });
  return { dir, sweep: path.join(dir, 'sweep.yaml'), ws: path.join(dir, 'ws') };
}

/** Makes the project a git checkout on `branch` with one commit and an `origin` remote; returns the commit. */
export function commitProject(dir: string, branch: string, origin: string): string {
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: dir })
      .toString()
      .trim();
  git('init', '-q', '-b', branch);
  git('remote', 'add', 'origin', origin);
  git('add', 'pipeline.yaml', 'sweep.yaml');
  git('commit', '-q', '-m', 'sweep');
  return git('rev-parse', 'HEAD');
}

/** A node's stored record (`result.json`), as far as these tests read it. */
export interface StoredRecord {
  cacheKey: string;
  startedAt: string;
  finishedAt: string;
  params: Record<string, unknown>;
}

/** The stored nodes of a project's plan by node id (`split`, `t01/train`): folder and record. */
export async function storedNodes(
  project: TrackedProject,
): Promise<Map<string, { dir: string; record: StoredRecord }>> {
  const plan = await runCli(['plan', project.sweep, '--workspace', project.ws, '--json']);
  const { nodes } = JSON.parse(plan.stdout) as { nodes: { id: string; cacheKey: string; cached: boolean }[] };
  return new Map(
    nodes
      .filter((node) => node.cached)
      .map((node) => {
        const dir = path.join(project.ws, 'nodes', node.cacheKey);
        const record = JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8')) as StoredRecord;
        return [node.id, { dir, record }];
      }),
  );
}
