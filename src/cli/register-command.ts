import { PipelineError } from '../errors.js';
import { collectTrialRows, readStoredKnowledge } from '../orchestrator/trial-results.js';
import { registerTrialModel } from '../tracking/open-tracking.js';
import { openSweep, type SweepCommandOptions } from './open-sweep.js';

export interface RegisterOptions extends SweepCommandOptions {
  trial: string;
  trackingUri?: string;
  experiment?: string;
}

/**
 * `pipeline register <sweep> <name>`: registers the model a trial's run logged (the best trial by default) as a
 * version of `name` in the MLflow Model Registry, and prints `models:/<name>/<version>`. A model registered under
 * that name before is not registered twice.
 */
export async function registerCommand(sweepFile: string, name: string, options: RegisterOptions): Promise<number> {
  if (!options.trackingUri)
    throw new PipelineError('USAGE', 'register needs --tracking-uri URL (or MLFLOW_TRACKING_URI)');
  const { sweep, plan, store } = await openSweep(sweepFile, options);
  const rows = collectTrialRows(plan, await readStoredKnowledge(plan, store));
  const row = options.trial === 'best' ? rows.find((r) => r.best) : rows.find((r) => r.id === options.trial);
  if (!row) {
    const reason =
      options.trial === 'best'
        ? 'no trial has finished yet; run the sweep first'
        : `the sweep has no trial ${options.trial}`;
    throw new PipelineError('NOT_FOUND', `--trial ${options.trial}: ${reason}`);
  }
  const { uri, version } = await registerTrialModel({
    sweep,
    plan,
    store,
    experiment: options.experiment,
    trackingUri: options.trackingUri,
    trialId: row.id,
    name,
  });
  process.stderr.write(`registered trial ${row.id} (${row.label}) as ${name} version ${version} in ${uri}\n`);
  process.stdout.write(`models:/${name}/${version}\n`);
  return 0;
}
