import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { MLFLOW_VENV } from './mlflow-server.js';

/** A run as MLflow's official Python client returns it (`MlflowClient.search_runs`). */
export interface OracleRun {
  id: string;
  name: string;
  status: string;
  user: string;
  start: number;
  end: number | null;
  parent: string | null;
  tags: Record<string, string>;
  params: Record<string, string>;
  metrics: Record<string, number>;
  inputs: { name: string; digest: string; source: string; schema: string; profile: string; context: string[] }[];
  outputs: string[];
}

/**
 * Runs a Python snippet with MLflow's official client (`c` is an `MlflowClient` for `uri`, `json` is imported) and
 * returns what it prints on its last line, parsed as JSON. `env` adds variables (e.g. credentials).
 */
export function pythonOracle<T>(uri: string, body: string, env: Record<string, string> = {}, python?: string): T {
  const script = `import json, mlflow\nfrom mlflow import MlflowClient\nmlflow.set_tracking_uri(${JSON.stringify(uri)})\nc = MlflowClient()\n${body}`;
  const out = execFileSync(python ?? path.join(MLFLOW_VENV, 'bin', 'python'), ['-c', script], {
    env: { ...process.env, ...env, PYTHONWARNINGS: 'ignore', TF_CPP_MIN_LOG_LEVEL: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = out.toString().trim().split('\n');
  return JSON.parse(lines.at(-1) ?? 'null') as T;
}

/** Every run of an experiment, with times, tags, params, latest metrics, data set inputs and model outputs. */
export function oracleRuns(uri: string, experiment: string, env: Record<string, string> = {}): OracleRun[] {
  return pythonOracle<OracleRun[]>(
    uri,
    `exp = c.get_experiment_by_name(${JSON.stringify(experiment)})
runs = c.search_runs([exp.experiment_id], max_results=1000)
print(json.dumps([{
  'id': r.info.run_id, 'name': r.info.run_name, 'status': r.info.status, 'user': r.info.user_id,
  'start': r.info.start_time, 'end': r.info.end_time, 'parent': r.data.tags.get('mlflow.parentRunId'),
  'tags': r.data.tags, 'params': r.data.params, 'metrics': r.data.metrics,
  'inputs': [{'name': d.dataset.name, 'digest': d.dataset.digest, 'source': d.dataset.source,
              'schema': d.dataset.schema, 'profile': d.dataset.profile,
              'context': [t.value for t in d.tags if t.key == 'mlflow.data.context']}
             for d in r.inputs.dataset_inputs],
  'outputs': [o.model_id for o in (r.outputs.model_outputs if r.outputs else [])],
} for r in runs]))`,
    env,
  );
}

/** Every point of the named metrics of some runs: run id → key → [step, value, timestamp][]. */
export function oracleHistories(
  uri: string,
  runIds: string[],
  keys: string[],
): Record<string, Record<string, [number, number, number][]>> {
  return pythonOracle(
    uri,
    `print(json.dumps({run: {key: [[m.step, m.value, m.timestamp] for m in c.get_metric_history(run, key)]
  for key in ${JSON.stringify(keys)}} for run in ${JSON.stringify(runIds)}}))`,
  );
}
