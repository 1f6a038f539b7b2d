import { createHash } from 'node:crypto';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLossyProxy } from '../helpers/lossy-proxy.js';
import { waitForMlflow } from '../helpers/mlflow-server.js';
import { oracleHistories, oracleRuns, pythonOracle, type OracleRun } from '../helpers/mlflow-oracle.js';
import { runCli } from '../helpers/run-cli.js';
import { commitProject, storedNodes, trackedProject } from '../helpers/tracked-project.js';

// The run's MLflow server (test/global-setup.ts); experiments are named per test.
const sharedUri = inject('mlflowUri');
const skipReason = inject('mlflowSkip');
if (skipReason) console.warn(`MLflow integration tests skipped: ${skipReason}`);

const EPOCHS = 3;
const trials = (runs: OracleRun[]) => runs.filter((run) => run.parent).sort((a, b) => a.start - b.start);
const parentOf = (runs: OracleRun[]) => runs.find((run) => !run.parent) as OracleRun;
const byTrial = (runs: OracleRun[], trial: string) =>
  runs.filter((run) => run.tags['pipeline.trial'] === trial).sort((a, b) => a.start - b.start);

describe.skipIf(sharedUri === null)('MLflow runs as an MLflow user reads them (official Python client)', () => {
  const uri = sharedUri ?? '';
  beforeAll(() => waitForMlflow(uri));
  const run = (args: string[], trackingUri = uri) => runCli([...args, '--tracking-uri', trackingUri]);

  // A git checkout whose origin URL carries a token: the tags must name the repository without it.
  const project = trackedProject(EPOCHS);
  const commit = commitProject(project.dir, 'feature/masks', 'https://bob:hunter2token@git.example.com/team/masks.git');
  const flags = ['--workspace', project.ws, '--parallel', '1', '--experiment', 'runs-as-read'];

  it('every run has its own times, system tags, user, data set inputs, and a trimmed page', async () => {
    const result = await run(['run', project.sweep, ...flags]);
    expect(result.code, result.stderr).toBe(0);
    const runs = oracleRuns(uri, 'runs-as-read');
    const nodes = await storedNodes(project);
    const parent = parentOf(runs);
    expect(runs).toHaveLength(3);
    for (const r of runs) {
      expect(r.status).toBe('FINISHED');
      expect(r.user).toBe(os.userInfo().username);
      expect(r.tags).toMatchObject({
        'mlflow.user': os.userInfo().username,
        'mlflow.source.name': `pipeline run ${project.sweep}`,
        'mlflow.source.type': 'LOCAL',
        'mlflow.source.git.commit': commit,
        'mlflow.source.git.branch': 'feature/masks',
        'mlflow.source.git.repoURL': 'https://git.example.com/team/masks.git',
      });
      expect(JSON.stringify(r.tags)).not.toContain('hunter2token');
    }
    // Each trial starts when its training does and ends when its last stage does, not when the sweep does.
    for (const [i, trial] of trials(runs).entries()) {
      const id = `t0${i + 1}`;
      const started = Date.parse(nodes.get(`${id}/train`)?.record.startedAt ?? '');
      const finished = Date.parse(nodes.get(`${id}/visualize`)?.record.finishedAt ?? '');
      expect(Math.abs(trial.start - started), id).toBeLessThan(1500);
      expect(Math.abs((trial.end ?? 0) - finished), id).toBeLessThan(1500);
    }
    const [t01, t02] = trials(runs) as [OracleRun, OracleRun];
    expect(t01.end).toBeLessThan(t02.end ?? 0);
    expect(t02.end).toBeLessThan(parent.end ?? 0);
    // Data sets: the split's parts, digest = hash of their stored contents, counts per class.
    const split = nodes.get('split')?.dir ?? '';
    const countsOf = (part: string) => {
      const header = JSON.parse(readFileSync(path.join(split, `${part}.json`), 'utf8')) as {
        classes: string[];
        labels: number[];
      };
      return Object.fromEntries(header.classes.map((name, k) => [name, header.labels.filter((l) => l === k).length]));
    };
    for (const trial of [t01, t02]) {
      expect(trial.inputs.map((input) => [input.name, input.context])).toEqual([
        ['data-train', ['train']],
        ['data-val', ['val']],
      ]);
      for (const input of trial.inputs) {
        const part = input.context[0] ?? '';
        const hash = createHash('sha256').update(readFileSync(path.join(split, `${part}.json`)));
        expect(input.digest).toBe(
          hash
            .update(readFileSync(path.join(split, `${part}.bin`)))
            .digest('hex')
            .slice(0, 16),
        );
        expect(JSON.parse(input.source)).toEqual({ uri: path.join(project.dir, 'data') });
        expect(JSON.parse(input.profile)).toEqual({ num_rows: part === 'train' ? 24 : 8, classes: countsOf(part) });
        expect(Object.values(countsOf(part))).toEqual(part === 'train' ? [12, 12] : [4, 4]);
      }
    }
    // A trimmed page: no presentation params, a handful of pipeline.* tags, no copies of the last epoch.
    expect(Object.keys(t01.params).filter((key) => /^(visualize\.|evaluate\.digits)/.test(key))).toEqual([]);
    expect(
      Object.keys(t01.tags)
        .filter((key) => key.startsWith('pipeline.'))
        .sort(),
    ).toEqual(['pipeline.backend', 'pipeline.localRunId', 'pipeline.sweep', 'pipeline.trial']);
    expect(Object.keys(t01.metrics).filter((key) => /^train\.(loss|accuracy|val_loss)$/.test(key))).toEqual([]);
    const history = oracleHistories(uri, [t01.id], ['loss', 'val_accuracy'])[t01.id];
    expect(history?.loss?.map(([step]) => step)).toEqual([0, 1, 2]);
    const doc = pythonOracle<{ stages: Record<string, { params: Record<string, unknown> }> }>(
      uri,
      `print(json.dumps(mlflow.artifacts.load_dict(c.get_run(${JSON.stringify(t01.id)}).info.artifact_uri + '/pipeline.json')))`,
    );
    expect(doc.stages['t01/visualize']?.params).toMatchObject({ width: 720, height: 420 });
  });

  it("a rerun is named '… #2', the parent's best run follows it, and its cached epochs keep their times", async () => {
    const before = oracleRuns(uri, 'runs-as-read');
    const best = parentOf(before).tags['pipeline.best.trial'] ?? '';
    const result = await run(['rerun', project.sweep, '--stage', 'evaluate', '--trial', best, ...flags]);
    expect(result.code, result.stderr).toBe(0);
    const runs = oracleRuns(uri, 'runs-as-read');
    const [first, second] = byTrial(runs, best) as [OracleRun, OracleRun];
    expect(second.name).toBe(`${first.name} #2`);
    expect(second.tags).toMatchObject({ 'pipeline.rerunOf': first.id, 'pipeline.attempt': '2' });
    expect(parentOf(runs).tags['pipeline.best.runId']).toBe(second.id);
    const train = (await storedNodes(project)).get(`${best}/train`)?.record;
    const points = oracleHistories(uri, [second.id], ['loss'])[second.id]?.loss ?? [];
    expect(points.map(([step]) => step)).toEqual([0, 1, 2]);
    const times = points.map(([, , timestamp]) => timestamp);
    expect(new Set(times).size).toBe(EPOCHS);
    for (const time of times) {
      expect(time).toBeGreaterThan(Date.parse(train?.startedAt ?? ''));
      expect(time).toBeLessThanOrEqual(Date.parse(train?.finishedAt ?? ''));
    }
  });

  it('a fresh workspace against the same server makes its own runs; no metric series gets a second copy', async () => {
    const before = oracleRuns(uri, 'runs-as-read');
    const fresh = ['--workspace', path.join(project.dir, 'ws-fresh'), '--experiment', 'runs-as-read'];
    const result = await run(['run', project.sweep, ...fresh]);
    expect(result.code, result.stderr).toBe(0);
    const runs = oracleRuns(uri, 'runs-as-read');
    expect(runs).toHaveLength(before.length + 3);
    expect(runs.filter((r) => !r.parent)).toHaveLength(2);
    const ids = runs.filter((r) => r.tags['pipeline.trial']).map((r) => r.id);
    const histories = oracleHistories(uri, ids, ['loss']);
    for (const id of ids)
      expect(
        histories[id]?.loss?.map(([step]) => step),
        id,
      ).toEqual([0, 1, 2]);
  });

  it('a sweep interrupted during training and run again continues the same runs, with every step once', async () => {
    const interrupted = trackedProject(2);
    const args = ['run', interrupted.sweep, '--workspace', interrupted.ws, '--parallel', '1'];
    const tracking = ['--experiment', 'runs-resumed', '--tracking-uri', uri];
    let stopped = false;
    const first = await runCli([...args, ...tracking], {
      onStderr: (stderr, child) => {
        if (!stopped && /t01\/train epoch 1\/2/.test(stderr)) stopped = child.kill('SIGINT');
      },
    });
    expect(first.code, first.stderr).toBe(130);
    const killed = oracleRuns(uri, 'runs-resumed');
    expect(trials(killed).map((r) => r.status)).toEqual(['KILLED']);
    const again = await runCli([...args, ...tracking]);
    expect(again.code, again.stderr).toBe(0);
    const runs = oracleRuns(uri, 'runs-resumed');
    expect(runs).toHaveLength(3);
    expect(trials(runs)[0]?.id).toBe(trials(killed)[0]?.id);
    expect(runs.map((r) => r.status)).toEqual(['FINISHED', 'FINISHED', 'FINISHED']);
    const histories = oracleHistories(
      uri,
      trials(runs).map((r) => r.id),
      ['loss', 'val_loss'],
    );
    for (const r of trials(runs)) {
      expect(
        histories[r.id]?.loss?.map(([step]) => step),
        r.name,
      ).toEqual([0, 1]);
      expect(
        histories[r.id]?.val_loss?.map(([step]) => step),
        r.name,
      ).toEqual([0, 1]);
    }
  });

  describe('behind a network that loses the answer to runs/create', () => {
    let proxy: Awaited<ReturnType<typeof startLossyProxy>>;
    beforeAll(async () => {
      proxy = await startLossyProxy(uri, (method, url) => method === 'POST' && url.endsWith('/runs/create'));
    });
    afterAll(() => proxy.close());

    it('the run the lost request created is found by its local id: no second run, none left RUNNING', async () => {
      const lossy = trackedProject(1);
      const result = await run(['run', lossy.sweep, '--workspace', lossy.ws, '--experiment', 'runs-lossy'], proxy.uri);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toMatch(/tracking:/);
      expect(proxy.dropped()).toBe(1);
      const runs = oracleRuns(uri, 'runs-lossy');
      expect(runs).toHaveLength(3);
      expect(new Set(runs.map((r) => r.tags['pipeline.localRunId'])).size).toBe(3);
      expect(runs.map((r) => r.status)).toEqual(['FINISHED', 'FINISHED', 'FINISHED']);
    });
  });
});
