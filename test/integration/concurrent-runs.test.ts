/**
 * Two `pipeline run`s on one workspace, started together and 6 s apart: each node is built by one of them only (the
 * other waits on its build lock and reuses the output), and both report what a clean run reports.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { TrialRow } from '../../src/types.js';
import { runCli } from '../helpers/run-cli.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from '../helpers/temp-project.js';

const NODES = ['ingest', 'split', 'train', 'evaluate', 'visualize'];

function project(): { sweep: string; ws: string } {
  const dir = tempDir();
  copySample(path.join(dir, 'data'), 20);
  writeFiles(dir, {
    'pipeline.yaml': pipelineYaml('data').replace('epochs: 1', 'epochs: 15'),
    'sweep.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam]\n',
  });
  return { sweep: path.join(dir, 'sweep.yaml'), ws: path.join(dir, 'ws') };
}

/** Nodes this run built itself: started, and not handed the other run's output. */
function built(stderr: string): string[] {
  const started = [...stderr.matchAll(/▶ (\S+) started/g)].map((m) => m[1] ?? '');
  const reused = new Set([...stderr.matchAll(/\[(\S+)\] built by another process meanwhile/g)].map((m) => m[1]));
  return started.filter((id) => !reused.has(id));
}

const metrics = (stdout: string) => (JSON.parse(stdout) as { trials: TrialRow[] }).trials.map((t) => t.metrics);

describe('two runs on one workspace', () => {
  it.each([0, 6000])('started %i ms apart: every node built once, both with clean-run results', async (gapMs) => {
    const clean = project();
    const cleanRun = await runCli(['run', clean.sweep, '--workspace', clean.ws, '--json']);
    expect(cleanRun.code, cleanRun.stderr).toBe(0);

    const shared = project();
    const run = () => runCli(['run', shared.sweep, '--workspace', shared.ws, '--json', '--verbose']);
    const first = run();
    await sleep(gapMs);
    const [a, b] = await Promise.all([first, run()]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect([...built(a.stderr), ...built(b.stderr)].map((id) => id.replace(/^t\d+\//, '')).sort()).toEqual(
      [...NODES].sort(),
    );
    expect(metrics(a.stdout)).toEqual(metrics(cleanRun.stdout));
    expect(metrics(b.stdout)).toEqual(metrics(cleanRun.stdout));
    const weights = (ws: string) => {
      const nodes = path.join(ws, 'nodes');
      const key = readdirSync(nodes).find((name) => readdirSync(path.join(nodes, name)).includes('history.json'));
      return readFileSync(path.join(nodes, key ?? '', 'model', 'weights.bin'));
    };
    expect(weights(shared.ws).equals(weights(clean.ws))).toBe(true);
  });
});
