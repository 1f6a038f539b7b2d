import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { TrialRow } from '../../src/types.js';
import { queueFlags, trialsOf, useCliProcesses, type QueueProject } from '../helpers/queue-harness.js';
import { runCli } from '../helpers/run-cli.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from '../helpers/temp-project.js';

const redisUrl = inject('redisUrl');
const { startWorkers } = useCliProcesses();

// Four trials of 4 epochs; lr 50 diverges at once, so asha (rungs at epochs 1 and 3) must stop both such trials
// after epoch 1, judged against the two sound trials before them.
const SWEEP = `pipeline: pipeline.yaml
set:
  train.epochs: 4
grid:
  train.lr: [0.003, 50]
  train.optimizer: [adam, rmsprop]
objective:
  metric: val_accuracy
early_stop:
  method: asha
  metric: val_loss
  min_epochs: 1
  reduction_factor: 3
`;

let projects = 0;
function project(): QueueProject {
  const dir = tempDir();
  copySample(path.join(dir, 'data'), 20);
  writeFiles(dir, { 'pipeline.yaml': pipelineYaml('data'), 'sweep.yaml': SWEEP });
  projects += 1;
  const prefix = `es${process.pid}-${Date.now().toString(36)}-${projects}`;
  return { dir, sweep: path.join(dir, 'sweep.yaml'), ws: path.join(dir, 'ws'), prefix };
}

const started = (stderr: string) => [...stderr.matchAll(/▶ (\S+) started/g)].map((m) => m[1]);
const standing = (rows: TrialRow[]) =>
  rows.map((row) => ({ id: row.id, state: row.state, stopped: row.stopped, objective: row.objective }));

/** Epochs the train node of each trial ran, from its stored history. */
function trainedEpochs(ws: string, stdout: string): Record<string, number> {
  const plan = JSON.parse(stdout) as { nodes: { id: string; cacheKey: string }[] };
  const epochs: Record<string, number> = {};
  for (const node of plan.nodes.filter((n) => n.id.endsWith('/train'))) {
    const file = path.join(ws, 'nodes', node.cacheKey, 'history.json');
    if (existsSync(file)) epochs[node.id] = (JSON.parse(readFileSync(file, 'utf8')) as unknown[]).length;
  }
  return epochs;
}

describe('early_stop on a real sweep', () => {
  const p = project();
  let sequential: TrialRow[] = [];

  it('stops the diverging trials after epoch 1, as stopped (not failed), and evaluates them', async () => {
    const run = await runCli(['run', p.sweep, '--workspace', p.ws, '--parallel', '1', '--json']);
    expect(run.code, run.stderr).toBe(0);
    sequential = trialsOf(run.stdout);
    const byId = new Map(sequential.map((row) => [row.id, row]));
    for (const id of ['t03', 't04']) {
      expect(byId.get(id)?.state).toBe('stopped');
      expect(byId.get(id)?.stopped).toMatch(/^asha rung 1: val_loss \S+ below cutoff/);
      expect(byId.get(id)?.metrics).toHaveProperty('macro_f1'); // evaluate ran on the stopped model
    }
    expect(byId.get('t01')?.state).toBe('done');
    expect(sequential.every((row) => row.state === 'done' || row.state === 'stopped')).toBe(true);
    const plan = await runCli(['plan', p.sweep, '--workspace', p.ws, '--json']);
    const epochs = trainedEpochs(p.ws, plan.stdout);
    expect(epochs['t01/train']).toBe(4);
    expect(epochs['t03/train']).toBe(1);
    expect(epochs['t04/train']).toBe(1);
  });

  it('a rerun trains nothing again and shows the same standing; status shows it too', async () => {
    const again = await runCli(['run', p.sweep, '--workspace', p.ws, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(started(again.stderr)).toEqual([]);
    expect(standing(trialsOf(again.stdout))).toEqual(standing(sequential));
    const status = await runCli(['status', p.sweep, '--workspace', p.ws]);
    expect(status.stdout).toMatch(/t03 stopped: asha rung 1: val_loss/);
  });

  it('after the orchestrator is killed mid-sweep, a resume trains no finished trial again and decides the same', async () => {
    const ws = path.join(p.dir, 'killed');
    let killed = false;
    const first = await runCli(['run', p.sweep, '--workspace', ws, '--parallel', '1'], {
      onStderr: (_, child) => {
        if (!killed && /▶ t03\/train started/.test(_)) killed = child.kill('SIGKILL');
      },
    });
    expect(killed, first.stderr).toBe(true);
    const resumed = await runCli(['run', p.sweep, '--workspace', ws, '--parallel', '1', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(started(resumed.stderr)).not.toContain('t01/train');
    expect(started(resumed.stderr)).not.toContain('t02/train');
    expect(started(resumed.stderr)).toContain('t03/train');
    expect(standing(trialsOf(resumed.stdout))).toEqual(standing(sequential));
  });

  it('decides the same with three trials at once (verdicts do not depend on timing)', async () => {
    const ws = path.join(p.dir, 'parallel');
    const run = await runCli(['run', p.sweep, '--workspace', ws, '--parallel', '3', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(standing(trialsOf(run.stdout))).toEqual(standing(sequential));
  });

  it('decides the same on queue workers', async () => {
    const q = project();
    startWorkers(1, redisUrl, q);
    const run = await runCli(['run', q.sweep, ...queueFlags(redisUrl, q), '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(standing(trialsOf(run.stdout))).toEqual(standing(sequential));
  });

  it('refuses early_stop with --node-store in one line, exit 2', async () => {
    const run = await runCli(['run', p.sweep, ...queueFlags(redisUrl, p), '--node-store', 'http://127.0.0.1:1']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/early_stop needs workers on the shared workspace/);
  });
});
