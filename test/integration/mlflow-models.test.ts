import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForMlflow } from '../helpers/mlflow-server.js';
import { oracleRuns, pythonOracle } from '../helpers/mlflow-oracle.js';
import { runCli } from '../helpers/run-cli.js';
import { storedNodes, trackedProject } from '../helpers/tracked-project.js';

// The run's MLflow server (test/global-setup.ts); experiments and registered models are named per test.
const sharedUri = inject('mlflowUri');
const skipReason = inject('mlflowSkip');
if (skipReason) console.warn(`MLflow integration tests skipped: ${skipReason}`);

/**
 * A Python with MLflow, TensorFlow and tf-keras, for the `python_function` flavour (see docs/tracking.md): too big
 * an install for CI, so this check runs where one is named.
 */
const pyfuncPython = process.env.PIPELINE_PYFUNC_PYTHON;
if (!pyfuncPython)
  console.warn('pyfunc check skipped: set PIPELINE_PYFUNC_PYTHON to a python with mlflow + tensorflow');

interface OracleModel {
  id: string;
  name: string;
  status: string;
  type: string;
  run: string;
  metrics: { key: string; dataset: string | null; run: string }[];
}

describe.skipIf(sharedUri === null)('trial models in MLflow (official Python client)', () => {
  const uri = sharedUri ?? '';
  beforeAll(() => waitForMlflow(uri));
  const project = trackedProject(2);
  const ws = ['--workspace', project.ws];
  const tracking = ['--tracking-uri', uri, '--experiment', 'models'];
  const models = () =>
    pythonOracle<OracleModel[]>(
      uri,
      `exp = c.get_experiment_by_name('models')
print(json.dumps([{'id': m.model_id, 'name': m.name, 'status': str(m.status), 'type': m.model_type,
  'run': m.source_run_id, 'metrics': [{'key': x.key, 'dataset': x.dataset_name, 'run': x.run_id} for x in m.metrics or []]}
  for m in mlflow.search_logged_models(experiment_ids=[exp.experiment_id], output_format='list')]))`,
    );

  it('logs each trial model as a LoggedModel with an MLmodel, and --register puts the best in the registry', async () => {
    const result = await runCli(['run', project.sweep, ...ws, ...tracking, '--register', 'mask-classifier']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/tracking: registered mask-classifier version 1 \(models:\/mask-classifier\/1\)/);
    const runs = oracleRuns(uri, 'models');
    const trials = runs.filter((r) => r.parent);
    const logged = models();
    expect(logged.map((m) => m.name).sort()).toEqual(['sweep-t01', 'sweep-t02']);
    for (const model of logged) {
      const source = trials.find((r) => r.id === model.run);
      expect(model).toMatchObject({ status: 'READY', type: 'tfjs' });
      expect(source?.outputs).toEqual([model.id]);
      const linked = model.metrics.filter((m) => m.key === 'evaluate.accuracy');
      expect(linked).toEqual([{ key: 'evaluate.accuracy', dataset: 'data-val', run: source?.id }]);
    }
    const best = runs.find((r) => !r.parent)?.tags['pipeline.best.runId'];
    const info = pythonOracle<{ version: string; source: string; run: string; flavors: string[]; inputs: string }>(
      uri,
      `v = c.get_model_version('mask-classifier', '1')
i = mlflow.models.get_model_info('models:/mask-classifier/1')
print(json.dumps({'version': v.version, 'source': v.source, 'run': v.run_id, 'flavors': sorted(i.flavors),
  'inputs': str(i.signature.inputs)}))`,
    );
    const bestModel = logged.find((m) => m.run === best);
    expect(info).toEqual({
      version: '1',
      source: `models:/${bestModel?.id ?? ''}`,
      run: best,
      flavors: ['python_function', 'tfjs'],
      inputs: "[Tensor('uint8', (-1, 16, 16, 3))]",
    });
  });

  it('pipeline register adds a trial once; predict --model uses the registered model as --sweep uses the workspace', async () => {
    const t02 = await runCli(['register', project.sweep, 'mask-classifier', '--trial', 't02', ...ws, ...tracking]);
    expect(t02.code, t02.stderr).toBe(0);
    expect(t02.stdout).toBe('models:/mask-classifier/2\n');
    const again = await runCli(['register', project.sweep, 'mask-classifier', '--trial', 't02', ...ws, ...tracking]);
    expect(again.stdout).toBe('models:/mask-classifier/2\n');
    const versions = pythonOracle<string[]>(
      uri,
      `print(json.dumps(sorted(v.version for v in c.search_model_versions("name='mask-classifier'"))))`,
    );
    expect(versions).toEqual(['1', '2']);

    const data = path.join(project.dir, 'data');
    const fromRegistry = path.join(project.dir, 'registry.csv');
    const fromWorkspace = path.join(project.dir, 'workspace.csv');
    const registered = await runCli(['predict', data, '--model', 'models:/mask-classifier/2', '--out', fromRegistry], {
      env: { MLFLOW_TRACKING_URI: uri },
    });
    expect(registered.code, registered.stderr).toBe(0);
    const local = await runCli([
      'predict',
      data,
      '--sweep',
      project.sweep,
      '--trial',
      't02',
      ...ws,
      '--out',
      fromWorkspace,
    ]);
    expect(local.code, local.stderr).toBe(0);
    expect(readFileSync(fromRegistry, 'utf8')).toBe(readFileSync(fromWorkspace, 'utf8'));
    expect(registered.stdout).toBe(local.stdout.replace(fromWorkspace, fromRegistry));

    const missing = await runCli(['predict', data, '--model', 'models:/mask-classifier/9', '--tracking-uri', uri]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^pipeline: models:\/mask-classifier\/9: not in the MLflow registry at http/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.skipIf(!pyfuncPython)(
    'the python_function flavour loads with mlflow.pyfunc and predicts as evaluate did',
    async () => {
      const nodes = await storedNodes(project);
      const evaluate = nodes.get('t02/evaluate')?.dir ?? '';
      const split = nodes.get('split')?.dir ?? '';
      expect(existsSync(path.join(evaluate, 'predictions.csv'))).toBe(true);
      const result = pythonOracle<{ files: string[]; p: number[] }>(
        uri,
        `import numpy as np
model = mlflow.pyfunc.load_model('models:/mask-classifier/2')
header = json.load(open(${JSON.stringify(path.join(split, 'val.json'))}))
pixels = np.fromfile(${JSON.stringify(path.join(split, 'val.bin'))}, dtype=np.uint8).reshape([-1] + header['shape'])
print(json.dumps({'files': header['files'], 'p': [float(x) for x in model.predict(pixels).reshape(-1)]}))`,
        {},
        pyfuncPython,
      );
      const rows = readFileSync(path.join(evaluate, 'predictions.csv'), 'utf8').trim().split('\n').slice(1);
      const expected = new Map(rows.map((row) => row.split(',')).map(([file, , label, conf]) => [file, [label, conf]]));
      result.files.forEach((file, i) => {
        const p = result.p[i] ?? NaN;
        const [label, confidence] = expected.get(file) ?? [];
        expect(p >= 0.5 ? 'without_mask' : 'with_mask', file).toBe(label);
        expect(Math.abs((p >= 0.5 ? p : 1 - p) - Number(confidence)), file).toBeLessThan(1e-4);
      });
    },
  );
});
