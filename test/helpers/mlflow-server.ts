import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ROOT, tempDir } from './temp-project.js';

/** The venv `.ci/run` installs MLflow into. */
export const MLFLOW_VENV = path.join(ROOT, '.venv-mlflow');

/**
 * Why the MLflow tests cannot run here, or undefined when they can. Under CI a missing venv is an error rather
 * than a skip, so a broken install step can never pass as green.
 */
export function mlflowUnavailable(): string | undefined {
  if (existsSync(path.join(MLFLOW_VENV, 'bin', 'mlflow'))) return undefined;
  const reason = `${MLFLOW_VENV} is missing (bash .ci/run creates it: python3 -m venv .venv-mlflow && pip install mlflow)`;
  if (process.env.CI) throw new Error(`MLflow integration tests cannot run under CI: ${reason}`);
  return reason;
}

/** A real MLflow server on a free port with a SQLite store and proxied artifacts in a temp folder. */
export interface MlflowServer {
  uri: string;
  dir: string;
  /** Stops the server (its whole process group). */
  stop(): Promise<void>;
  /** Starts it again on the same port and store, e.g. after a simulated outage. */
  restart(): Promise<void>;
}

/** How to start a server: wait for it or not, an `--app-name` (e.g. `basic-auth`), extra environment. */
export interface MlflowServerOptions {
  waitUntilHealthy?: boolean;
  appName?: string;
  env?: Record<string, string>;
}

/**
 * Starts `mlflow server` and waits until `/health` answers, or, with `waitUntilHealthy: false`, only launches it
 * (it takes seconds to boot): whoever uses it then waits with {@link waitForMlflow}.
 */
export async function startMlflowServer(options: MlflowServerOptions = {}): Promise<MlflowServer> {
  const dir = tempDir('pipeline-mlflow-');
  mkdirSync(path.join(dir, 'artifacts'));
  const port = await freePort();
  const uri = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(
      path.join(MLFLOW_VENV, 'bin', 'mlflow'),
      [
        'server',
        ...['--host', '127.0.0.1', '--port', String(port), '--workers', '1'],
        ...['--backend-store-uri', `sqlite:///${path.join(dir, 'mlflow.db')}`],
        ...['--serve-artifacts', '--artifacts-destination', path.join(dir, 'artifacts')],
        ...(options.appName ? ['--app-name', options.appName] : []),
      ],
      // Job execution starts a pool of background consumers MLflow's GenAI features need; tracking does not.
      {
        cwd: dir,
        detached: true,
        stdio: 'ignore',
        env: { ...process.env, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false', ...options.env },
      },
    );
    if (options.waitUntilHealthy !== false) await waitHealthy(uri, child, 120_000);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running?.pid || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    process.kill(-running.pid, 'SIGTERM');
    const timer = setTimeout(() => running.pid && process.kill(-running.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    await waitPortFree(port);
  };
  await start();
  return {
    uri,
    dir,
    stop,
    restart: async () => {
      await start();
      if (child) await waitHealthy(uri, child, 120_000);
    },
  };
}

/** Waits until the MLflow server at `uri` answers `/health`. */
export async function waitForMlflow(uri: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${uri}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`mlflow server at ${uri} not healthy after ${timeoutMs} ms`);
}

async function waitHealthy(uri: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mlflow server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${uri}/health`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`mlflow server at ${uri} not healthy after ${timeoutMs} ms`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitPortFree(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const busy = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (!busy) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** An in-memory stand-in for the MLflow endpoints the sink uses, with a switch to make it go down. */
export interface FakeMlflow {
  fetch: typeof fetch;
  runs: Map<string, FakeRun>;
  models: Map<string, FakeModel>;
  /** Requests answered before the server "goes down" (connection refused). */
  failAfter: number;
}

export interface FakeRun {
  id: string;
  name: string;
  tags: Record<string, string>;
  params: Record<string, string>;
  metrics: { key: string; step: number; timestamp: number; value: unknown; model_id?: string }[];
  artifacts: string[];
  inputs: unknown[];
  outputs: string[];
}

/** A logged model the fake holds: its tags, uploaded files and status. */
export interface FakeModel {
  id: string;
  tags: Record<string, string>;
  files: string[];
  status: string;
}

/** A fake server: params are write-once and equal metric points are stored once, as MLflow's SQL store does. */
export function createFakeMlflow(): FakeMlflow {
  const runs = new Map<string, FakeRun>();
  const models = new Map<string, FakeModel>();
  let served = 0;
  const fake: FakeMlflow = { runs, models, failAfter: Infinity, fetch: undefined as unknown as typeof fetch };
  const pairs = (list: unknown) =>
    Object.fromEntries(((list as { key: string; value: string }[] | undefined) ?? []).map((t) => [t.key, t.value]));
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });
  const handle = (route: string, method: string, body: Record<string, unknown>): Response => {
    if (route.startsWith('experiments/get-by-name')) return json({ experiment: { experiment_id: '1' } });
    if (route === 'runs/search') {
      const id = /= '(.*)'$/.exec(String(body.filter))?.[1];
      return json({ runs: [...runs.values()].filter((r) => r.tags['pipeline.localRunId'] === id).map(info) });
    }
    if (route === 'runs/create') {
      const id = `run${runs.size + 1}`;
      const run = { id, name: String(body.run_name), tags: pairs(body.tags), params: {}, metrics: [], artifacts: [] };
      runs.set(id, { ...run, inputs: [], outputs: [] });
      return json({ run: info(run) });
    }
    const model = handleModel(route, method, body);
    if (model) return model;
    const runId = route.startsWith('runs/get?') ? new URLSearchParams(route.slice(9)).get('run_id') : body.run_id;
    const run = runs.get(String(runId));
    if (route.startsWith('runs/get?') && run) return json({ run: info(run) });
    if (route === 'runs/log-inputs' && run) return (run.inputs.push(...(body.datasets as unknown[])), json({}));
    if (route === 'runs/outputs' && run) {
      run.outputs.push(...(body.models as { model_id: string }[]).map((m) => m.model_id));
      return json({});
    }
    if (route === 'runs/log-batch' && run) return logBatch(run, body);
    if (route === 'runs/update' && run) return json({});
    const artifact = /^artifacts\/1\/(run\d+)\/artifacts\/(.*)$/.exec(route);
    if (method === 'PUT' && artifact) {
      runs.get(artifact[1] ?? '')?.artifacts.push(decodeURIComponent(artifact[2] ?? ''));
      return json({});
    }
    const modelFile = /^artifacts\/1\/models\/(m-\d+)\/artifacts\/(.*)$/.exec(route);
    if (method === 'PUT' && modelFile) {
      models.get(modelFile[1] ?? '')?.files.push(decodeURIComponent(modelFile[2] ?? ''));
      return json({});
    }
    return json({ error_code: 'ENDPOINT_NOT_FOUND', message: route }, 404);
  };
  const handleModel = (route: string, method: string, body: Record<string, unknown>): Response | undefined => {
    if (route === 'logged-models/search') {
      const wanted = /= '(.*)'$/.exec(String(body.filter))?.[1];
      const found = [...models.values()].filter((m) => m.tags['pipeline.localModelId'] === wanted);
      return json({ models: found.map(modelInfo) });
    }
    if (route === 'logged-models' && method === 'POST') {
      const created = { id: `m-${models.size + 1}`, tags: pairs(body.tags), files: [], status: 'PENDING' };
      models.set(created.id, created);
      return json({ model: modelInfo(created) });
    }
    const finalize = /^logged-models\/(m-\d+)$/.exec(route);
    const found = finalize && models.get(finalize[1] ?? '');
    if (method === 'PATCH' && found) return ((found.status = String(body.status)), json({ model: modelInfo(found) }));
    return undefined;
  };
  const logBatch = (run: FakeRun, body: Record<string, unknown>): Response => {
    for (const param of (body.params as { key: string; value: string }[] | undefined) ?? []) {
      const old = run.params[param.key];
      if (old !== undefined && old !== param.value) {
        return json({ error_code: 'INVALID_PARAMETER_VALUE', message: `Changing param values is not allowed` }, 400);
      }
      run.params[param.key] = param.value;
    }
    for (const tag of (body.tags as { key: string; value: string }[] | undefined) ?? []) run.tags[tag.key] = tag.value;
    for (const metric of (body.metrics as FakeRun['metrics'] | undefined) ?? []) {
      const same = run.metrics.some((m) => JSON.stringify(m) === JSON.stringify(metric));
      if (!same) run.metrics.push(metric);
    }
    return json({});
  };
  fake.fetch = ((url: string, init?: RequestInit) => {
    if (served++ >= fake.failAfter) {
      return Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));
    }
    const route = url.replace(/^http:\/\/fake\/api\/2\.0\/mlflow(-artifacts)?\//, '');
    const text = typeof init?.body === 'string' ? init.body : '{}';
    return Promise.resolve(handle(route, init?.method ?? 'GET', JSON.parse(text) as Record<string, unknown>));
  }) as unknown as typeof fetch;
  return fake;
}

function modelInfo(model: FakeModel) {
  const tags = Object.entries(model.tags).map(([key, value]) => ({ key, value }));
  const location = `mlflow-artifacts:/1/models/${model.id}/artifacts`;
  return {
    info: { model_id: model.id, experiment_id: '1', name: 'm', status: model.status, artifact_uri: location, tags },
  };
}

function info(run: Pick<FakeRun, 'id' | 'name' | 'tags'> & { outputs?: string[] }) {
  return {
    info: {
      run_id: run.id,
      experiment_id: '1',
      run_name: run.name,
      status: 'RUNNING',
      artifact_uri: `mlflow-artifacts:/1/${run.id}/artifacts`,
    },
    data: { tags: Object.entries(run.tags).map(([key, value]) => ({ key, value })) },
    outputs: { model_outputs: (run.outputs ?? []).map((model_id) => ({ model_id })) },
  };
}
