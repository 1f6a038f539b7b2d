import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalPath, readJournal } from '../../src/tracking/journal.js';
import { foldJournal } from '../../src/tracking/journal-view.js';
import { mlflowUnavailable, MLFLOW_VENV, startMlflowServer, type MlflowServer } from '../helpers/mlflow-server.js';
import { runCli } from '../helpers/run-cli.js';
import { copySample, pipelineYaml, tempDir, writeFiles } from '../helpers/temp-project.js';

const skipReason = mlflowUnavailable();
if (skipReason) console.warn(`MLflow integration tests skipped: ${skipReason}`);

interface RunJson {
  info: { run_id: string; run_name: string; status: string; artifact_uri: string };
  data: { params?: { key: string; value: string }[]; tags?: { key: string; value: string }[] };
}

/** A project with a 2-trial sweep (adam vs rmsprop), `epochs` epochs on 16 images per class. */
function makeProject(epochs: number): { dir: string; sweep: string; ws: string } {
  const dir = tempDir();
  copySample(path.join(dir, 'data'), 16);
  writeFiles(dir, {
    'pipeline.yaml': pipelineYaml('data').replace('epochs: 1', `epochs: ${epochs}`),
    'sweep.yaml': 'pipeline: pipeline.yaml\ngrid:\n  train.optimizer: [adam, rmsprop]\n',
  });
  return { dir, sweep: path.join(dir, 'sweep.yaml'), ws: path.join(dir, 'ws') };
}

describe.skipIf(skipReason !== undefined)('MLflow tracking against a real server', () => {
  let server: MlflowServer;
  const api = async (route: string, body?: unknown): Promise<Record<string, unknown>> => {
    const response = await fetch(`${server.uri}/api/2.0/mlflow/${route}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${route}: ${JSON.stringify(json)}`);
    return json;
  };
  const runsOf = async (experiment: string): Promise<RunJson[]> => {
    const query = new URLSearchParams({ experiment_name: experiment }).toString();
    const found = (await api(`experiments/get-by-name?${query}`)) as { experiment: { experiment_id: string } };
    const answer = await api('runs/search', { experiment_ids: [found.experiment.experiment_id], max_results: 1000 });
    return (answer.runs as RunJson[] | undefined) ?? [];
  };
  const tag = (run: RunJson, key: string) => run.data.tags?.find((t) => t.key === key)?.value;
  const history = async (runId: string, key: string) => {
    const query = new URLSearchParams({ run_id: runId, metric_key: key }).toString();
    const answer = await api(`metrics/get-history?${query}`);
    return ((answer.metrics as { step: string | number; value: number }[] | undefined) ?? []).map((m) => ({
      step: Number(m.step),
      value: m.value,
    }));
  };
  const cli = (args: string[], uri = server.uri, onStderr?: (text: string) => void) =>
    runCli([...args, '--tracking-uri', uri], onStderr ? { onStderr } : {});

  /** Every metric point of every journaled run is in MLflow exactly once, with its step. */
  const expectJournalInMlflow = async (ws: string) => {
    const views = foldJournal(readJournal(journalPath(ws)).records);
    const sinks = readJournalSinks(ws);
    for (const view of views.values()) {
      const runId = sinks[view.id];
      expect(runId, view.id).toBeDefined();
      for (const [key, points] of Object.entries(view.metrics)) {
        const stored = await history(runId ?? '', key);
        expect(stored.map((p) => p.step).sort(), `${view.id} ${key}`).toEqual(points.map((p) => p.step).sort());
      }
    }
  };

  beforeAll(async () => {
    server = await startMlflowServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const project = makeProject(2);
  const flags = ['--workspace', project.ws, '--parallel', '2', '--experiment', 'face-mask-live'];

  it('logs a sweep as one parent run with the trials nested, params, per-epoch metrics and artifacts', async () => {
    const result = await cli(['run', project.sweep, ...flags]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/tracking:/);
    const runs = await runsOf('face-mask-live');
    const parents = runs.filter((run) => !tag(run, 'mlflow.parentRunId'));
    expect(parents).toHaveLength(1);
    const parent = parents[0] as RunJson;
    const children = runs.filter((run) => tag(run, 'mlflow.parentRunId') === parent.info.run_id);
    expect(children.map((run) => run.info.run_name).sort()).toEqual(['optimizer=adam', 'optimizer=rmsprop']);
    expect(tag(parent, 'pipeline.grid')).toBe('{"train.optimizer":["adam","rmsprop"]}');
    expect(tag(parent, 'mlflow.user')).toBeTruthy();
    expect(tag(parent, 'pipeline.best.trial')).toMatch(/^t0[12]$/);
    expect(parent.data.params?.find((p) => p.key === 'ingest.imageSize')?.value).toBe('16');
    for (const child of children) {
      expect(child.info.status).toBe('FINISHED');
      const optimizer = child.data.params?.find((p) => p.key === 'train.optimizer')?.value;
      expect(child.info.run_name).toBe(`optimizer=${optimizer}`);
      expect(tag(child, 'pipeline.upstream.split.runId')).toBe(parent.info.run_id);
      expect(tag(child, 'pipeline.upstream.split.val_images')).toBe('8');
      expect((await history(child.info.run_id, 'val_accuracy')).map((p) => p.step)).toEqual([1, 2]);
      expect(await history(child.info.run_id, 'evaluate.macro_f1')).toHaveLength(1);
    }
    const adam = children.find((run) => run.info.run_name === 'optimizer=adam') as RunJson;
    const listed = await api(
      `artifacts/list?${new URLSearchParams({ run_id: adam.info.run_id, path: 'evaluate' }).toString()}`,
    );
    expect((listed.files as { path: string }[]).map((f) => f.path)).toContain('evaluate/report.txt');
    const proxied = adam.info.artifact_uri.replace(/^mlflow-artifacts:\/*/, '');
    const download = await fetch(`${server.uri}/api/2.0/mlflow-artifacts/artifacts/${proxied}/evaluate/report.txt`);
    const cacheKey = tag(adam, 'pipeline.evaluate.cacheKey') ?? '';
    expect(await download.text()).toBe(readFileSync(path.join(project.ws, 'nodes', cacheKey, 'report.txt'), 'utf8'));
    await expectJournalInMlflow(project.ws);
  });

  it('a cached re-run adds nothing; rerun of a stage opens a new child run tagged pipeline.rerunOf', async () => {
    const journal = readFileSync(journalPath(project.ws), 'utf8');
    const again = await cli(['run', project.sweep, ...flags]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(journalPath(project.ws), 'utf8')).toBe(journal);
    expect(await runsOf('face-mask-live')).toHaveLength(3);
    const rerun = await cli(['rerun', project.sweep, '--stage', 'evaluate', '--trial', 't01', ...flags]);
    expect(rerun.code, rerun.stderr).toBe(0);
    const runs = await runsOf('face-mask-live');
    expect(runs).toHaveLength(4);
    const first = runs.find((run) => tag(run, 'pipeline.trial') === 't01' && tag(run, 'pipeline.attempt') === '1');
    const second = runs.find((run) => tag(run, 'pipeline.trial') === 't01' && tag(run, 'pipeline.attempt') === '2');
    expect(tag(second as RunJson, 'pipeline.rerunOf')).toBe(first?.info.run_id);
    expect(tag(second as RunJson, 'pipeline.train.cached')).toBe('true');
    expect(tag(second as RunJson, 'pipeline.evaluate.cached')).toBe('false');
    expect((await history(second?.info.run_id ?? '', 'val_accuracy')).map((p) => p.step)).toEqual([1, 2]);
    const show = await runCli(['show', 't01', '--workspace', project.ws]);
    expect(show.stdout).toMatch(/pipeline\.rerunOf = → .*\/t01\n/);
  });

  it('with the server down the sweep succeeds and journals; sync sends it once; the Python client agrees', async () => {
    const offline = makeProject(1);
    const down = 'http://127.0.0.1:9';
    const ws = ['--workspace', offline.ws, '--experiment', 'face-mask-offline'];
    const result = await runCli(['run', offline.sweep, ...ws, '--tracking-uri', down]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.match(/unreachable/g)).toHaveLength(1);
    expect(result.stderr).toMatch(/pipeline sync --tracking-uri http:\/\/127\.0\.0\.1:9/);
    const failed = await runCli(['sync', '--workspace', offline.ws, '--tracking-uri', down]);
    expect(failed.code).toBe(4);
    expect(failed.stderr.trim().split('\n')).toHaveLength(1);
    const listing = await runCli(['runs', '--workspace', offline.ws]);
    expect(listing.stdout).toMatch(/t02 +optimizer=rmsprop +FINISHED/);
    const synced = await runCli(['sync', '--workspace', offline.ws, '--tracking-uri', server.uri]);
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.stderr).toMatch(/3 runs created/);
    const twice = await runCli(['sync', '--workspace', offline.ws, '--tracking-uri', server.uri]);
    expect(twice.stderr).toMatch(/0 records sent, 0 runs created/);
    await expectJournalInMlflow(offline.ws);
    const python = execFileSync(path.join(MLFLOW_VENV, 'bin', 'python'), [
      '-c',
      `import mlflow; mlflow.set_tracking_uri('${server.uri}'); df = mlflow.search_runs(experiment_names=['face-mask-offline']); print(len(df), int(df['tags.mlflow.parentRunId'].notna().sum()))`,
    ]).toString();
    expect(python.trim()).toBe('3 2');
  });

  it('a server stopped mid-sweep and restarted: after sync every metric point is there exactly once', async () => {
    const outage = makeProject(3);
    const args = ['run', outage.sweep, '--workspace', outage.ws, '--experiment', 'face-mask-outage', '--parallel', '1'];
    let stopping: Promise<void> | undefined;
    const result = await cli(args, server.uri, (stderr) => {
      if (!stopping && /t01\/train epoch 1\/3/.test(stderr)) stopping = server.stop();
    });
    await stopping;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr.match(/unreachable/g)).toHaveLength(1);
    await server.restart();
    const synced = await runCli(['sync', '--workspace', outage.ws, '--tracking-uri', server.uri]);
    expect(synced.code, synced.stderr).toBe(0);
    const runs = await runsOf('face-mask-outage');
    expect(runs).toHaveLength(3);
    for (const run of runs.filter((r) => tag(r, 'pipeline.trial'))) {
      expect((await history(run.info.run_id, 'loss')).map((p) => p.step)).toEqual([1, 2, 3]);
    }
    await expectJournalInMlflow(outage.ws);
  });

  it('a refused record and a server without artifact proxying are one-line errors that lose nothing', async () => {
    const runs = await runsOf('face-mask-live');
    const t02 = runs.find((run) => tag(run, 'pipeline.trial') === 't02') as RunJson;
    // Log the journal's next param under another value first, so MLflow refuses the journal's one.
    await api('runs/log-batch', { run_id: t02.info.run_id, params: [{ key: 'train.extra', value: 'other' }] });
    const journal = journalPath(project.ws);
    const line = { t: 'log', id: tagless(project.ws, 't02'), params: { 'train.extra': 'mine' } };
    const metric = { t: 'log', id: line.id, metrics: [{ key: 'late', value: 1, step: 7, timestamp: 1 }] };
    writeFileSync(
      journal,
      `${readFileSync(journal, 'utf8')}${JSON.stringify(line)}\n${JSON.stringify(metric)}\n{"t":"lo`,
    );
    const sync = await runCli(['sync', '--workspace', project.ws, '--tracking-uri', server.uri]);
    expect(sync.code).toBe(4);
    expect(sync.stderr).toMatch(/dropped an incomplete last journal line/);
    expect(sync.stderr).toMatch(/1 journal record\(s\) refused.*INVALID_PARAMETER_VALUE.*Changing param values/);
    expect((await history(t02.info.run_id, 'late')).map((p) => p.step)).toEqual([7]);

    const created = await api('experiments/create', {
      name: 'local-store',
      artifact_location: path.join(server.dir, 'plain'),
    });
    const offline = makeProject(1);
    const run = await cli(['run', offline.sweep, '--workspace', offline.ws, '--experiment', 'local-store']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/does not proxy artifacts .* start it with --serve-artifacts/);
    expect(created.experiment_id).toBeDefined();
  });
});

function readJournalSinks(ws: string): Record<string, string> {
  const dir = path.join(ws, 'tracking', 'sinks');
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
    const state = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as { runs: Record<string, { runId: string }> };
    for (const [id, entry] of Object.entries(state.runs)) out[id] = entry.runId;
  }
  return out;
}

function tagless(ws: string, trial: string): string {
  const views = foldJournal(readJournal(journalPath(ws)).records);
  return [...views.values()].filter((view) => view.tags['pipeline.trial'] === trial).at(-1)?.id ?? '';
}
