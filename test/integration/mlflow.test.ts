import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkspaceStore } from '../../src/store/workspace-store.js';
import { Journal } from '../../src/tracking/journal.js';
import { MlflowSink } from '../../src/tracking/mlflow-sink.js';
import { MLFLOW_VENV, startMlflowServer, waitForMlflow, type MlflowServer } from '../helpers/mlflow-server.js';
import { runCli } from '../helpers/run-cli.js';
import { trackedProject } from '../helpers/tracked-project.js';
import { tempDir } from '../helpers/temp-project.js';

// The run's MLflow server (test/global-setup.ts); experiments are named per test.
const sharedUri = inject('mlflowUri');
const skipReason = inject('mlflowSkip');
if (skipReason) console.warn(`MLflow integration tests skipped: ${skipReason}`);

interface RunJson {
  info: { run_id: string; run_name: string; status: string; artifact_uri: string };
  data: { params?: { key: string; value: string }[]; tags?: { key: string; value: string }[] };
}

describe.skipIf(sharedUri === null)('MLflow tracking against a real server', () => {
  const uri = sharedUri ?? '';
  // The outage test stops and restarts its server, so it has one of its own, booting while the tests before it run.
  let outageServer: Promise<MlflowServer>;
  beforeAll(async () => {
    outageServer = startMlflowServer({ waitUntilHealthy: false });
    await waitForMlflow(uri);
  });
  afterAll(async () => (await outageServer).stop());
  const api = async (route: string, body?: unknown, base = uri): Promise<Record<string, unknown>> => {
    const response = await fetch(`${base}/api/2.0/mlflow/${route}`, {
      method: body === undefined ? 'GET' : 'POST',
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok) throw new Error(`${route}: ${JSON.stringify(json)}`);
    return json;
  };
  const runsOf = async (experiment: string, base = uri): Promise<RunJson[]> => {
    const query = new URLSearchParams({ experiment_name: experiment }).toString();
    const found = (await api(`experiments/get-by-name?${query}`, undefined, base)) as {
      experiment: { experiment_id: string };
    };
    const search = { experiment_ids: [found.experiment.experiment_id], max_results: 1000 };
    const answer = await api('runs/search', search, base);
    return (answer.runs as RunJson[] | undefined) ?? [];
  };
  const tag = (run: RunJson, key: string) => run.data.tags?.find((t) => t.key === key)?.value;
  const history = async (runId: string, key: string, base = uri) => {
    const query = new URLSearchParams({ run_id: runId, metric_key: key }).toString();
    const answer = await api(`metrics/get-history?${query}`, undefined, base);
    return ((answer.metrics as { step: string | number; value: number }[] | undefined) ?? []).map((m) => ({
      step: Number(m.step),
      value: m.value,
    }));
  };
  const cli = (args: string[], trackingUri = uri, onStderr?: (text: string) => void) =>
    runCli([...args, '--tracking-uri', trackingUri], onStderr ? { onStderr } : {});

  /** Every metric point of every journaled run is in MLflow exactly once, with its step. */
  const expectJournalInMlflow = async (ws: string, base = uri) => {
    const views = journalOf(ws).fold();
    const sinks = readJournalSinks(ws);
    for (const view of views.values()) {
      const runId = sinks[view.id];
      expect(runId, view.id).toBeDefined();
      for (const [key, points] of Object.entries(view.metrics)) {
        const stored = await history(runId ?? '', key, base);
        expect(stored.map((p) => p.step).sort(), `${view.id} ${key}`).toEqual(points.map((p) => p.step).sort());
      }
    }
  };

  const project = trackedProject(2);
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
    expect(tag(parent, 'mlflow.user')).toBeTruthy();
    expect(tag(parent, 'pipeline.best.trial')).toMatch(/^t0[12]$/);
    expect(parent.data.params?.find((p) => p.key === 'ingest.imageSize')?.value).toBe('16');
    for (const child of children) {
      expect(child.info.status).toBe('FINISHED');
      const optimizer = child.data.params?.find((p) => p.key === 'train.optimizer')?.value;
      expect(child.info.run_name).toBe(`optimizer=${optimizer}`);
      expect((await history(child.info.run_id, 'val_accuracy')).map((p) => p.step)).toEqual([0, 1]);
      expect(await history(child.info.run_id, 'evaluate.macro_f1')).toHaveLength(1);
    }
    const adam = children.find((run) => run.info.run_name === 'optimizer=adam') as RunJson;
    const listed = await api(
      `artifacts/list?${new URLSearchParams({ run_id: adam.info.run_id, path: 'evaluate' }).toString()}`,
    );
    expect((listed.files as { path: string }[]).map((f) => f.path)).toContain('evaluate/report.txt');
    const proxied = adam.info.artifact_uri.replace(/^mlflow-artifacts:\/*/, '');
    const download = await fetch(`${uri}/api/2.0/mlflow-artifacts/artifacts/${proxied}/evaluate/report.txt`);
    const doc = (await (await fetch(`${uri}/api/2.0/mlflow-artifacts/artifacts/${proxied}/pipeline.json`)).json()) as {
      stages: Record<string, { cacheKey: string }>;
    };
    const cacheKey = Object.entries(doc.stages).find(([id]) => id.endsWith('/evaluate'))?.[1].cacheKey ?? '';
    expect(await download.text()).toBe(readFileSync(path.join(project.ws, 'nodes', cacheKey, 'report.txt'), 'utf8'));
    await expectJournalInMlflow(project.ws);
  });

  it('a cached re-run adds nothing; rerun of a stage opens a new child run `… #2` tagged pipeline.rerunOf', async () => {
    const journal = readFileSync(journalOf(project.ws).file, 'utf8');
    const again = await cli(['run', project.sweep, ...flags]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(journalOf(project.ws).file, 'utf8')).toBe(journal);
    expect(await runsOf('face-mask-live')).toHaveLength(3);
    const rerun = await cli(['rerun', project.sweep, '--stage', 'evaluate', '--trial', 't01', ...flags]);
    expect(rerun.code, rerun.stderr).toBe(0);
    const runs = await runsOf('face-mask-live');
    expect(runs).toHaveLength(4);
    const first = runs.find((run) => tag(run, 'pipeline.trial') === 't01' && !tag(run, 'pipeline.attempt'));
    const second = runs.find((run) => tag(run, 'pipeline.trial') === 't01' && tag(run, 'pipeline.attempt') === '2');
    expect(second?.info.run_name).toBe(`${first?.info.run_name ?? ''} #2`);
    expect(tag(second as RunJson, 'pipeline.rerunOf')).toBe(first?.info.run_id);
    expect(tag(second as RunJson, 'pipeline.cached')).toBe('train visualize');
    expect((await history(second?.info.run_id ?? '', 'val_accuracy')).map((p) => p.step)).toEqual([0, 1]);
    const show = await runCli(['show', 't01', '--workspace', project.ws]);
    expect(show.stdout).toMatch(/pipeline\.rerunOf = → .*\/t01\n/);
    expect(show.stdout).toMatch(/data sets:\n {2}train: data-train \([0-9a-f]{16}\)\n {2}val: data-val/);
    expect(show.stdout).toMatch(/models:\n {2}sweep-t01 \(3 files\)\n/);
  });

  it('with the server down the sweep succeeds and journals; sync sends it once; the Python client agrees', async () => {
    const offline = trackedProject(1);
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
    const synced = await runCli(['sync', '--workspace', offline.ws, '--tracking-uri', uri]);
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.stderr).toMatch(/3 runs created/);
    const twice = await runCli(['sync', '--workspace', offline.ws, '--tracking-uri', uri]);
    expect(twice.stderr).toMatch(/0 records sent, 0 runs created/);
    await expectJournalInMlflow(offline.ws);
    const python = execFileSync(path.join(MLFLOW_VENV, 'bin', 'python'), [
      '-c',
      `import mlflow; mlflow.set_tracking_uri('${uri}'); df = mlflow.search_runs(experiment_names=['face-mask-offline']); print(len(df), int(df['tags.mlflow.parentRunId'].notna().sum()))`,
    ]).toString();
    expect(python.trim()).toBe('3 2');
  });

  it('a server stopped mid-sweep and restarted: after sync every metric point is there exactly once', async () => {
    const server = await outageServer;
    await waitForMlflow(server.uri);
    const outage = trackedProject(3);
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
    const runs = await runsOf('face-mask-outage', server.uri);
    expect(runs).toHaveLength(3);
    for (const run of runs.filter((r) => tag(r, 'pipeline.trial'))) {
      expect((await history(run.info.run_id, 'loss', server.uri)).map((p) => p.step)).toEqual([0, 1, 2]);
    }
    await expectJournalInMlflow(outage.ws, server.uri);
  });

  it('a refused record and a server without artifact proxying are one-line errors that lose nothing', async () => {
    const runs = await runsOf('face-mask-live');
    const t02 = runs.find((run) => tag(run, 'pipeline.trial') === 't02') as RunJson;
    // Log the journal's next param under another value first, so MLflow refuses the journal's one.
    await api('runs/log-batch', { run_id: t02.info.run_id, params: [{ key: 'train.extra', value: 'other' }] });
    const journal = journalOf(project.ws).file;
    const line = { t: 'log', id: tagless(project.ws, 't02'), params: { 'train.extra': 'mine' } };
    const metric = { t: 'log', id: line.id, metrics: [{ key: 'late', value: 1, step: 7, timestamp: 1 }] };
    writeFileSync(
      journal,
      `${readFileSync(journal, 'utf8')}${JSON.stringify(line)}\n${JSON.stringify(metric)}\n{"t":"lo`,
    );
    const sync = await runCli(['sync', '--workspace', project.ws, '--tracking-uri', uri]);
    expect(sync.code).toBe(4);
    expect(sync.stderr).toMatch(/dropped an incomplete last journal line/);
    expect(sync.stderr).toMatch(/1 journal record\(s\) refused.*INVALID_PARAMETER_VALUE.*Changing param values/);
    expect((await history(t02.info.run_id, 'late')).map((p) => p.step)).toEqual([7]);

    const created = await api('experiments/create', {
      name: 'local-store',
      artifact_location: path.join(tempDir('pipeline-mlflow-'), 'plain'),
    });
    const offline = trackedProject(1);
    const run = await cli(['run', offline.sweep, '--workspace', offline.ws, '--experiment', 'local-store']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/does not proxy artifacts .* start it with --serve-artifacts/);
    expect(created.experiment_id).toBeDefined();
  });
});

function journalOf(ws: string): Journal {
  return new Journal(new WorkspaceStore(ws).trackingPaths().journal);
}

function readJournalSinks(ws: string): Record<string, string> {
  const sinks = MlflowSink.list(new WorkspaceStore(ws).trackingPaths());
  return Object.fromEntries(sinks.flatMap((sink) => Object.entries(sink.runIds)));
}

function tagless(ws: string, trial: string): string {
  const views = journalOf(ws).fold();
  return [...views.values()].filter((view) => view.tags['pipeline.trial'] === trial).at(-1)?.id ?? '';
}
